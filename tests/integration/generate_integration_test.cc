// The real llm_gateway binary against fakellm: request mapping upstream,
// response mapping back, the error table, validation, and the async core
// under 200 concurrent slow calls.
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/text_format.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/batch_jobs.grpc.pb.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "llmgateway/v1/models.grpc.pb.h"
#include "tests/integration/fakellm_client.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

using ::llmgateway::testing::FindRequest;
using ::llmgateway::testing::JsonAt;
using ::llmgateway::testing::Subprocess;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;

using ::llmgateway::testing::CallError;
using ::llmgateway::testing::Decode;
using ::llmgateway::testing::StartFakeLlm;
using ::llmgateway::testing::StartGateway;
using ::llmgateway::testing::TempPath;

constexpr const char* kApiKey = ::llmgateway::testing::kTestApiKey;

testing::Servers* const servers = testing::AddServers("generate");

class GenerateIntegrationTest : public ::testing::Test {
 protected:
  static grpc::Status Generate(const GenerateRequest& request, GenerateResponse* response,
                               absl::Duration timeout = absl::Seconds(20),
                               std::string* request_id = nullptr,
                               const std::string& send_request_id = "") {
    auto stub = v1::Generation::NewStub(servers->channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)));
    if (!send_request_id.empty()) context.AddMetadata("x-request-id", send_request_id);
    grpc::Status status = stub->Generate(&context, request, response);
    if (request_id != nullptr) {
      auto it = context.GetServerInitialMetadata().find("x-request-id");
      if (it != context.GetServerInitialMetadata().end()) {
        *request_id = std::string(it->second.data(), it->second.size());
      }
    }
    return status;
  }

  static GenerateRequest Prompt(const std::string& model, const std::string& prompt) {
    GenerateRequest request;
    request.set_model(model);
    request.set_prompt(prompt);
    return request;
  }

  static CallError GenerateError(const std::string& model,
                                 absl::Duration timeout = absl::Seconds(20)) {
    GenerateResponse response;
    return Decode(Generate(Prompt(model, "hello"), &response, timeout));
  }

  Subprocess* const fakellm_ = servers->fakellm.get();
  Subprocess* const gateway_ = servers->gateway.get();
  const std::shared_ptr<grpc::Channel>& channel_ = servers->channel;
};

TEST_F(GenerateIntegrationTest, RoundTripMapsRequestAndResponse) {
  GenerateRequest request;
  request.set_model("fake-model");
  auto* system = request.add_messages();
  system->set_role(v1::ROLE_SYSTEM);
  system->add_parts()->set_text("be brief");
  auto* user = request.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text("marker-roundtrip says hi");
  request.mutable_config()->set_temperature(0.25);
  request.mutable_config()->set_top_p(0.5);
  request.mutable_config()->set_max_output_tokens(4);
  request.mutable_config()->add_stop_sequences("END");
  request.mutable_config()->set_seed(42);
  (*request.mutable_labels())["team"] = "label-value-never-upstream";

  GenerateResponse response;
  std::string request_id;
  grpc::Status status =
      Generate(request, &response, absl::Seconds(20), &request_id, "req-abc-123");
  ASSERT_TRUE(status.ok()) << status.error_message();

  // Back: fakellm echoes the last user message, cut to max_tokens=4.
  EXPECT_EQ(response.text(), "Echo: marker-roundtrip says hi ");
  EXPECT_EQ(response.finish_reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(response.model(), "fake-model");
  EXPECT_EQ(response.provider(), "openai");
  EXPECT_FALSE(response.id().empty());
  EXPECT_EQ(response.message().role(), v1::ROLE_ASSISTANT);
  ASSERT_EQ(response.message().parts_size(), 1);
  EXPECT_EQ(response.message().parts(0).text(), response.text());
  EXPECT_EQ(response.usage().completion_tokens(), 4);
  EXPECT_GT(response.usage().prompt_tokens(), 0);
  EXPECT_EQ(response.usage().total_tokens(),
            response.usage().prompt_tokens() + response.usage().completion_tokens());
  EXPECT_EQ(request_id, "req-abc-123");
  // Labels are for logs: the call's line carries them.
  const std::string log = gateway_->WaitForStderr("request_id=req-abc-123");
  const size_t line = log.find("request_id=req-abc-123");
  ASSERT_NE(line, std::string::npos) << log;
  EXPECT_NE(log.substr(line, log.find('\n', line) - line)
                .find(" labels=team:label-value-never-upstream"),
            std::string::npos)
      << log;

  // Upstream: what fakellm received.
  auto sent = FindRequest(fakellm_->port(), "marker-roundtrip");
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->path, "/v1/chat/completions");
  EXPECT_EQ(sent->headers["authorization"], std::string("Bearer ") + kApiKey);
  EXPECT_EQ(sent->headers["x-request-id"], "req-abc-123");
  EXPECT_EQ(JsonAt(sent->body, "/model"), "\"fake-model\"");
  EXPECT_EQ(JsonAt(sent->body, "/messages"),
            "[{\"role\":\"system\",\"content\":\"be brief\"},"
            "{\"role\":\"user\",\"content\":\"marker-roundtrip says hi\"}]");
  EXPECT_EQ(JsonAt(sent->body, "/temperature"), "0.25");
  EXPECT_EQ(JsonAt(sent->body, "/top_p"), "0.5");
  EXPECT_EQ(JsonAt(sent->body, "/max_tokens"), "4");
  EXPECT_EQ(JsonAt(sent->body, "/stop"), "[\"END\"]");
  EXPECT_EQ(JsonAt(sent->body, "/seed"), "42");
  EXPECT_EQ(sent->body.find("label-value-never-upstream"), std::string::npos);
}

