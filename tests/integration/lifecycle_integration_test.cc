// The gateway's life as an operator sees it: SIGTERM drains (health and new
// calls refused at once, streams in flight finish, exit code 0), a drain
// timeout cancels what is left, and a second signal exits at once.
#include <sys/wait.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

using ::llmgateway::testing::CallError;
using ::llmgateway::testing::Decode;
using ::llmgateway::testing::Subprocess;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;
using ::llmgateway::v1::GenerateStreamResponse;

GenerateRequest Prompt(const std::string& model) {
  GenerateRequest request;
  request.set_model(model);
  request.set_prompt("drain me");
  return request;
}

// One stream read on its own thread: signals when its first message is in.
struct OpenStream {
  std::atomic<bool> started{false};
  std::string text;
  grpc::Status status;
  std::thread thread;
};

void ReadStream(std::shared_ptr<grpc::Channel> channel, const GenerateRequest& request,
         OpenStream* stream) {
  auto stub = v1::Generation::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = stub->GenerateStream(&context, request);
  GenerateStreamResponse message;
  while (reader->Read(&message)) {
    stream->text += message.text();
    stream->started = true;
  }
  stream->status = reader->Finish();
  stream->started = true;
}

// grpc.health.v1.Health/Check for `service` over a generic stub: the
// status, or -1 with the call's error code in `code`.
int HealthStatus(std::shared_ptr<grpc::Channel> channel, const std::string& service,
                 grpc::StatusCode* code = nullptr) {
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::ByteBuffer sent;
  grpc::ByteBuffer reply;
  bool own = false;
  EXPECT_TRUE(grpc::SerializationTraits<grpc::health::v1::HealthCheckRequest>::Serialize(
                  request, &sent, &own)
                  .ok());
  std::mutex mu;
  std::condition_variable cv;
  std::optional<grpc::Status> status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &sent,
                 &reply, [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return status.has_value(); });
  if (code != nullptr) *code = status->error_code();
  if (!status->ok()) return -1;
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_TRUE(grpc::SerializationTraits<grpc::health::v1::HealthCheckResponse>::Deserialize(
                  &reply, &response)
                  .ok());
  return response.status();
}

class LifecycleTest : public ::testing::Test {
 protected:
  void Start(const std::string& name, std::vector<std::string> args) {
    fakellm_ = testing::StartFakeLlm(name + "-fakellm.log");
    gateway_ = testing::StartGateway(testing::FakeLlmBaseUrl(*fakellm_), std::move(args),
                                     name + "-gateway.log");
    channel_ = testing::ChannelTo(*gateway_);
  }

