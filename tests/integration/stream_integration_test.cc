// GenerateStream through the real llm_gateway binary against fakellm: live
// relay, exact reassembly under hostile chunking, errors after the stream
// started, cancellation and deadlines reaching the upstream, 1,000 streams at
// once, and bounded memory behind a slow reader.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "server/common/sanitizers.h"
#include "tests/integration/fakellm_client.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

using ::llmgateway::testing::CallError;
using ::llmgateway::testing::Decode;
using ::llmgateway::testing::FakeLlmStat;
using ::llmgateway::testing::Subprocess;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateStreamResponse;

testing::Servers* const servers = testing::AddServers("stream");

GenerateRequest Prompt(const std::string& model, const std::string& prompt = "hi") {
  GenerateRequest request;
  request.set_model(model);
  request.set_prompt(prompt);
  return request;
}

// A whole stream, as a caller assembles it.
struct Collected {
  std::vector<GenerateStreamResponse> messages;
  std::string text;
  grpc::Status status;
};

Collected Collect(const GenerateRequest& request, absl::Duration timeout = absl::Seconds(30)) {
  auto stub = v1::Generation::NewStub(servers->channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)));
  auto reader = stub->GenerateStream(&context, request);
  Collected collected;
  GenerateStreamResponse message;
  while (reader->Read(&message)) {
    collected.text += message.text();
    collected.messages.push_back(message);
  }
  collected.status = reader->Finish();
  return collected;
}

int64_t NowUnixMs() { return absl::ToUnixMillis(absl::Now()); }

