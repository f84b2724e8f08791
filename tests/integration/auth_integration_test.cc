// Caller auth through the real binary: keys from config (as SHA-256), the
// `authorization: Bearer` metadata, each refusal's code and reason, per-key
// limits (models, requests per minute, token budget, streams), BatchGenerate
// items and BatchJobs, health without a key, and the key id (never the key)
// in logs and metrics. Also --hash_api_key and --generate_api_key, and the
// key sent by the C++ client and llmgw.
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "client/gateway_client.h"
#include "llmgateway/v1/batch_jobs.grpc.pb.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "server/auth/api_key.h"
#include "tests/integration/fakellm_client.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::GenerateRequest;

// Distinctive: the log and /metrics are searched for them.
constexpr char kKeyA[] = "lgw-caller-key-A-7f3c9d-never-logged";
constexpr char kKeyB[] = "lgw-caller-key-B-2b81e0-never-logged";
constexpr char kKeyLimited[] = "lgw-caller-key-RPM-4410aa";
constexpr char kKeyBudget[] = "lgw-caller-key-BUDGET-99e1";
constexpr char kKeyStreams[] = "lgw-caller-key-STREAMS-5c2e";

struct Gateway {
  std::unique_ptr<testing::Subprocess> fakellm;
  std::unique_ptr<testing::Subprocess> gateway;
  std::shared_ptr<grpc::Channel> channel;
  int metrics_port = 0;
};

Gateway* servers = nullptr;

class AuthEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string config_path = testing::TempPath("auth-config.textproto");
    std::ofstream(config_path) << absl::StrCat(
        "auth {\n",
        "  keys { id: \"team-a\" sha256: \"", auth::Sha256Hex(kKeyA),
        "\" models: \"fake-model*\" }\n",
        "  keys { id: \"team-b\" sha256: \"", auth::Sha256Hex(kKeyB),
        "\" models: \"other-model\" }\n",
        "  keys { id: \"limited\" sha256: \"", auth::Sha256Hex(kKeyLimited),
        "\" requests_per_minute: 2 }\n",
        "  keys { id: \"budget\" sha256: \"", auth::Sha256Hex(kKeyBudget),
        "\" token_budget: 10 }\n",
        "  keys { id: \"streams\" sha256: \"", auth::Sha256Hex(kKeyStreams),
        "\" max_concurrent_streams: 1 }\n",
        "}\n");
    servers = new Gateway();
    servers->fakellm = testing::StartFakeLlm("auth-fakellm.log");
    servers->metrics_port = testing::UnusedPort();
    servers->gateway = testing::StartGateway(
        testing::FakeLlmBaseUrl(*servers->fakellm),
        {"--config=" + config_path,
         absl::StrCat("--metrics_listen=127.0.0.1:", servers->metrics_port)},
        "auth-gateway.log");
    servers->channel = testing::ChannelTo(*servers->gateway);
  }
  void TearDown() override {
    delete servers;
    servers = nullptr;
  }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new AuthEnvironment());

GenerateRequest Prompt(const std::string& model) {
  GenerateRequest request;
  request.set_model(model);
  request.set_prompt("hello there");
  return request;
}

void WithKey(grpc::ClientContext* context, const std::string& key) {
  if (!key.empty()) context->AddMetadata("authorization", "Bearer " + key);
}

grpc::Status Generate(const std::string& key, const std::string& model,
                      v1::GenerateResponse* response = nullptr) {
  v1::GenerateResponse ignored;
  grpc::ClientContext context;
  WithKey(&context, key);
  return v1::Generation::NewStub(servers->channel)
      ->Generate(&context, Prompt(model), response ? response : &ignored);
}

