// The gateway's log through the real binary: --log_format=json writes one
// JSON object per line, a call's line read back by a JSON parser (fields,
// labels, never the prompt or the key; hostile text stays inside its
// string); and a stderr nobody reads (a full pipe) stalls no call, while
// every line still arrives once it is read, the last ones at exit, or is
// dropped, counted (/metrics) and reported when the queue is full.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "simdjson.h"
#include "tests/integration/fakellm_client.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

using ::llmgateway::testing::Subprocess;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;

constexpr char kPromptMarker[] = "prompt-text-that-must-never-be-logged";

grpc::Status Generate(const std::shared_ptr<grpc::Channel>& channel,
                      const GenerateRequest& request, const std::string& request_id,
                      GenerateResponse* response) {
  auto stub = v1::Generation::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  context.AddMetadata("x-request-id", request_id);
  return stub->Generate(&context, request, response);
}

// The log's line holding `needle`, or "".
std::string LineWith(const std::string& log, const std::string& needle) {
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, needle)) return std::string(line);
  }
  return "";
}

std::string Str(simdjson::dom::object object, const char* key) {
  std::string_view value;
  if (object[key].get_string().get(value) != simdjson::SUCCESS) return "<missing>";
  return std::string(value);
}

int64_t Int(simdjson::dom::object object, const char* key) {
  int64_t value = -1;
  if (object[key].get_int64().get(value) != simdjson::SUCCESS) return -1;
  return value;
}

class JsonLogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fakellm_ = testing::StartFakeLlm("logs-json-fakellm.log").release();
    gateway_ = testing::StartGateway(testing::FakeLlmBaseUrl(*fakellm_), {"--log_format=json"},
                                     "logs-json-gateway.log")
                   .release();
    channel_ = new std::shared_ptr<grpc::Channel>(testing::ChannelTo(*gateway_));
  }
  static void TearDownTestSuite() {
    delete channel_;
    delete gateway_;
    delete fakellm_;
  }

  static Subprocess* fakellm_;
  static Subprocess* gateway_;
  static std::shared_ptr<grpc::Channel>* channel_;
  simdjson::dom::parser parser_;
};

Subprocess* JsonLogTest::fakellm_ = nullptr;
Subprocess* JsonLogTest::gateway_ = nullptr;
std::shared_ptr<grpc::Channel>* JsonLogTest::channel_ = nullptr;

TEST_F(JsonLogTest, ACallsLineHasItsFieldsAndNeverThePromptOrTheKey) {
  GenerateRequest request;
  request.set_model("fake-model?tokens=3");
  request.set_prompt(kPromptMarker);
  (*request.mutable_labels())["team"] = "search";
  (*request.mutable_labels())["env"] = "prod";
  GenerateResponse response;
  ASSERT_TRUE(Generate(*channel_, request, "log-json-1", &response).ok());

  const std::string log = gateway_->WaitForStderr("\"request_id\":\"log-json-1\"");
  const std::string line = LineWith(log, "\"request_id\":\"log-json-1\"");
  std::printf("log: %s\n", line.c_str());
  simdjson::dom::element root;
  ASSERT_EQ(parser_.parse(line).get(root), simdjson::SUCCESS) << line;
  simdjson::dom::object call;
  ASSERT_EQ(root.get_object().get(call), simdjson::SUCCESS) << line;
  EXPECT_EQ(Str(call, "level"), "INFO");
  EXPECT_EQ(Str(call, "time").size(), strlen("2024-05-01T12:00:00.123Z")) << line;
  EXPECT_EQ(Str(call, "method"), "Generate");
  EXPECT_EQ(Str(call, "model"), "fake-model?tokens=3");
  EXPECT_EQ(Str(call, "provider"), "openai");
  EXPECT_EQ(Str(call, "code"), "OK");
  EXPECT_EQ(Int(call, "attempts"), 1);
  EXPECT_GE(Int(call, "latency_ms"), 0);
  EXPECT_EQ(Int(call, "input_tokens"), response.usage().prompt_tokens());
  EXPECT_EQ(Int(call, "output_tokens"), 3);
  simdjson::dom::object labels;
  ASSERT_EQ(call["labels"].get_object().get(labels), simdjson::SUCCESS) << line;
  EXPECT_EQ(labels.size(), 2u);
  EXPECT_EQ(Str(labels, "team"), "search");
  EXPECT_EQ(Str(labels, "env"), "prod");
  simdjson::dom::array attempts;
  ASSERT_EQ(call["upstream_attempts"].get_array().get(attempts), simdjson::SUCCESS) << line;
  ASSERT_EQ(attempts.size(), 1u);
  simdjson::dom::object attempt;
  ASSERT_EQ(attempts.at(0).get_object().get(attempt), simdjson::SUCCESS);
  EXPECT_EQ(Str(attempt, "provider"), "openai");
  EXPECT_EQ(Int(attempt, "http_status"), 200);
  EXPECT_EQ(Str(attempt, "code"), "OK");
  simdjson::dom::element error;
  EXPECT_NE(call["error"].get(error), simdjson::SUCCESS) << "no error on an OK call";

  EXPECT_FALSE(absl::StrContains(log, kPromptMarker)) << log;
  EXPECT_FALSE(absl::StrContains(log, testing::kTestApiKey));
  // Every line of the gateway's own is JSON: start-up lines too.
  for (absl::string_view each : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    simdjson::dom::element parsed;
    EXPECT_EQ(parser_.parse(std::string(each)).get(parsed), simdjson::SUCCESS) << each;
  }
}