// Waits until fakellm has seen a client go away after `since_unix_ms`;
// returns when (unix ms), or -1.
int64_t WaitForUpstreamDisconnect(int64_t since_unix_ms) {
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (absl::Now() < give_up) {
    const int64_t at = FakeLlmStat(servers->fakellm->port(), "last_disconnect_unix_ms");
    if (at >= since_unix_ms) return at;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return -1;
}

TEST(StreamIntegrationTest, ADeltaTooLargeForADefaultClientComesInPieces) {
  // One 5 MiB token (no whitespace): a single upstream event, more than the
  // 4 MiB a default gRPC client accepts in one message.
  const std::string word(5 << 20, 'w');
  const Collected collected = Collect(Prompt("fake-model?text=" + word + "&tokens=1"));
  ASSERT_TRUE(collected.status.ok()) << collected.status.error_message();
  EXPECT_EQ(collected.text, word);
  EXPECT_GE(collected.messages.size(), 5u);
  for (const GenerateStreamResponse& m : collected.messages) {
    EXPECT_LE(m.text().size(), size_t{1} << 20);
  }
  EXPECT_NE(collected.messages.back().finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
}

TEST(StreamIntegrationTest, RelaysDeltasAndEndsWithFinishReasonAndUsage) {
  Collected c = Collect(Prompt("fake-model?tokens=6", "stream me"));
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  EXPECT_EQ(c.text, "Echo: stream me lorem ipsum dolor");
  ASSERT_GE(c.messages.size(), 2u);
  EXPECT_FALSE(c.messages.front().id().empty());
  EXPECT_EQ(c.messages.front().provider(), "openai");
  EXPECT_EQ(c.messages.front().model(), "fake-model");
  const GenerateStreamResponse& last = c.messages.back();
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(last.usage().completion_tokens(), 6);
  EXPECT_GT(last.usage().prompt_tokens(), 0);
  for (size_t i = 0; i + 1 < c.messages.size(); ++i) {
    EXPECT_EQ(c.messages[i].finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
  }
  auto sent = testing::FindRequest(servers->fakellm->port(), "stream me");
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(testing::JsonAt(sent->body, "/stream"), "true");
  EXPECT_EQ(testing::JsonAt(sent->body, "/stream_options/include_usage"), "true");
}

TEST(StreamIntegrationTest, ExactReassemblyUnderHostileChunking) {
  // h\u00e9llo \u4e16\u754c \U0001F600: 2-, 3- and 4-byte UTF-8, every byte in its own
  // TCP write, CRLF line ends, keep-alive comments between events.
  const std::string text = "h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x98\x80 end";
  Collected c = Collect(Prompt(
      "fake-model?chunk=1&crlf=1&comments=1&text=h%C3%A9llo%20%E4%B8%96%E7%95%8C%20%F0%9F%98%80%20end"));
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  EXPECT_EQ(c.text, text);
  EXPECT_EQ(c.messages.back().finish_reason(), v1::FINISH_REASON_STOP);
}

TEST(StreamIntegrationTest, FirstDeltaArrivesWhileUpstreamHoldsTheRestThenCancelReachesIt) {
  auto stub = v1::Generation::NewStub(servers->channel);
  grpc::ClientContext context;
  const absl::Time start = absl::Now();
  auto reader =
      stub->GenerateStream(&context, Prompt("fake-model?pause_after_first_ms=10000&tokens=5"));
  GenerateStreamResponse first;
  ASSERT_TRUE(reader->Read(&first));
  // fakellm holds the rest for 10 s; the first token came long before.
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
  EXPECT_EQ(first.text(), "Echo: ");

  const int64_t cancelled_at = NowUnixMs();
  context.TryCancel();
  const int64_t disconnected_at = WaitForUpstreamDisconnect(cancelled_at);
  ASSERT_GE(disconnected_at, 0) << "fakellm never saw the gateway go away";
  EXPECT_LE(disconnected_at - cancelled_at, 500);
  GenerateStreamResponse rest;
  while (reader->Read(&rest)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST(StreamIntegrationTest, ClientDeadlineAbortsTheUpstreamStream) {
  auto stub = v1::Generation::NewStub(servers->channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(1500));
  auto reader =
      stub->GenerateStream(&context, Prompt("fake-model?pause_after_first_ms=10000&tokens=5"));
  GenerateStreamResponse message;
  ASSERT_TRUE(reader->Read(&message));
  while (reader->Read(&message)) {
  }
  const int64_t expired_at = NowUnixMs();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  const int64_t disconnected_at = WaitForUpstreamDisconnect(expired_at - 1000);
  ASSERT_GE(disconnected_at, 0) << "fakellm never saw the gateway go away";
  EXPECT_LE(disconnected_at - expired_at, 500);
}

// A hostile upstream compressing the stream unasked (the gateway sends no
// Accept-Encoding): a bad response that says why, not "the response ended".
TEST(StreamIntegrationTest, ACompressedStreamIsABadResponseSayingSo) {
  Collected c = Collect(Prompt("fake-model?fault=gzip"));
  CallError error = Decode(c.status);
  EXPECT_EQ(error.code, grpc::StatusCode::UNAVAILABLE) << error.message;
  EXPECT_EQ(error.info.reason(), "UPSTREAM_BAD_RESPONSE") << error.message;
  EXPECT_THAT(error.message, ::testing::HasSubstr("compressed (Content-Encoding: gzip)"));
  EXPECT_TRUE(c.messages.empty());
}

struct BrokenCase {
  std::string model;
  grpc::StatusCode code;
  std::string reason;
};

void PrintTo(const BrokenCase& c, std::ostream* os) { *os << c.model; }

class BrokenStreamTest : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenStreamTest, EndsWithNonOkStatusNeverASilentOk) {
  Collected c = Collect(Prompt(GetParam().model));
  CallError error = Decode(c.status);
  EXPECT_EQ(error.code, GetParam().code) << error.message;
  EXPECT_EQ(error.info.reason(), GetParam().reason) << error.message;
  EXPECT_EQ(error.info.metadata().at("provider"), "openai");
  for (const GenerateStreamResponse& m : c.messages) {
    EXPECT_EQ(m.finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Faults, BrokenStreamTest,
    ::testing::Values(
        BrokenCase{"fake-model?fault=drop", grpc::StatusCode::UNAVAILABLE,
                   "UPSTREAM_STREAM_BROKEN"},
        BrokenCase{"fake-model?fault=nodone", grpc::StatusCode::UNAVAILABLE,
                   "UPSTREAM_STREAM_BROKEN"},
        BrokenCase{"fake-model?fault=error_event", grpc::StatusCode::UNAVAILABLE,
                   "UPSTREAM_STREAM_ERROR"},
        BrokenCase{"fake-model?fault=malformed", grpc::StatusCode::UNAVAILABLE,
                   "UPSTREAM_BAD_RESPONSE"},
        BrokenCase{"fake-model?status=429&retry_after=1", grpc::StatusCode::RESOURCE_EXHAUSTED,
                   "RATE_LIMITED"},
        BrokenCase{"fake-model?status=500", grpc::StatusCode::UNAVAILABLE,
                   "UPSTREAM_UNAVAILABLE"}));

TEST(StreamIntegrationTest, BadInputIsInvalidArgumentBeforeAnyUpstreamCall) {
  GenerateRequest request = Prompt("fake-model");
  request.mutable_config()->set_max_output_tokens(-3);
  Collected c = Collect(request);
  EXPECT_EQ(c.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(c.messages.empty());
}

// A whole stream read by a callback reactor: many in flight on few threads.
class StreamReader : public grpc::ClientReadReactor<GenerateStreamResponse> {
 public:
  StreamReader(v1::Generation::Stub* stub, const GenerateRequest& request,
               std::atomic<int>* done)
      : done_(done) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    stub->async()->GenerateStream(&context_, &request, this);
    StartRead(&message_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    text_ += message_.text();
    last_ = message_;
    StartRead(&message_);
  }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_->fetch_add(1);
  }
  const grpc::Status& status() const { return status_; }
  const std::string& text() const { return text_; }
  const GenerateStreamResponse& last() const { return last_; }

 private:
  grpc::ClientContext context_;
  GenerateStreamResponse message_;
  GenerateStreamResponse last_;
  std::string text_;
  grpc::Status status_;
  std::atomic<int>* done_;
};

TEST(StreamIntegrationTest, AThousandConcurrentSlowStreams) {
  constexpr int kStreams = 1000;
  // Several channels (connections), as many client processes would use.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::Generation::Stub>> stubs;
  for (int i = 0; i < 4; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // distinct channels, not one shared subchannel
    channels.push_back(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", servers->gateway->port()),
        grpc::InsecureChannelCredentials(), args));
    stubs.push_back(v1::Generation::NewStub(channels.back()));
  }
  std::atomic<int> done{0};
  std::vector<std::unique_ptr<StreamReader>> readers;
  const absl::Time start = absl::Now();
  // 10 tokens, 200 ms apart: every stream stays open about 2 s.
  const GenerateRequest request = Prompt("fake-model?tokens=10&pace_ms=200", "many");
  for (int i = 0; i < kStreams; ++i) {
    readers.push_back(std::make_unique<StreamReader>(stubs[i % stubs.size()].get(), request, &done));
  }
  int max_threads = 0;
  int max_open_upstream = 0;
  long max_rss_kib = 0;
  const pid_t pid = servers->gateway->pid();
  while (done.load() < kStreams && absl::Now() - start < absl::Seconds(60)) {
    max_threads = std::max(max_threads, testing::ThreadCount(pid));
    max_rss_kib = std::max(max_rss_kib, testing::RssKib(pid));
    max_open_upstream = std::max<int>(
        max_open_upstream, FakeLlmStat(servers->fakellm->port(), "open_streams"));
    absl::SleepFor(absl::Milliseconds(100));
  }
  const absl::Duration elapsed = absl::Now() - start;
  ASSERT_EQ(done.load(), kStreams) << "streams still open after 60 s";
  int ok = 0;
  for (const auto& reader : readers) {
    if (reader->status().ok() && reader->text() == "Echo: many lorem ipsum dolor sit amet "
                                                   "consectetur adipiscing elit" &&
        reader->last().finish_reason() == v1::FINISH_REASON_STOP) {
      ++ok;
    } else if (ok == 0) {
      ADD_FAILURE() << reader->status().error_message() << " / " << reader->text();
    }
  }
  std::printf(
      "%d concurrent streams (2 s each): %.2f s, %d upstream streams open at once at most, "
      "gateway threads max %d, RSS max %ld KiB\n",
      kStreams, absl::ToDoubleSeconds(elapsed), max_open_upstream, max_threads, max_rss_kib);
  EXPECT_EQ(ok, kStreams);
  // They really were open together (not served one after another)...
  EXPECT_GE(max_open_upstream, kStreams / 2);
  // ...on a bounded set of threads (one per stream would be 1,000+).
  EXPECT_LT(max_threads, 64);
}

TEST(StreamIntegrationTest, SlowReaderHoldsTheUpstreamBackWithFlatMemory) {
  // A caller whose HTTP/2 window stays small (no BDP growth), so what it
  // does not read cannot hide in its own transport buffers: the gateway's
  // writes stop completing and backpressure has to reach the upstream.
  grpc::ChannelArguments args;
  args.SetInt("grpc.http2.bdp_probe", 0);
  args.SetInt("grpc.http2.lookahead_bytes", 64 * 1024);
  args.SetInt("grpc.channel_id", 99);
  auto stub = v1::Generation::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", servers->gateway->port()),
      grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  const pid_t pid = servers->gateway->pid();
  const long rss_before = testing::RssKib(pid);
  // 300,000 tokens as fast as fakellm can send them: ~1.8 MB of text in
  // ~50 MB of SSE, far more than the caller's window and socket buffers.
  auto reader = stub->GenerateStream(&context, Prompt("fake-model?tokens=300000", "flood"));
  GenerateStreamResponse message;
  long rss_max = rss_before;
  size_t text_bytes = 0;
  for (int second = 0; second < 4; ++second) {
    ASSERT_TRUE(reader->Read(&message));
    text_bytes += message.text().size();
    absl::SleepFor(absl::Seconds(1));
    rss_max = std::max(rss_max, testing::RssKib(pid));
  }
  // The upstream is held back: its stream has not finished.
  EXPECT_GE(FakeLlmStat(servers->fakellm->port(), "open_streams"), 1);
  std::printf("slow reader (1 message/s, 4 s): gateway RSS %ld KiB before, %ld KiB max; "
              "caller received %zu bytes of text so far\n",
              rss_before, rss_max, text_bytes);
#ifndef LLMGW_SANITIZER_ALLOCATOR
  // (ASan's quarantine keeps freed memory resident: RSS means little there.)
  // Without backpressure the gateway would hold the rest of the answer.
  EXPECT_LT(rss_max - rss_before, 16 * 1024);
#endif
  context.TryCancel();
  while (reader->Read(&message)) {
  }
  reader->Finish();
}

}  // namespace
}  // namespace llmgateway