TEST_F(GenerateIntegrationTest, PromptShorthandIsOneUserMessage) {
  GenerateResponse response;
  ASSERT_TRUE(Generate(Prompt("fake-model", "marker-prompt"), &response).ok());
  EXPECT_EQ(response.text().rfind("Echo: marker-prompt", 0), 0u) << response.text();
  EXPECT_EQ(response.finish_reason(), v1::FINISH_REASON_STOP);
  auto sent = FindRequest(fakellm_->port(), "marker-prompt");
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(JsonAt(sent->body, "/messages"),
            "[{\"role\":\"user\",\"content\":\"marker-prompt\"}]");
}

TEST_F(GenerateIntegrationTest, MintsARequestIdWhenTheCallerSendsNone) {
  GenerateResponse response;
  std::string request_id;
  ASSERT_TRUE(Generate(Prompt("fake-model", "marker-mint"), &response, absl::Seconds(20),
                       &request_id)
                  .ok());
  EXPECT_EQ(request_id.size(), 36u) << request_id;
  auto sent = FindRequest(fakellm_->port(), "marker-mint");
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->headers["x-request-id"], request_id);
}

struct ErrorCase {
  std::string model;
  grpc::StatusCode code;
  std::string reason;
  std::string upstream_status;  // "" when no HTTP status was received
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.model; }