TEST(AuthIntegrationTest, CallsWithoutAValidKeyAreUnauthenticated) {
  struct Case {
    std::string metadata;  // "" : none
    std::string reason;
  };
  for (const Case& c : {Case{"", "API_KEY_MISSING"}, Case{"Bearer wrong-key", "API_KEY_INVALID"},
                        Case{kKeyA, "API_KEY_INVALID"},  // no scheme
                        Case{"Basic " + std::string(kKeyA), "API_KEY_INVALID"}}) {
    grpc::ClientContext context;
    if (!c.metadata.empty()) context.AddMetadata("authorization", c.metadata);
    v1::GenerateResponse response;
    const grpc::Status status =
        v1::Generation::NewStub(servers->channel)->Generate(&context, Prompt("fake-model"), &response);
    const testing::CallError error = testing::Decode(status);
    EXPECT_EQ(error.code, grpc::StatusCode::UNAUTHENTICATED) << c.metadata;
    EXPECT_EQ(error.info.reason(), c.reason) << c.metadata;
    EXPECT_FALSE(absl::StrContains(error.message, kKeyA)) << error.message;
  }
  EXPECT_TRUE(Generate(kKeyA, "fake-model").ok());
}

TEST(AuthIntegrationTest, EveryServiceButHealthWantsAKey) {
  auto jobs = v1::BatchJobs::NewStub(servers->channel);
  {
    grpc::ClientContext context;
    v1::ListBatchJobsResponse response;
    EXPECT_EQ(jobs->ListBatchJobs(&context, {}, &response).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    v1::BatchJob job;
    v1::GetBatchJobRequest request;  // no id: auth is checked first
    EXPECT_EQ(jobs->GetBatchJob(&context, request, &job).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    v1::ListBatchJobResultsRequest request;
    request.set_id("b-anything");
    auto reader = jobs->ListBatchJobResults(&context, request);
    v1::BatchJobResult result;
    EXPECT_FALSE(reader->Read(&result));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext context;
    WithKey(&context, kKeyA);
    v1::ListBatchJobsResponse response;
    EXPECT_TRUE(jobs->ListBatchJobs(&context, {}, &response).ok());
  }
  {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckResponse response;
    // No generated health stub here: the call by its method name.
    ASSERT_TRUE((grpc::internal::BlockingUnaryCall<grpc::health::v1::HealthCheckRequest,
                                                   grpc::health::v1::HealthCheckResponse>(
                     servers->channel.get(),
                     grpc::internal::RpcMethod("/grpc.health.v1.Health/Check",
                                               grpc::internal::RpcMethod::NORMAL_RPC),
                     &context, {}, &response))
                    .ok());
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
}

TEST(AuthIntegrationTest, AKeyUsesOnlyItsModels) {
  EXPECT_TRUE(Generate(kKeyA, "fake-model?tokens=2").ok());
  const testing::CallError error = testing::Decode(Generate(kKeyB, "fake-model"));
  EXPECT_EQ(error.code, grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(error.info.reason(), "MODEL_NOT_ALLOWED");
  EXPECT_EQ(error.info.metadata().at("keyId"), "team-b");
  EXPECT_EQ(error.message, "key \"team-b\" may not use model \"fake-model\"");

  // A job is refused whole, naming the item; BatchGenerate refuses items.
  v1::CreateBatchJobRequest job;
  *job.add_items()->mutable_request() = Prompt("other-model");
  *job.add_items()->mutable_request() = Prompt("fake-model");
  {
    grpc::ClientContext context;
    WithKey(&context, kKeyB);
    v1::BatchJob created;
    const testing::CallError refused = testing::Decode(
        v1::BatchJobs::NewStub(servers->channel)->CreateBatchJob(&context, job, &created));
    EXPECT_EQ(refused.code, grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_TRUE(absl::StartsWith(refused.message, "items[1].request.model: ")) << refused.message;
  }
  v1::BatchGenerateRequest batch;
  *batch.add_requests() = Prompt("fake-model");
  *batch.add_requests() = Prompt("fake-model?tokens=1");
  grpc::ClientContext context;
  WithKey(&context, kKeyB);
  auto reader = v1::Generation::NewStub(servers->channel)->BatchGenerate(&context, batch);
  v1::BatchGenerateResponse result;
  int denied = 0;
  while (reader->Read(&result)) {
    denied += result.has_error() && result.error().code() == grpc::StatusCode::PERMISSION_DENIED;
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(denied, 2);
}

TEST(AuthIntegrationTest, RequestsPerMinuteAreLimitedWithRetryInfo) {
  ASSERT_TRUE(Generate(kKeyLimited, "fake-model").ok());
  ASSERT_TRUE(Generate(kKeyLimited, "fake-model").ok());
  const testing::CallError error = testing::Decode(Generate(kKeyLimited, "fake-model"));
  EXPECT_EQ(error.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(error.info.reason(), "KEY_REQUEST_RATE_EXCEEDED");
  ASSERT_TRUE(error.has_retry_info);
  // A request refills every 30 s.
  EXPECT_GT(error.retry.retry_delay().seconds() * 1000 + error.retry.retry_delay().nanos() / 1e6,
            0);
  EXPECT_LE(error.retry.retry_delay().seconds(), 30);
}

TEST(AuthIntegrationTest, TheTokenBudgetIsSpentForGood) {
  v1::GenerateResponse response;
  ASSERT_TRUE(Generate(kKeyBudget, "fake-model", &response).ok());
  ASSERT_GE(response.usage().prompt_tokens() + response.usage().completion_tokens(), 10);
  const testing::CallError error = testing::Decode(Generate(kKeyBudget, "fake-model"));
  EXPECT_EQ(error.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(error.info.reason(), "KEY_TOKEN_BUDGET_EXHAUSTED");
  EXPECT_FALSE(error.has_retry_info);
}

TEST(AuthIntegrationTest, AKeysStreamsAreCounted) {
  auto stub = v1::Generation::NewStub(servers->channel);
  grpc::ClientContext first_context;
  WithKey(&first_context, kKeyStreams);
  auto first = stub->GenerateStream(&first_context, Prompt("fake-model?pace_ms=100&tokens=20"));
  v1::GenerateStreamResponse delta;
  ASSERT_TRUE(first->Read(&delta));  // open at the gateway for sure
  {
    grpc::ClientContext context;
    WithKey(&context, kKeyStreams);
    auto second = stub->GenerateStream(&context, Prompt("fake-model"));
    while (second->Read(&delta)) {
    }
    const testing::CallError error = testing::Decode(second->Finish());
    EXPECT_EQ(error.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(error.info.reason(), "KEY_STREAM_LIMIT");
  }
  first_context.TryCancel();
  while (first->Read(&delta)) {
  }
  first->Finish();
  // The slot comes back when the stream ends (the reactor's OnDone may
  // follow the caller's cancel by a moment).
  grpc::Status status;
  for (int attempt = 0; attempt < 50; ++attempt) {
    grpc::ClientContext context;
    WithKey(&context, kKeyStreams);
    auto again = stub->GenerateStream(&context, Prompt("fake-model"));
    while (again->Read(&delta)) {
    }
    status = again->Finish();
    if (status.ok()) break;
    usleep(100 * 1000);
  }
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST(AuthIntegrationTest, LogsAndMetricsNameTheKeyIdNeverTheKey) {
  ASSERT_TRUE(Generate(kKeyA, "fake-model?tokens=3").ok());
  const std::string log = servers->gateway->WaitForStderr("key=team-a");
  EXPECT_TRUE(absl::StrContains(log, "key=team-a model=fake-model")) << log;
  const std::string metrics = testing::HttpGet(servers->metrics_port, "/metrics");
  EXPECT_TRUE(absl::StrContains(metrics, "llmgateway_key_requests_total{key=\"team-a\",code=\"OK\"}"))
      << metrics;
  EXPECT_TRUE(absl::StrContains(metrics, "llmgateway_key_tokens_total{key=\"team-a\",type=\"completion\"}"));
  EXPECT_TRUE(
      absl::StrContains(metrics, "llmgateway_auth_failures_total{reason=\"API_KEY_INVALID\"}"));
  for (const char* key : {kKeyA, kKeyB, kKeyLimited, kKeyBudget, kKeyStreams}) {
    EXPECT_FALSE(absl::StrContains(log, key)) << key;
    EXPECT_FALSE(absl::StrContains(metrics, key)) << key;
    EXPECT_FALSE(absl::StrContains(servers->fakellm->ReadStderr(), key)) << key;
  }
}

TEST(AuthIntegrationTest, HashAndGenerateKeyFlags) {
  const std::string binary = testing::RunfilePath("server/llm_gateway");
  testing::RunResult hashed =
      testing::RunToExit("{ printf 'my-key\\n' | " + binary + " --hash_api_key; }");
  EXPECT_EQ(hashed.exit_code, 0);
  EXPECT_EQ(hashed.output, auth::Sha256Hex("my-key") + "\n");

  testing::RunResult generated = testing::RunToExit(binary + " --generate_api_key");
  ASSERT_EQ(generated.exit_code, 0);
  std::vector<std::string> lines = absl::StrSplit(generated.output, '\n');
  ASSERT_GE(lines.size(), 4u) << generated.output;
  const std::string key(absl::StripAsciiWhitespace(lines[1]));
  EXPECT_TRUE(absl::StartsWith(key, "lgw-")) << generated.output;
  EXPECT_TRUE(absl::StrContains(generated.output, auth::Sha256Hex(key))) << generated.output;

  testing::RunResult empty = testing::RunToExit("{ " + binary + " --hash_api_key </dev/null; }");
  EXPECT_EQ(empty.exit_code, 2);
}

TEST(AuthIntegrationTest, TheClientLibraryAndLlmgwSendTheKey) {
  client::ClientOptions options;
  options.target = absl::StrCat("127.0.0.1:", servers->gateway->port());
  {
    client::GatewayClient anonymous(options);
    EXPECT_EQ(anonymous.Generate(Prompt("fake-model")).status().code(),
              absl::StatusCode::kUnauthenticated);
  }
  options.api_key = kKeyA;
  client::GatewayClient keyed(options);
  EXPECT_TRUE(keyed.Generate(Prompt("fake-model")).ok());
  EXPECT_TRUE(keyed.ListModels().ok());

  const std::string llmgw = absl::StrCat(testing::RunfilePath("client/llmgw"),
                                         " --addr=127.0.0.1:", servers->gateway->port(),
                                         " generate --model=fake-model hi");
  testing::RunResult refused = testing::RunToExit("{ env -u LLM_GATEWAY_API_KEY " + llmgw + "; }");
  EXPECT_EQ(refused.exit_code, 16) << refused.output;  // UNAUTHENTICATED
  testing::RunResult answered =
      testing::RunToExit(absl::StrCat("{ LLM_GATEWAY_API_KEY=", kKeyA, " ", llmgw, "; }"));
  EXPECT_EQ(answered.exit_code, 0) << answered.output;
}

TEST(AuthIntegrationTest, AKeySeesOnlyItsOwnJobs) {
  auto jobs = v1::BatchJobs::NewStub(servers->channel);
  v1::CreateBatchJobRequest create;
  *create.add_items()->mutable_request() = Prompt("fake-model?tokens=1");
  v1::BatchJob job;
  {
    grpc::ClientContext context;
    WithKey(&context, kKeyA);
    ASSERT_TRUE(jobs->CreateBatchJob(&context, create, &job).ok());
  }
  v1::GetBatchJobRequest get;
  get.set_id(job.id());
  {
    grpc::ClientContext context;
    WithKey(&context, kKeyA);
    v1::BatchJob got;
    EXPECT_TRUE(jobs->GetBatchJob(&context, get, &got).ok());
  }
  // Another key: as if the job did not exist.
  {
    grpc::ClientContext context;
    WithKey(&context, kKeyLimited);
    v1::BatchJob got;
    EXPECT_EQ(jobs->GetBatchJob(&context, get, &got).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    WithKey(&context, kKeyLimited);
    v1::CancelBatchJobRequest cancel;
    cancel.set_id(job.id());
    v1::BatchJob got;
    EXPECT_EQ(jobs->CancelBatchJob(&context, cancel, &got).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    WithKey(&context, kKeyLimited);
    v1::ListBatchJobResultsRequest results;
    results.set_id(job.id());
    auto reader = jobs->ListBatchJobResults(&context, results);
    v1::BatchJobResult result;
    EXPECT_FALSE(reader->Read(&result));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  auto listed = [&](const char* key) {
    grpc::ClientContext context;
    WithKey(&context, key);
    v1::ListBatchJobsResponse response;
    EXPECT_TRUE(jobs->ListBatchJobs(&context, {}, &response).ok());
    bool found = false;
    for (const v1::BatchJob& j : response.jobs()) found |= j.id() == job.id();
    return found;
  };
  EXPECT_TRUE(listed(kKeyA));
  EXPECT_FALSE(listed(kKeyStreams));
}

}  // namespace
}  // namespace llmgateway