  std::vector<std::unique_ptr<OpenStream>> OpenStreams(int n, const std::string& model) {
    std::vector<std::unique_ptr<OpenStream>> streams;
    for (int i = 0; i < n; ++i) {
      auto stream = std::make_unique<OpenStream>();
      stream->thread = std::thread(ReadStream, channel_, Prompt(model), stream.get());
      streams.push_back(std::move(stream));
    }
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    for (auto& s : streams) {
      while (!s->started && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
      EXPECT_TRUE(s->started) << "a stream never started";
    }
    return streams;
  }

  grpc::Status Unary(const GenerateRequest& request) {
    auto stub = v1::Generation::NewStub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    GenerateResponse response;
    return stub->Generate(&context, request, &response);
  }

  std::unique_ptr<Subprocess> fakellm_;
  std::unique_ptr<Subprocess> gateway_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(LifecycleTest, SigtermLetsFiftyOpenStreamsFinishRefusesNewCallsAndExitsZero) {
  Start("drain", {});
  // 20 tokens, 100 ms apart: each stream runs about 2 s.
  const std::string model = "fake-model?tokens=20&pace_ms=100";
  auto streams = OpenStreams(50, model);
  gateway_->Signal(SIGTERM);

  // New calls are refused while the streams run on. (The signal is handled
  // asynchronously: the first calls may still get in, and they must finish
  // too.)
  CallError refused;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (absl::Now() < give_up) {
    const grpc::Status status = Unary(Prompt("fake-model?tokens=2"));
    if (!status.ok()) {
      refused = Decode(status);
      break;
    }
  }
  EXPECT_EQ(refused.code, grpc::StatusCode::UNAVAILABLE) << refused.message;
  EXPECT_EQ(refused.info.reason(), "DRAINING");

  for (auto& s : streams) {
    s->thread.join();
    EXPECT_TRUE(s->status.ok()) << s->status.error_message();
    EXPECT_EQ(s->text,
              "Echo: drain me lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
              "eiusmod tempor incididunt ut labore et dolore");
  }
  const int status = gateway_->WaitExit(30000);
  ASSERT_NE(status, -1) << "the gateway did not exit after draining";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(gateway_->ReadStderr().find("draining"), std::string::npos);
}

TEST_F(LifecycleTest, HealthAnswersForEachServiceAndTurnsNotServingOnSigterm) {
  Start("health", {});
  using grpc::health::v1::HealthCheckResponse;
  for (const char* service : {"", "llmgateway.v1.Generation", "llmgateway.v1.BatchJobs",
                              "llmgateway.v1.Models"}) {
    EXPECT_EQ(HealthStatus(channel_, service), HealthCheckResponse::SERVING) << service;
  }
  grpc::StatusCode code = grpc::StatusCode::OK;
  EXPECT_EQ(HealthStatus(channel_, "no.such.Service", &code), -1);
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);

  // A stream keeps the drain going while health is checked.
  auto streams = OpenStreams(1, "fake-model?tokens=20&pace_ms=100");
  gateway_->Signal(SIGTERM);
  absl::SleepFor(absl::Milliseconds(300));
  for (const char* service : {"", "llmgateway.v1.Generation", "llmgateway.v1.BatchJobs"}) {
    EXPECT_EQ(HealthStatus(channel_, service), HealthCheckResponse::NOT_SERVING) << service;
  }
  for (auto& s : streams) s->thread.join();
  EXPECT_EQ(gateway_->WaitExit(30000), 0);
}

TEST(GatewayFlagsTest, HelpListsTheGatewaysFlags) {
  const testing::RunResult run =
      testing::RunToExit(testing::RunfilePath("server/llm_gateway") + " --help");
  EXPECT_EQ(run.output.find("No flags matched"), std::string::npos) << run.output;
  for (const char* flag : {"--listen", "--config", "--openai_base_url", "--batch_store",
                           "--drain_timeout", "--log_format", "--tls_cert", "--tls_key",
                           "--tls_client_ca"}) {
    EXPECT_NE(run.output.find(flag), std::string::npos) << flag << "\n" << run.output;
  }
}

TEST_F(LifecycleTest, TheDrainTimeoutCancelsWhatIsStillRunning) {
  Start("drain-timeout", {"--drain_timeout=1s"});
  auto streams = OpenStreams(3, "fake-model?pause_after_first_ms=60000&tokens=5");
  const absl::Time signalled = absl::Now();
  gateway_->Signal(SIGTERM);
  for (auto& s : streams) {
    s->thread.join();
    EXPECT_FALSE(s->status.ok()) << "cut off by the drain timeout";
  }
  const int status = gateway_->WaitExit(20000);
  ASSERT_NE(status, -1);
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(20));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(gateway_->ReadStderr().find("cancelled 3 call(s)"), std::string::npos)
      << gateway_->ReadStderr();
}

TEST_F(LifecycleTest, ASecondSignalExitsAtOnce) {
  Start("second-signal", {"--drain_timeout=120s"});
  auto streams = OpenStreams(1, "fake-model?pause_after_first_ms=60000&tokens=5");
  gateway_->Signal(SIGTERM);
  // Let the first signal take hold: the gateway is draining when the
  // second arrives.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (absl::Now() < give_up && gateway_->ReadStderr().find("draining") == std::string::npos) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  const absl::Time second = absl::Now();
  gateway_->Signal(SIGTERM);
  const int status = gateway_->WaitExit(10000);
  ASSERT_NE(status, -1) << "still running 10 s after the second signal";
  EXPECT_LT(absl::Now() - second, absl::Seconds(10));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  for (auto& s : streams) s->thread.join();
}

}  // namespace
}  // namespace llmgateway