TEST_F(JsonLogTest, HostileTextStaysInsideItsString) {
  // The model name is the caller's text, the upstream's 404 quotes it back
  // in the error, and a request id may hold quotes: none may end the string
  // or start a line of its own.
  const std::string hostile_model = "x\",\"level\":\"ERROR\"}\n{\"msg\":\"forged\u2028";
  GenerateRequest request;
  request.set_model(hostile_model + "?status=404");
  request.set_prompt(kPromptMarker);
  GenerateResponse response;
  const grpc::Status status = Generate(*channel_, request, "log\"json\\2", &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();

  const std::string log = gateway_->WaitForStderr("\"request_id\":\"log\\\"json\\\\2\"");
  const std::string line = LineWith(log, "\"request_id\":\"log\\\"json\\\\2\"");
  std::printf("log: %s\n", line.c_str());
  simdjson::dom::element root;
  ASSERT_EQ(parser_.parse(line).get(root), simdjson::SUCCESS) << line;
  simdjson::dom::object call;
  ASSERT_EQ(root.get_object().get(call), simdjson::SUCCESS) << line;
  EXPECT_EQ(Str(call, "request_id"), "log\"json\\2");
  EXPECT_EQ(Str(call, "level"), "WARN");
  EXPECT_EQ(Str(call, "code"), "NOT_FOUND");
  EXPECT_EQ(Str(call, "model"), hostile_model + "?status=404");
  EXPECT_TRUE(absl::StrContains(Str(call, "error"), hostile_model)) << Str(call, "error");
  for (absl::string_view each : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    EXPECT_FALSE(absl::StartsWith(each, "{\"msg\":\"forged")) << each;
    simdjson::dom::element parsed;
    EXPECT_EQ(parser_.parse(std::string(each)).get(parsed), simdjson::SUCCESS) << each;
  }
  EXPECT_FALSE(absl::StrContains(log, kPromptMarker));
}

// A FIFO as the gateway's stderr, opened (never read) by the test before
// the gateway starts: its writes block once the pipe is full.
class BlockedStderr {
 public:
  explicit BlockedStderr(const std::string& path) : path_(path) {
    unlink(path.c_str());
    EXPECT_EQ(mkfifo(path.c_str(), 0600), 0);
    fd_ = open(path.c_str(), O_RDONLY | O_NONBLOCK);
    EXPECT_GE(fd_, 0);
    // One page: a few lines fill it.
    fcntl(fd_, F_SETPIPE_SZ, 4096);
  }
  ~BlockedStderr() { close(fd_); }

  int Pending() const {
    int n = 0;
    ioctl(fd_, FIONREAD, &n);
    return n;
  }
  // Reads until every writer has closed it (the gateway exited).
  std::string ReadToEnd() {
    std::string out;
    char buffer[65536];
    while (true) {
      const ssize_t n = read(fd_, buffer, sizeof(buffer));
      if (n > 0) {
        out.append(buffer, n);
      } else if (n == 0) {
        return out;
      } else {
        pollfd ready{fd_, POLLIN, 0};
        poll(&ready, 1, 1000);
      }
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

TEST(BlockedStderrTest, AFullPipeStallsNoCallAndEveryLineArrivesLater) {
  auto fakellm = testing::StartFakeLlm("logs-blocked-fakellm.log");
  const std::string name = "logs-blocked-gateway.fifo";
  BlockedStderr stderr_pipe(testing::TempPath(name));
  auto gateway = testing::StartGateway(testing::FakeLlmBaseUrl(*fakellm), {}, name);
  auto channel = testing::ChannelTo(*gateway);

  // Each line is about 200 bytes: the pipe is full after the first twenty.
  // A gateway writing on its gRPC or loop threads would hang there; the
  // writer thread takes the wait, and the queue (4096 lines) holds the rest.
  constexpr int kCalls = 300;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kCalls; ++i) {
    GenerateRequest request;
    request.set_model("fake-model?tokens=1");
    request.set_prompt("hi");
    GenerateResponse response;
    const grpc::Status status =
        Generate(channel, request, absl::StrCat("blocked-", i), &response);
    ASSERT_TRUE(status.ok()) << "call " << i << ": " << status.error_message();
  }
  std::printf("%d calls with stderr blocked: %.2f s; %d bytes wait in the pipe\n", kCalls,
              absl::ToDoubleSeconds(absl::Now() - start), stderr_pipe.Pending());
  EXPECT_GT(stderr_pipe.Pending(), 2048) << "the pipe was never full: the test proves nothing";

  // Now read: every call's line arrives, in order, and the last lines are
  // written before the gateway exits.
  std::string log;
  std::thread reader([&] { log = stderr_pipe.ReadToEnd(); });
  const int status = gateway->Stop();
  reader.join();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  size_t at = 0;
  for (int i = 0; i < kCalls; ++i) {
    const size_t found = log.find(absl::StrCat(" request_id=blocked-", i, " "), at);
    ASSERT_NE(found, std::string::npos) << "call " << i << "'s line is missing or out of order";
    at = found;
  }
  EXPECT_FALSE(absl::StrContains(log, "log lines dropped"));
  EXPECT_TRUE(absl::StrContains(log, "drained; exiting")) << log.substr(log.size() - 500);
}

// The value of the Prometheus sample `series`, or -1.
double Sample(const std::string& text, const std::string& series) {
  const std::string prefix = "\n" + series + " ";
  size_t at = text.rfind(prefix);
  if (at == std::string::npos) return -1;
  at += prefix.size();
  return std::stod(text.substr(at, text.find('\n', at) - at));
}

TEST(BlockedStderrTest, AFullQueueDropsLinesCountsThemAndSaysSo) {
  const int metrics_port = testing::UnusedPort();
  const std::string name = "logs-drop-gateway.fifo";
  BlockedStderr stderr_pipe(testing::TempPath(name));
  // No upstream needed: invalid requests (no model) are answered, and
  // logged, on gRPC's own threads.
  auto gateway = testing::StartGateway(
      absl::StrCat("http://127.0.0.1:", testing::UnusedPort(), "/v1"),
      {absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port)}, name);
  auto channel = testing::ChannelTo(*gateway);

  // More lines than the pipe and the queue (4096) hold together.
  constexpr int kThreads = 4;
  constexpr int kCallsEach = 1500;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsEach; ++i) {
        GenerateRequest request;
        request.set_prompt("no model");
        GenerateResponse response;
        const grpc::Status status =
            Generate(channel, request, absl::StrCat("drop-", t, "-", i), &response);
        if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const double dropped = Sample("\n" + testing::HttpGet(metrics_port, "/metrics"),
                                "llmgateway_log_lines_dropped_total");
  std::printf("%d calls with stderr blocked: %.0f lines dropped\n", kThreads * kCallsEach,
              dropped);
  EXPECT_GT(dropped, 0);

  std::string log;
  std::thread reader([&] { log = stderr_pipe.ReadToEnd(); });
  const int status = gateway->Stop();
  reader.join();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // Each line is written whole or dropped, and the drops are told.
  int written = 0;
  int64_t reported = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    if (absl::StrContains(line, " request_id=drop-")) {
      EXPECT_TRUE(absl::StrContains(line, " code=INVALID_ARGUMENT ")) << line;
      ++written;
    } else if (absl::EndsWith(line, " log lines dropped")) {
      const size_t end = line.rfind(" log lines dropped");
      const size_t begin = line.rfind(' ', end - 1) + 1;
      reported += std::stoll(std::string(line.substr(begin, end - begin)));
    }
  }
  // Every call's line was written or dropped (and counted). The drop
  // reports may tell of a few more: lines logged at SIGTERM while the queue
  // was still full.
  EXPECT_EQ(written + static_cast<int64_t>(dropped), kThreads * kCallsEach);
  EXPECT_GE(reported, static_cast<int64_t>(dropped));
  EXPECT_TRUE(absl::StrContains(log, "drained; exiting"));
}

}  // namespace
}  // namespace llmgateway
