// The call engine against a fake adapter and a fake transport: every rule of
// DESIGN.md's "Routing rules", with the clock under the test's control.
#include "server/routing/call_engine.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "google/protobuf/text_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/status_details.h"
#include "server/routing/fake_adapter.h"
#include "server/routing/fake_transport.h"

namespace llmgateway::routing {
namespace {

using ::llmgateway::routing::testing::FakeAdapter;
using ::llmgateway::routing::testing::FakeTransport;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;
using ::llmgateway::v1::GenerateStreamResponse;

class Recorder final : public CallObserver {
 public:
  bool OnDelta(GenerateStreamResponse&& delta) override {
    deltas.push_back(std::move(delta));
    return !pause;
  }
  void OnResponse(GenerateResponse&& r) override { response = std::move(r); }
  void OnComplete(absl::Status s, CallSummary sum) override {
    ASSERT_FALSE(status.has_value()) << "completed twice";
    status = std::move(s);
    summary = std::move(sum);
  }
  std::string Text() const {
    std::string text;
    for (const auto& d : deltas) text += d.text();
    return text;
  }

  bool pause = false;
  std::vector<GenerateStreamResponse> deltas;
  std::optional<GenerateResponse> response;
  std::optional<absl::Status> status;
  CallSummary summary;
};

// Providers "a", "b", "c" (fake adapters); aliases from `models_text`.
class EngineTest : public ::testing::Test {
 protected:
  void Build(const std::string& config_text) {
    config::GatewayConfig config;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(config_text, &config));
    for (const char* name : {"a", "b", "c"}) {
      if (config.providers().end() ==
          std::find_if(config.providers().begin(), config.providers().end(),
                       [&](const config::Provider& p) { return p.name() == name; })) {
        config.add_providers()->set_name(name);
      }
    }
    absl::flat_hash_map<std::string, const Adapter*> by_name;
    for (const config::Provider& p : config.providers()) {
      adapters_.push_back(std::make_unique<FakeAdapter>(p.name(), "sk-SECRET-" + p.name()));
      by_name[p.name()] = adapters_.back().get();
    }
    router_ = std::make_unique<Router>(config, std::move(by_name));
    CallEngine::Options options;
    options.seed = 42;
    engine_ = std::make_unique<CallEngine>(router_.get(), &transport_, options);
  }

  // Starts a call and runs the loop until it has sent (or failed).
  std::shared_ptr<CallHandle> Start(Recorder* recorder, const std::string& model,
                                    bool stream = false,
                                    absl::Duration deadline = absl::InfiniteDuration(),
                                    const std::string& routing_text = "") {
    auto request = std::make_unique<GenerateRequest>();
    request->set_model(model);
    request->set_prompt("hello");
    if (!routing_text.empty()) {
      EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(routing_text,
                                                                request->mutable_routing()));
    }
    CallOptions options;
    options.stream = stream;
    options.request_id = "req-1";
    if (deadline != absl::InfiniteDuration()) options.deadline = transport_.Now() + deadline;
    requests_.push_back(std::move(request));
    auto handle = engine_->Start(requests_.back().get(), std::move(options), recorder);
    transport_.RunUntilIdle();
    return handle;
  }

  // A recorder that lives as long as the fixture, for calls a test leaves
  // running: TearDown shuts the transport down, which completes them.
  Recorder* Open() {
    open_.push_back(std::make_unique<Recorder>());
    return open_.back().get();
  }

  void TearDown() override {
    transport_.Shutdown();
    for (const auto& r : open_) {
      EXPECT_TRUE(r->status.has_value()) << "shutdown completes every call";
    }
  }

  // "fake://a/m" -> "a/m"
  std::string Where(FakeTransport::TransferId id) {
    return transport_.transfer(id).request.url.substr(7);
  }

  void RespondError(FakeTransport::TransferId id, long status, const std::string& body = "",
                    const std::string& retry_after = "") {
    std::vector<http::HttpHeader> headers;
    if (!retry_after.empty()) headers.push_back({"retry-after", retry_after});
    transport_.Respond(id, status, body, std::move(headers));
    transport_.RunUntilIdle();
  }