class UpstreamErrorTest : public GenerateIntegrationTest,
                          public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(UpstreamErrorTest, MapsToStatusWithErrorInfo) {
  const ErrorCase& expected = GetParam();
  CallError error = GenerateError(expected.model);
  EXPECT_EQ(error.code, expected.code) << error.message;
  EXPECT_EQ(error.info.reason(), expected.reason) << error.message;
  EXPECT_EQ(error.info.domain(), "llmgateway");
  EXPECT_EQ(error.info.metadata().at("provider"), "openai");
  if (!expected.upstream_status.empty()) {
    EXPECT_EQ(error.info.metadata().at("upstreamStatus"), expected.upstream_status);
  }
  EXPECT_EQ(error.message.find(kApiKey), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    DesignTable, UpstreamErrorTest,
    ::testing::Values(
        ErrorCase{"fake-model?status=400", grpc::StatusCode::INVALID_ARGUMENT,
                  "UPSTREAM_INVALID_REQUEST", "400"},
        ErrorCase{"fake-model?status=400&code=context_length_exceeded",
                  grpc::StatusCode::INVALID_ARGUMENT, "CONTEXT_LENGTH_EXCEEDED", "400"},
        ErrorCase{"fake-model?status=401", grpc::StatusCode::INTERNAL,
                  "UPSTREAM_AUTH_FAILED", "401"},
        ErrorCase{"fake-model?status=403", grpc::StatusCode::INTERNAL,
                  "UPSTREAM_AUTH_FAILED", "403"},
        ErrorCase{"fake-model?status=404", grpc::StatusCode::NOT_FOUND, "MODEL_NOT_FOUND",
                  "404"},
        ErrorCase{"fake-model?status=500", grpc::StatusCode::UNAVAILABLE,
                  "UPSTREAM_UNAVAILABLE", "500"},
        ErrorCase{"fake-model?status=503", grpc::StatusCode::UNAVAILABLE,
                  "UPSTREAM_UNAVAILABLE", "503"},
        ErrorCase{"fake-model?fault=malformed", grpc::StatusCode::UNAVAILABLE,
                  "UPSTREAM_BAD_RESPONSE", ""},
        ErrorCase{"fake-model?fault=drop", grpc::StatusCode::UNAVAILABLE,
                  "UPSTREAM_UNREACHABLE", ""}));

TEST_F(GenerateIntegrationTest, RateLimitCarriesRetryInfo) {
  CallError error = GenerateError("fake-model?status=429&retry_after=3");
  EXPECT_EQ(error.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(error.info.reason(), "RATE_LIMITED");
  ASSERT_TRUE(error.has_retry_info);
  EXPECT_EQ(error.retry.retry_delay().seconds(), 3);
}

// The gateway asks for no encoding: a gzip answer is a bad response that
// says why (not a JSON error about its bytes).
TEST_F(GenerateIntegrationTest, ACompressedAnswerIsABadResponseSayingSo) {
  CallError error = GenerateError("fake-model?fault=gzip");
  EXPECT_EQ(error.code, grpc::StatusCode::UNAVAILABLE) << error.message;
  EXPECT_EQ(error.info.reason(), "UPSTREAM_BAD_RESPONSE");
  EXPECT_NE(error.message.find("compressed (Content-Encoding: gzip)"), std::string::npos)
      << error.message;
}

TEST_F(GenerateIntegrationTest, SpentQuotaCarriesNoRetryInfo) {
  CallError error = GenerateError("fake-model?status=429&code=insufficient_quota&retry_after=3");
  EXPECT_EQ(error.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(error.info.reason(), "QUOTA_EXHAUSTED");
  EXPECT_FALSE(error.has_retry_info);
}

TEST_F(GenerateIntegrationTest, ClientDeadlineAbortsTheUpstreamRequest) {
  const long closed_before = testing::FakeLlmStat(fakellm_->port(), "closed_early");
  CallError error = GenerateError("fake-model?delay_ms=5000", absl::Milliseconds(500));
  EXPECT_EQ(error.code, grpc::StatusCode::DEADLINE_EXCEEDED);
  // The gateway gives up on the upstream too (its timeout is the deadline).
  const absl::Time give_up = absl::Now() + absl::Seconds(4);
  while (testing::FakeLlmStat(fakellm_->port(), "closed_early") <= closed_before &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_GT(testing::FakeLlmStat(fakellm_->port(), "closed_early"), closed_before);
}

TEST_F(GenerateIntegrationTest, AttemptTimeoutBoundsTheUpstreamRequest) {
  GenerateRequest request = Prompt("fake-model?delay_ms=5000", "slow");
  request.mutable_routing()->mutable_attempt_timeout()->set_nanos(300 * 1000 * 1000);
  GenerateResponse response;
  CallError error = Decode(Generate(request, &response));
  EXPECT_EQ(error.code, grpc::StatusCode::DEADLINE_EXCEEDED) << error.message;
  EXPECT_EQ(error.info.reason(), "UPSTREAM_TIMEOUT");
}

TEST_F(GenerateIntegrationTest, ARequestsFallbackModelTakesOverFromAFailingModel) {
  // fakellm fails the first model outright (404: not retried on the same
  // target); the pass-through fallback answers.
  GenerateRequest request = Prompt("fake-model?status=404", "x");
  request.mutable_routing()->add_fallback_models("fake-model");
  GenerateResponse response;
  const grpc::Status status = Generate(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.model(), "fake-model");
  EXPECT_EQ(response.provider(), "openai");
}

struct InvalidCase {
  std::string request;  // textproto
  std::string field;
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.field; }

class ValidationTest : public GenerateIntegrationTest,
                       public ::testing::WithParamInterface<InvalidCase> {};

TEST_P(ValidationTest, IsInvalidArgumentNamingTheField) {
  GenerateRequest request;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(GetParam().request, &request));
  GenerateResponse response;
  CallError error = Decode(Generate(request, &response));
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(error.message.rfind(GetParam().field + ":", 0), 0u) << error.message;
  EXPECT_EQ(error.info.reason(), "INVALID_REQUEST");
}

INSTANTIATE_TEST_SUITE_P(
    BadInput, ValidationTest,
    ::testing::Values(
        InvalidCase{R"pb(prompt: "hi")pb", "model"},
        InvalidCase{R"pb(model: "fake-model")pb", "messages"},
        InvalidCase{R"pb(model: "fake-model" messages { role: 77 parts { text: "x" } })pb",
                    "messages[0].role"},
        InvalidCase{R"pb(model: "fake-model" prompt: "x" config { max_output_tokens: -1 })pb",
                    "config.max_output_tokens"}));

TEST_F(GenerateIntegrationTest, ConcurrentSlowCallsShareFewThreads) {
  constexpr int kCalls = 200;
  auto stub = v1::Generation::NewStub(channel_);
  struct Call {
    grpc::ClientContext context;
    GenerateResponse response;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<Call>> calls;
  absl::Mutex mu;
  int done = 0;
  int max_threads = 0;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kCalls; ++i) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    GenerateRequest request = Prompt("fake-model?delay_ms=1000", absl::StrCat("conc-", i));
    stub->async()->Generate(&call->context, &request, &call->response,
                            [&mu, &done, c = call.get()](grpc::Status status) {
                              absl::MutexLock lock(&mu);
                              c->status = std::move(status);
                              ++done;
                            });
    calls.push_back(std::move(call));
  }
  // Sample the gateway's thread count while the calls are in flight.
  while (true) {
    max_threads = std::max(max_threads, testing::ThreadCount(gateway_->pid()));
    absl::MutexLock lock(&mu);
    if (mu.AwaitWithTimeout(absl::Condition(
                                +[](int* d) { return *d == kCalls; }, &done),
                            absl::Milliseconds(50))) {
      break;
    }
  }
  const absl::Duration elapsed = absl::Now() - start;
  for (const auto& call : calls) {
    EXPECT_TRUE(call->status.ok()) << call->status.error_message();
  }
  std::printf("200 concurrent 1 s calls: %.2f s, gateway threads max %d, RSS %ld KiB\n",
              absl::ToDoubleSeconds(elapsed), max_threads,
              testing::RssKib(gateway_->pid()));
  // Thread-per-call would need 200+ threads, or 200 s on a few.
  EXPECT_LT(elapsed, absl::Seconds(3));
  EXPECT_LT(max_threads, 64);
}

TEST_F(GenerateIntegrationTest, TheApiKeyNeverReachesTheLog) {
  GenerateError("fake-model?status=401");
  GenerateError("fake-model?status=400");
  const std::string log = gateway_->WaitForStderr("model=fake-model?status=400 ");
  EXPECT_NE(log.find("rpc=Generate"), std::string::npos) << log;
  EXPECT_EQ(log.find(kApiKey), std::string::npos);
  EXPECT_EQ(log.find("SECRET"), std::string::npos);
}

TEST(GatewayStartupTest, ConnectionRefusedIsUnavailable) {
  const int upstream_port = testing::UnusedPort();
  auto gateway = StartGateway(absl::StrCat("http://127.0.0.1:", upstream_port, "/v1"),
                              {}, "gateway-refused.log");
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", gateway->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::Generation::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  GenerateRequest request;
  request.set_model("any");
  request.set_prompt("hi");
  GenerateResponse response;
  CallError error = Decode(stub->Generate(&context, request, &response));
  EXPECT_EQ(error.code, grpc::StatusCode::UNAVAILABLE) << error.message;
  EXPECT_EQ(error.info.reason(), "UPSTREAM_UNREACHABLE");
  // curl's generic text once, not twice ("...: Couldn't connect to server:
  // Failed to connect ...: Couldn't connect to server").
  const std::string generic = "Couldn't connect to server";
  const size_t first = error.message.find(generic);
  ASSERT_NE(first, std::string::npos) << error.message;
  EXPECT_EQ(error.message.find(generic, first + 1), std::string::npos) << error.message;
  // The upstream's address is for the operator's log, not for callers.
  const std::string port = absl::StrCat(upstream_port);
  EXPECT_EQ(error.message.find("127.0.0.1"), std::string::npos) << error.message;
  EXPECT_EQ(error.message.find(port), std::string::npos) << error.message;
  const std::string log = gateway->WaitForStderr("code=UNAVAILABLE");
  EXPECT_NE(log.find(absl::StrCat("Failed to connect to 127.0.0.1 port ", port)),
            std::string::npos)
      << log;
}

TEST(GatewayStartupTest, ProviderTimeoutFromConfigIsDeadlineExceeded) {
  auto fakellm = StartFakeLlm();
  const std::string config_path = TempPath("timeout.textproto");
  {
    std::ofstream config(config_path);
    config << "providers { name: \"slow\" kind: \"openai\" base_url: \"http://127.0.0.1:"
           << fakellm->port() << "/v1\" timeout { nanos: 300000000 } }\n"
           << "models { name: \"tiny\" provider: \"slow\" upstream_model: "
              "\"fake-model?delay_ms=5000\" }\n"
           << "models { name: \"quick\" provider: \"slow\" upstream_model: \"fake-model\" "
              "fallbacks: \"tiny\" }\n";
  }
  auto gateway = std::make_unique<Subprocess>(
      std::vector<std::string>{testing::RunfilePath("server/llm_gateway"),
                               "--listen=127.0.0.1:0", "--config=" + config_path,
                               "--batch_store=" + TempPath("gateway-timeout.db")},
      std::vector<std::string>{}, TempPath("gateway-timeout.log"));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", gateway->port()),
                                     grpc::InsecureChannelCredentials());

  auto stub = v1::Generation::NewStub(channel);
  grpc::ClientContext context;  // no client deadline: the provider's applies
  GenerateRequest request;
  request.set_model("tiny");
  request.set_prompt("hi");
  GenerateResponse response;
  CallError error = Decode(stub->Generate(&context, request, &response));
  EXPECT_EQ(error.code, grpc::StatusCode::DEADLINE_EXCEEDED) << error.message;
  EXPECT_EQ(error.info.reason(), "UPSTREAM_TIMEOUT");
  EXPECT_EQ(error.info.metadata().at("provider"), "slow");

  // Aliases and only aliases: no default provider in this config.
  grpc::ClientContext unknown_context;
  request.set_model("gpt-unknown");
  error = Decode(stub->Generate(&unknown_context, request, &response));
  EXPECT_EQ(error.code, grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(error.info.reason(), "MODEL_NOT_FOUND");

  auto models = v1::Models::NewStub(channel);
  grpc::ClientContext list_context;
  v1::ListModelsRequest list;
  list.set_page_size(1);
  v1::ListModelsResponse page;
  ASSERT_TRUE(models->ListModels(&list_context, list, &page).ok());
  ASSERT_EQ(page.models_size(), 1);
  EXPECT_EQ(page.models(0).name(), "quick");
  EXPECT_EQ(page.models(0).provider(), "slow");
  EXPECT_EQ(page.models(0).fallbacks(0), "tiny");
  ASSERT_FALSE(page.next_page_token().empty());
  grpc::ClientContext next_context;
  list.set_page_token(page.next_page_token());
  ASSERT_TRUE(models->ListModels(&next_context, list, &page).ok());
  ASSERT_EQ(page.models_size(), 1);
  EXPECT_EQ(page.models(0).name(), "tiny");
  EXPECT_EQ(page.models(0).upstream_model(), "fake-model?delay_ms=5000");
  EXPECT_TRUE(page.next_page_token().empty());
}

}  // namespace
}  // namespace llmgateway