  static std::string Reason(const absl::Status& s) {
    auto info = GetErrorInfo(s);
    return info.has_value() ? info->reason() : "";
  }

  FakeTransport transport_;
  std::vector<std::unique_ptr<FakeAdapter>> adapters_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<CallEngine> engine_;
  std::vector<std::unique_ptr<GenerateRequest>> requests_;
  std::vector<std::unique_ptr<Recorder>> open_;
};

// One target, no retry: an attempt's outcome is the call's.
constexpr char kOneTargetNoRetry[] = R"pb(
  models { name: "m" provider: "a" retry { max_retries: 0 } }
)pb";

constexpr char kPrimaryWithFallback[] = R"pb(
  models { name: "m" provider: "a" upstream_model: "ma" fallbacks: "f" }
  models { name: "f" provider: "b" upstream_model: "mb" }
)pb";

TEST_F(EngineTest, UnarySuccessReportsTheAnswerAndWhoGaveIt) {
  Build(kPrimaryWithFallback);
  Recorder& r = *Open();
  Start(&r, "m");
  ASSERT_EQ(transport_.transfers().size(), 1u);
  EXPECT_EQ(Where(1), "a/ma");
  EXPECT_FALSE(r.status.has_value()) << "nothing completes before the upstream answers";
  transport_.Respond(1, 200, "the answer");
  ASSERT_TRUE(r.status.has_value());
  EXPECT_TRUE(r.status->ok()) << *r.status;
  EXPECT_EQ(r.response->text(), "the answer");
  EXPECT_EQ(r.response->provider(), "a");
  EXPECT_EQ(r.summary.provider, "a");
  ASSERT_EQ(r.summary.attempts.size(), 1u);
  EXPECT_EQ(r.summary.attempts[0].http_status, 200);
}

TEST_F(EngineTest, NothingCompletesOnTheStartersThread) {
  Build(kPrimaryWithFallback);
  Recorder& r = *Open();
  GenerateRequest request;
  request.set_model("no-such-model");
  request.set_prompt("x");
  engine_->Start(&request, CallOptions(), &r);
  EXPECT_FALSE(r.status.has_value());
  transport_.RunUntilIdle();
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(r.status->code(), absl::StatusCode::kNotFound);
}

TEST_F(EngineTest, RetriesTwiceOnTheSameTargetThenFallsBack) {
  Build(kPrimaryWithFallback);
  Recorder& r = *Open();
  Start(&r, "m");
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(transport_.transfers().size(), static_cast<size_t>(i));
    EXPECT_EQ(Where(i), "a/ma");
    RespondError(i, 503, "busy");
    if (i < 3) {
      EXPECT_EQ(transport_.transfers().size(), static_cast<size_t>(i)) << "waits first";
      transport_.Advance(transport_.NextTimer());
    }
  }
  // Retries spent: the fallback goes at once, without a backoff.
  ASSERT_EQ(transport_.transfers().size(), 4u);
  EXPECT_EQ(Where(4), "b/mb");
  transport_.Respond(4, 200, "from b");
  ASSERT_TRUE(r.status.has_value());
  EXPECT_TRUE(r.status->ok());
  EXPECT_EQ(r.response->provider(), "b");
  EXPECT_EQ(r.summary.attempts.size(), 4u);
  EXPECT_EQ(r.summary.attempts[0].code, absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.summary.attempts[3].provider, "b");
}

TEST_F(EngineTest, BackoffIsFullJitterUnderTheExponentialCeiling) {
  Build(R"pb(
    retry { max_retries: 6 initial_backoff { nanos: 200000000 } max_backoff { seconds: 1 } }
    models { name: "m" provider: "a" }
  )pb");
  Recorder& r = *Open();
  Start(&r, "m");
  const absl::Duration ceilings[] = {absl::Milliseconds(200), absl::Milliseconds(400),
                                     absl::Milliseconds(800), absl::Seconds(1),
                                     absl::Seconds(1), absl::Seconds(1)};
  absl::Duration total;
  for (int i = 0; i < 6; ++i) {
    RespondError(transport_.last(), 500);
    const absl::Duration wait = transport_.NextTimer();
    EXPECT_GE(wait, absl::ZeroDuration());
    EXPECT_LE(wait, ceilings[i]) << "retry " << i;
    total += wait;
    transport_.Advance(wait);
  }
  EXPECT_GT(total, absl::ZeroDuration()) << "jitter is not always zero";
  RespondError(transport_.last(), 500);
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(r.status->code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(transport_.transfers().size(), 7u);
}

TEST_F(EngineTest, RetryAfterWinsClampedToTheCap) {
  Build(R"pb(models { name: "m" provider: "a" })pb");
  struct Case {
    const char* header;
    absl::Duration min, max;
  } cases[] = {
      {"3", absl::Seconds(3), absl::Seconds(3)},
      {"100", absl::Seconds(10), absl::Seconds(10)},   // clamped to max_backoff
      {"inf", absl::Seconds(10), absl::Seconds(10)},
      {"1e300", absl::Seconds(10), absl::Seconds(10)},
      {"-5", absl::ZeroDuration(), absl::Milliseconds(200)},  // ignored: jitter
      {"nan", absl::ZeroDuration(), absl::Milliseconds(200)},
      {"soon", absl::ZeroDuration(), absl::Milliseconds(200)},
  };
  for (const Case& c : cases) {
    Recorder& r = *Open();
    Start(&r, "m");
    RespondError(transport_.last(), 429, "slow down", c.header);
    const absl::Duration wait = transport_.NextTimer();
    EXPECT_GE(wait, c.min) << c.header;
    EXPECT_LE(wait, c.max) << c.header;
    transport_.Advance(wait);
    transport_.Respond(transport_.last(), 200, "ok");
    ASSERT_TRUE(r.status.has_value());
    EXPECT_TRUE(r.status->ok()) << c.header;
  }
}

TEST_F(EngineTest, RetryAfterAsAnHttpDate) {
  Build(R"pb(models { name: "m" provider: "a" })pb");
  Recorder& r = *Open();
  Start(&r, "m");
  // The fake clock is not the wall clock the date is read against, so only
  // "a wait within the cap" can be said; the parse itself is tested in
  // upstream_error_test.
  RespondError(1, 503, "", "Wed, 21 Oct 2099 07:28:00 GMT");
  EXPECT_EQ(transport_.NextTimer(), absl::Seconds(10));
}

TEST_F(EngineTest, AWaitPastTheDeadlineIsNotTaken) {
  Build(R"pb(models { name: "m" provider: "a" })pb");
  Recorder& r = *Open();
  Start(&r, "m", false, absl::Seconds(2));
  RespondError(1, 429, "slow down", "5");
  ASSERT_TRUE(r.status.has_value()) << "fails now rather than after the deadline";
  EXPECT_EQ(r.status->code(), absl::StatusCode::kResourceExhausted);
  auto retry = GetRetryInfo(*r.status);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->retry_delay().seconds(), 5) << "the upstream's own RetryInfo";
  EXPECT_EQ(transport_.transfers().size(), 1u);
  EXPECT_EQ(transport_.pending_timers(), 0u);
}

TEST_F(EngineTest, AttemptTimeoutBoundsEachAttemptAndTheDeadlineTheCall) {
  Build(R"pb(models { name: "m" provider: "a" })pb");
  Recorder& r = *Open();
  Start(&r, "m", false, absl::Seconds(60), "attempt_timeout { seconds: 5 }");
  EXPECT_EQ(transport_.transfer(1).request.timeout, absl::Seconds(5));
  transport_.Advance(absl::Seconds(5));
  transport_.Complete(1, absl::DeadlineExceededError("timed out"));
  transport_.RunUntilIdle();
  EXPECT_FALSE(r.status.has_value()) << "an attempt timeout is retried";
  transport_.Advance(transport_.NextTimer());
  ASSERT_EQ(transport_.transfers().size(), 2u);
  // The second attempt's budget is still bounded by the call's deadline.
  EXPECT_LE(transport_.transfer(2).request.timeout, absl::Seconds(55));
  transport_.Respond(2, 200, "late but fine");
  EXPECT_TRUE(r.status->ok());

  Recorder& r2 = *Open();
  Start(&r2, "m", false, absl::Seconds(3));
  EXPECT_EQ(transport_.transfer(3).request.timeout, absl::Seconds(3));
  transport_.Advance(absl::Seconds(3));
  transport_.Complete(3, absl::DeadlineExceededError("timed out"));
  transport_.RunUntilIdle();
  ASSERT_TRUE(r2.status.has_value()) << "the caller's deadline ends the call";
  EXPECT_EQ(r2.status->code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(transport_.transfers().size(), 3u);
}

TEST_F(EngineTest, TheCallersBadRequestIsNeitherRetriedNorFallenBack) {
  Build(kPrimaryWithFallback);
  Recorder& r = *Open();
  Start(&r, "m");
  RespondError(1, 400, "bad field");
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(r.status->code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(transport_.transfers().size(), 1u);

  Recorder& rejected = *Open();
  auto request = std::make_unique<GenerateRequest>();
  request->set_model("m");
  request->set_prompt("reject");
  engine_->Start(request.get(), CallOptions(), &rejected);
  transport_.RunUntilIdle();
  ASSERT_TRUE(rejected.status.has_value());
  EXPECT_EQ(rejected.status->code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(transport_.transfers().size(), 1u) << "nothing sent";
}

TEST_F(EngineTest, AuthFailureNotFoundAndSpentQuotaMoveOnWithoutRetry) {
  // Four failures in a row would open a's cooldown (and skip it): not the
  // point here.
  Build(std::string("cooldown { failures: 100 }") + kPrimaryWithFallback);
  for (auto [status, body] : {std::pair<long, const char*>{401, "bad key sk-SECRET-a"},
                              {403, "forbidden"},
                              {404, "no model"},
                              {429, "insufficient_quota"}}) {
    Recorder& r = *Open();
    Start(&r, "m");
    const auto first = transport_.last();
    RespondError(first, status, body);
    ASSERT_EQ(transport_.last(), first + 1) << status << ": straight to the fallback";
    EXPECT_EQ(Where(first + 1), "b/mb");
    transport_.Respond(first + 1, 200, "ok");
    ASSERT_TRUE(r.status.has_value());
    EXPECT_TRUE(r.status->ok()) << status;
  }
}

TEST_F(EngineTest, TheKeyNeverReachesTheStatusMessage) {
  Build(kOneTargetNoRetry);
  Recorder& r = *Open();
  Start(&r, "m", true);
  transport_.Head(1, 200);
  transport_.Body(1, "data: error:leaked sk-SECRET-a here\n\n");
  transport_.Complete(1, absl::CancelledError("aborted"));
  transport_.RunUntilIdle();
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(r.status->message().find("sk-SECRET-a"), std::string::npos) << *r.status;
  EXPECT_NE(r.status->message().find("[redacted]"), std::string::npos) << *r.status;
}

TEST_F(EngineTest, StreamBrokenBeforeTheFirstDeltaIsRetried) {
  Build(kPrimaryWithFallback);
  Recorder& r = *Open();
  Start(&r, "m", true);
  transport_.Head(1, 200);
  transport_.Body(1, ": keep-alive\n\n");
  transport_.Complete(1, absl::UnavailableError("connection reset"));
  transport_.RunUntilIdle();
  EXPECT_FALSE(r.status.has_value());
  transport_.Advance(transport_.NextTimer());
  ASSERT_EQ(transport_.transfers().size(), 2u);
  transport_.Head(2, 200);
  transport_.Body(2, "data: delta:Hel\n\ndata: delta:lo\n\ndata: done\n\n");
  transport_.Complete(2, absl::OkStatus());
  ASSERT_TRUE(r.status.has_value());
  EXPECT_TRUE(r.status->ok()) << *r.status;
  EXPECT_EQ(r.Text(), "Hello");
  EXPECT_EQ(r.deltas.back().finish_reason(), v1::FINISH_REASON_STOP);
}

TEST_F(EngineTest, AfterTheFirstDeltaAFailureEndsTheCall) {
  Build(kPrimaryWithFallback);
  Recorder& r = *Open();
  Start(&r, "m", true);
  transport_.Head(1, 200);
  transport_.Body(1, "data: delta:partial\n\n");
  ASSERT_EQ(r.deltas.size(), 1u);
  transport_.Complete(1, absl::UnavailableError("connection reset"));
  transport_.RunUntilIdle();
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(r.status->code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Reason(*r.status), "UPSTREAM_STREAM_BROKEN");
  transport_.Advance(absl::Minutes(1));
  EXPECT_EQ(transport_.transfers().size(), 1u) << "no retry, no fallback";
  EXPECT_EQ(r.Text(), "partial") << "no duplicated prefix";
}

// No Accept-Encoding is sent: a compressed answer is a bad response (and
// retried like one), whether unary or streamed, never parsed as garbage.
TEST_F(EngineTest, ACompressedBodyIsABadResponseSayingSo) {
  Build(kOneTargetNoRetry);
  Recorder& unary = *Open();
  Start(&unary, "m");
  transport_.Respond(1, 200, "\x1f\x8b\x08\x00garbage", {{"content-encoding", "gzip"}});
  transport_.RunUntilIdle();
  ASSERT_TRUE(unary.status.has_value());
  EXPECT_EQ(unary.status->code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Reason(*unary.status), "UPSTREAM_BAD_RESPONSE");
  EXPECT_THAT(std::string(unary.status->message()),
              ::testing::HasSubstr("compressed (Content-Encoding: gzip)"));

  Recorder& stream = *Open();
  Start(&stream, "m", true);
  transport_.Head(2, 200, {{"content-encoding", "br"}});
  EXPECT_EQ(transport_.Body(2, "data: delta:never\n\n"), http::BodyAction::kAbort);
  transport_.Complete(2, absl::InternalError("aborted by the write callback"));
  transport_.RunUntilIdle();
  ASSERT_TRUE(stream.status.has_value());
  EXPECT_EQ(Reason(*stream.status), "UPSTREAM_BAD_RESPONSE");
  EXPECT_THAT(std::string(stream.status->message()), ::testing::HasSubstr("Content-Encoding: br"));
  EXPECT_TRUE(stream.deltas.empty());

  // "identity" is no encoding at all.
  Recorder& plain = *Open();
  Start(&plain, "m");
  transport_.Respond(3, 200, "fine", {{"content-encoding", "identity"}});
  ASSERT_TRUE(plain.status.has_value());
  EXPECT_TRUE(plain.status->ok()) << *plain.status;
}

// curl's specific words name the upstream's address: the attempt record
// (for the log) keeps them, the caller's status does not.
TEST_F(EngineTest, NetworkDetailGoesToTheAttemptRecordOnly) {
  Build(kOneTargetNoRetry);
  Recorder& r = *Open();
  Start(&r, "m");
  transport_.Complete(1, http::WithNetworkDetail(
                             absl::UnavailableError("Couldn't connect to server"),
                             "Failed to connect to 10.9.8.7 port 443 after 1 ms"));
  transport_.RunUntilIdle();
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(Reason(*r.status), "UPSTREAM_UNREACHABLE");
  EXPECT_EQ(r.status->message(), "provider \"a\" is unreachable: Couldn't connect to server");
  ASSERT_EQ(r.summary.attempts.size(), 1u);
  EXPECT_EQ(r.summary.attempts[0].network_error, "Failed to connect to 10.9.8.7 port 443 after 1 ms");
}

TEST_F(EngineTest, OnlyStreamsAskForAPausableTransfer) {
  Build(kPrimaryWithFallback);
  Recorder& unary = *Open();
  Start(&unary, "m");
  Recorder& stream = *Open();
  Start(&stream, "m", true);
  ASSERT_EQ(transport_.transfers().size(), 2u);
  EXPECT_FALSE(transport_.transfer(1).request.pausable);
  EXPECT_TRUE(transport_.transfer(2).request.pausable) << "HTTP/1.1: a pause pushes back on TCP";
}

TEST_F(EngineTest, StreamsFallBackToo) {
  Build(R"pb(
    models { name: "m" provider: "a" fallbacks: "f" retry { max_retries: 0 } }
    models { name: "f" provider: "b" }
  )pb");
  Recorder& r = *Open();
  Start(&r, "m", true);
  RespondError(1, 503, "down");
  ASSERT_EQ(transport_.transfers().size(), 2u);
  EXPECT_TRUE(absl::StartsWith(transport_.transfer(2).request.body, "stream:"));
  transport_.Head(2, 200);
  transport_.Body(2, "data: delta:hi\n\ndata: done\n\n");
  transport_.Complete(2, absl::OkStatus());
  ASSERT_TRUE(r.status->ok());
  EXPECT_EQ(r.deltas.front().provider(), "b");
  EXPECT_EQ(r.summary.provider, "b");
}

TEST_F(EngineTest, FallbackOrderIsAliasThenItsFallbacksThenTheRequests) {
  Build(R"pb(
    retry { max_retries: 0 }
    models { name: "m" provider: "a" fallbacks: "f1" fallbacks: "f2" }
    models { name: "f1" provider: "b" fallbacks: "never" }
    models { name: "f2" provider: "c" }
    models { name: "never" provider: "a" upstream_model: "nope" }
    models { name: "g" provider: "b" upstream_model: "gb" }
  )pb");
  Recorder& r = *Open();
  Start(&r, "m", false, absl::InfiniteDuration(),
        R"pb(fallback_models: "g" fallback_models: "f1")pb");
  std::vector<std::string> order;
  while (!r.status.has_value()) {
    order.push_back(Where(transport_.last()));
    RespondError(transport_.last(), 500);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a/m", "b/f1", "c/f2", "b/gb"}));
  EXPECT_EQ(r.status->code(), absl::StatusCode::kUnavailable);
}

TEST_F(EngineTest, MaxAttemptsCountsRetriesAndFallbacksTogether) {
  Build(kPrimaryWithFallback);
  Recorder& r = *Open();
  Start(&r, "m", false, absl::InfiniteDuration(), "max_attempts: 2");
  RespondError(1, 503);
  transport_.Advance(transport_.NextTimer());
  RespondError(2, 503);
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(transport_.transfers().size(), 2u);
  EXPECT_EQ(r.summary.attempts.size(), 2u);
}

TEST_F(EngineTest, CancelDuringABackoffEndsTheCallAtOnce) {
  Build(kPrimaryWithFallback);
  Recorder& r = *Open();
  auto handle = Start(&r, "m");
  RespondError(1, 503);
  ASSERT_EQ(transport_.pending_timers(), 1u);
  handle->Cancel();
  transport_.RunUntilIdle();
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(r.status->code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(transport_.pending_timers(), 0u);
  transport_.Advance(absl::Minutes(1));
  EXPECT_EQ(transport_.transfers().size(), 1u);
}

TEST_F(EngineTest, CancelAbortsTheTransferInFlight) {
  Build(kPrimaryWithFallback);
  Recorder& r = *Open();
  auto handle = Start(&r, "m", true);
  handle->Cancel();
  transport_.RunUntilIdle();
  EXPECT_TRUE(transport_.transfer(1).cancelled);
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(r.status->code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(transport_.transfers().size(), 1u) << "a cancel is never retried";
  handle->Cancel();  // after completion: a no-op
  handle->Resume();
  transport_.RunUntilIdle();
}

TEST_F(EngineTest, TheHandleFollowsTheCallAcrossAttempts) {
  Build(kPrimaryWithFallback);
  Recorder& r = *Open();
  r.pause = true;
  auto handle = Start(&r, "m", true);
  RespondError(1, 503);
  transport_.Advance(transport_.NextTimer());
  ASSERT_EQ(transport_.transfers().size(), 2u);
  transport_.Head(2, 200);
  EXPECT_EQ(transport_.Body(2, "data: delta:a\n\n"), http::BodyAction::kPause);
  handle->Resume();
  transport_.RunUntilIdle();
  EXPECT_EQ(transport_.transfer(2).resumes, 1) << "resumes the current attempt";
  EXPECT_EQ(transport_.transfer(1).resumes, 0);
  handle->Cancel();
  transport_.RunUntilIdle();
  EXPECT_TRUE(transport_.transfer(2).cancelled);
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(r.status->code(), absl::StatusCode::kCancelled);
}

constexpr char kTwoDeployments[] = R"pb(
  cooldown { failures: 2 period { seconds: 30 } }
  retry { max_retries: 0 }
  models {
    name: "m"
    deployments { provider: "a" }
    deployments { provider: "b" }
  }
)pb";

TEST_F(EngineTest, CooldownOpensThenOneProbeDecides) {
  Build(kTwoDeployments);
  // "a" fails every time; calls that land there fall over to "b".
  int calls_on_a = 0;
  auto run_call = [&](bool a_healthy) {
    Recorder& r = *Open();
    Start(&r, "m");
    while (!r.status.has_value()) {
      const auto id = transport_.last();
      if (absl::StartsWith(Where(id), "a/")) {
        ++calls_on_a;
        if (a_healthy) {
          transport_.Respond(id, 200, "a ok");
        } else {
          RespondError(id, 503);
        }
      } else {
        transport_.Respond(id, 200, "b ok");
      }
      transport_.RunUntilIdle();
    }
    EXPECT_TRUE(r.status->ok());
  };
  for (int i = 0; i < 20 && calls_on_a < 2; ++i) run_call(false);
  ASSERT_EQ(calls_on_a, 2) << "weighted choice reaches a";
  // Open: a gets nothing for the period.
  for (int i = 0; i < 20; ++i) run_call(false);
  EXPECT_EQ(calls_on_a, 2);
  // Half-open after the period: exactly one probe; it fails, so a rests again.
  transport_.Advance(absl::Seconds(31));
  for (int i = 0; i < 20; ++i) run_call(false);
  EXPECT_EQ(calls_on_a, 3);
  // Recovered: the next probe succeeds and a is back in rotation.
  transport_.Advance(absl::Seconds(31));
  for (int i = 0; i < 40; ++i) run_call(true);
  EXPECT_GT(calls_on_a, 6);
}

TEST_F(EngineTest, WhileTheProbeIsOutOthersStayAway) {
  Build(R"pb(
    cooldown { failures: 1 period { seconds: 10 } }
    retry { max_retries: 0 }
    models { name: "m" deployments { provider: "a" } deployments { provider: "b" } }
  )pb");
  // Put a in cooldown: find a call that lands on a.
  for (int i = 0; i < 50; ++i) {
    Recorder& r = *Open();
    Start(&r, "m");
    if (absl::StartsWith(Where(transport_.last()), "a/")) {
      RespondError(transport_.last(), 500);
      transport_.Respond(transport_.last(), 200, "b");
      break;
    }
    transport_.Respond(transport_.last(), 200, "b");
  }
  transport_.Advance(absl::Seconds(11));
  int on_a = 0;
  for (int i = 0; i < 30; ++i) {
    Start(Open(), "m");
    if (absl::StartsWith(Where(transport_.last()), "a/")) ++on_a;
  }
  EXPECT_EQ(on_a, 1) << "one probe while it is out";
}

TEST_F(EngineTest, WhenEveryTargetIsCoolingTheFirstToRecoverIsTried) {
  Build(R"pb(
    cooldown { failures: 1 period { seconds: 30 } }
    retry { max_retries: 0 }
    models { name: "m" deployments { provider: "a" } deployments { provider: "b" } }
  )pb");
  Recorder& r1 = *Open();
  Start(&r1, "m");
  const std::string first = Where(1).substr(0, 1);
  RespondError(1, 500);
  transport_.Advance(absl::Seconds(5));
  RespondError(2, 500);
  ASSERT_TRUE(r1.status.has_value());
  EXPECT_FALSE(r1.status->ok());
  // Both rest now; the first one to fail recovers first.
  Recorder& r2 = *Open();
  Start(&r2, "m");
  ASSERT_EQ(transport_.transfers().size(), 3u) << "tried rather than failed";
  EXPECT_EQ(Where(3).substr(0, 1), first);
  transport_.Respond(3, 200, "ok");
  EXPECT_TRUE(r2.status->ok());
}

TEST_F(EngineTest, WeightsShapeTheSplit) {
  Build(R"pb(
    models { name: "m" deployments { provider: "a" weight: 1 } deployments { provider: "b" weight: 3 } }
  )pb");
  int on_b = 0;
  for (int i = 0; i < 400; ++i) {
    Recorder& r = *Open();
    Start(&r, "m");
    if (absl::StartsWith(Where(transport_.last()), "b/")) ++on_b;
    transport_.Respond(transport_.last(), 200, "ok");
  }
  // 300 expected; the bound is wide, the seed fixed.
  EXPECT_GT(on_b, 250);
  EXPECT_LT(on_b, 350);
}

TEST_F(EngineTest, LeastInFlightPrefersTheIdleDeployment) {
  Build(R"pb(models { name: "m" deployments { provider: "a" } deployments { provider: "b" } })pb");
  int on_a = 0;
  for (int i = 0; i < 10; ++i) {
    Start(Open(), "m");
    if (absl::StartsWith(Where(transport_.last()), "a/")) ++on_a;
  }
  EXPECT_EQ(on_a, 5) << "concurrent calls alternate";
}

TEST_F(EngineTest, MaxConnectionsQueuesInOrderAndTheQueueIsBounded) {
  Build(R"pb(
    max_queued_requests: 2
    providers { name: "a" max_connections: 1 }
    models { name: "m" provider: "a" }
  )pb");
  Recorder& r1 = *Open();
  Recorder& r2 = *Open();
  Recorder& r3 = *Open();
  Recorder& r4 = *Open();
  Start(&r1, "m");
  Start(&r2, "m");
  Start(&r3, "m");
  EXPECT_EQ(transport_.transfers().size(), 1u) << "one in flight, two wait";
  Start(&r4, "m");
  ASSERT_TRUE(r4.status.has_value()) << "the queue is full";
  EXPECT_EQ(r4.status->code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(GetRetryInfo(*r4.status).has_value());
  transport_.Respond(1, 200, "one");
  transport_.RunUntilIdle();
  ASSERT_EQ(transport_.transfers().size(), 2u);
  EXPECT_FALSE(r2.status.has_value());
  transport_.Respond(2, 200, "two");
  transport_.RunUntilIdle();
  transport_.Respond(3, 200, "three");
  EXPECT_EQ(r2.response->text(), "two");
  EXPECT_EQ(r3.response->text(), "three");
}

TEST_F(EngineTest, AWaitForAConnectionEndsAtTheDeadlineOrOnCancel) {
  Build(R"pb(
    providers { name: "a" max_connections: 1 }
    models { name: "m" provider: "a" }
  )pb");
  Recorder& busy = *Open();
  Recorder& timed = *Open();
  Recorder& cancelled = *Open();
  Start(&busy, "m");
  Start(&timed, "m", false, absl::Seconds(2));
  auto handle = Start(&cancelled, "m");
  handle->Cancel();
  transport_.RunUntilIdle();
  ASSERT_TRUE(cancelled.status.has_value());
  EXPECT_EQ(cancelled.status->code(), absl::StatusCode::kCancelled);
  transport_.Advance(absl::Seconds(2));
  ASSERT_TRUE(timed.status.has_value());
  EXPECT_EQ(timed.status->code(), absl::StatusCode::kDeadlineExceeded);
  transport_.Respond(1, 200, "ok");
  transport_.RunUntilIdle();
  EXPECT_EQ(transport_.transfers().size(), 1u) << "neither waiter was sent";
}

TEST_F(EngineTest, AMalformedAnswerIsTheUpstreamsFaultAndRetried) {
  Build(R"pb(models { name: "m" provider: "a" })pb");
  Recorder& r = *Open();
  Start(&r, "m");
  transport_.Respond(1, 200, "garbage");
  transport_.RunUntilIdle();
  EXPECT_FALSE(r.status.has_value());
  transport_.Advance(transport_.NextTimer());
  transport_.Respond(2, 200, "fine");
  EXPECT_TRUE(r.status->ok());
}

TEST_F(EngineTest, AnAnswerTheAdapterClassifiesKeepsItsStatusAndIsFinal) {
  Build(kPrimaryWithFallback);
  Recorder& r = *Open();
  Start(&r, "m");
  transport_.Respond(1, 200, "blocked");
  transport_.RunUntilIdle();
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(r.status->code(), absl::StatusCode::kInvalidArgument) << *r.status;
  EXPECT_EQ(Reason(*r.status), "CONTENT_FILTERED");
  EXPECT_EQ(transport_.transfers().size(), 1u) << "neither retried nor fallen back";
}

}  // namespace
}  // namespace llmgateway::routing
