// The keys never leave: distinctive provider and caller keys go through
// every path (answers, each upstream error with a hostile upstream that
// quotes the key back, mid-stream error events, broken streams, auth
// refusals, BatchGenerate, a batch job and its results, llmgw) and every
// status message, status detail, answer, log line and /metrics scrape is
// searched for them.
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/batch_jobs.grpc.pb.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "server/auth/api_key.h"
#include "tests/integration/fakellm_client.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::GenerateRequest;

constexpr char kCallerKey[] = "lgw-CALLERSECRET-4b1d77e0c2";

GenerateRequest Prompt(const std::string& model) {
  GenerateRequest request;
  request.set_model(model);
  request.set_prompt("tell me a secret");
  return request;
}

class SecretHygieneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string config = testing::TempPath("secrets-config.textproto");
    std::ofstream(config) << "auth { keys { id: \"tenant\" sha256: \""
                          << auth::Sha256Hex(kCallerKey) << "\" } }\n";
    fakellm_ = testing::StartFakeLlm("secrets-fakellm.log", {"--api_key", testing::kTestApiKey});
    metrics_port_ = testing::UnusedPort();
    gateway_ = testing::StartGateway(
        testing::FakeLlmBaseUrl(*fakellm_),
        {"--config=" + config, absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_)},
        "secrets-gateway.log");
    channel_ = testing::ChannelTo(*gateway_);
  }

  void Authorize(grpc::ClientContext* context, const std::string& key = kCallerKey) {
    context->AddMetadata("authorization", "Bearer " + key);
  }

  // Everything a caller can see of a status.
  void Keep(const grpc::Status& status) {
    seen_.push_back(status.error_message());
    seen_.push_back(status.error_details());
  }
  void Keep(const google::protobuf::Message& message) { seen_.push_back(message.DebugString()); }

  void Unary(const std::string& model, const std::string& key = kCallerKey) {
    grpc::ClientContext context;
    Authorize(&context, key);
    v1::GenerateResponse response;
    Keep(v1::Generation::NewStub(channel_)->Generate(&context, Prompt(model), &response));
    Keep(response);
  }

  void Stream(const std::string& model) {
    grpc::ClientContext context;
    Authorize(&context);
    auto reader = v1::Generation::NewStub(channel_)->GenerateStream(&context, Prompt(model));
    v1::GenerateStreamResponse delta;
    while (reader->Read(&delta)) Keep(delta);
    Keep(reader->Finish());
  }

  std::unique_ptr<testing::Subprocess> fakellm_;
  std::unique_ptr<testing::Subprocess> gateway_;
  std::shared_ptr<grpc::Channel> channel_;
  int metrics_port_ = 0;
  std::vector<std::string> seen_;
};

TEST_F(SecretHygieneTest, NoPathLetsAKeyThrough) {
  const std::vector<std::string> errors = {
      "status=400", "status=400&code=context_length_exceeded", "status=401", "status=403",
      "status=404", "status=413", "status=429&retry_after=1", "status=429&code=insufficient_quota",
      "status=500", "status=503"};
  Unary("fake-model");
  Stream("fake-model");
  for (const std::string& error : errors) {
    Unary("fake-model?leak_key=1&" + error);
    Stream("fake-model?leak_key=1&" + error);
  }
  Stream("fake-model?leak_key=1&fault=error_event");
  Stream("fake-model?fault=drop");
  Unary("fake-model?fault=malformed");
  // Refused callers: a near miss of the key, a bare key, no key.
  Unary("fake-model", std::string(kCallerKey) + "x");
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", kCallerKey);
    v1::GenerateResponse response;
    Keep(v1::Generation::NewStub(channel_)->Generate(&context, Prompt("fake-model"), &response));
  }

  // BatchGenerate with every error at once.
  {
    v1::BatchGenerateRequest batch;
    for (const std::string& error : errors) *batch.add_requests() = Prompt("fake-model?leak_key=1&" + error);
    *batch.add_requests() = Prompt("fake-model");
    grpc::ClientContext context;
    Authorize(&context);
    auto reader = v1::Generation::NewStub(channel_)->BatchGenerate(&context, batch);
    v1::BatchGenerateResponse result;
    while (reader->Read(&result)) Keep(result);
    Keep(reader->Finish());
  }

  // A batch job of failing items, to its results.
  auto jobs = v1::BatchJobs::NewStub(channel_);
  v1::CreateBatchJobRequest create;
  for (const char* error : {"status=400", "status=401", "status=500"}) {
    *create.add_items()->mutable_request() = Prompt("fake-model?leak_key=1&" + std::string(error));
  }
  *create.add_items()->mutable_request() = Prompt("fake-model");
  v1::BatchJob job;
  {
    grpc::ClientContext context;
    Authorize(&context);
    ASSERT_TRUE(jobs->CreateBatchJob(&context, create, &job).ok());
  }
  for (int i = 0; i < 600 && job.state() != v1::BatchJob::STATE_SUCCEEDED &&
                  job.state() != v1::BatchJob::STATE_FAILED;
       ++i) {
    usleep(100 * 1000);
    grpc::ClientContext context;
    Authorize(&context);
    v1::GetBatchJobRequest get;
    get.set_id(job.id());
    ASSERT_TRUE(jobs->GetBatchJob(&context, get, &job).ok());
  }
  Keep(job);
  {
    grpc::ClientContext context;
    Authorize(&context);
    v1::ListBatchJobResultsRequest request;
    request.set_id(job.id());
    auto reader = jobs->ListBatchJobResults(&context, request);
    v1::BatchJobResult result;
    int results = 0;
    while (reader->Read(&result)) {
      Keep(result);
      ++results;
    }
    Keep(reader->Finish());
    EXPECT_EQ(results, 4);
  }

  // llmgw prints what a caller sees.
  const testing::RunResult llmgw = testing::RunToExit(absl::StrCat(
      "{ LLM_GATEWAY_API_KEY=", kCallerKey, " ", testing::RunfilePath("client/llmgw"),
      " --addr=127.0.0.1:", gateway_->port(), " generate --model='fake-model?leak_key=1&status=500' hi; }"));
  EXPECT_NE(llmgw.exit_code, 0);
  seen_.push_back(llmgw.output);

  seen_.push_back(testing::HttpGet(metrics_port_, "/metrics"));
  // Every call's line is written by then (the last was llmgw's).
  seen_.push_back(gateway_->WaitForStderr("model=fake-model?leak_key=1&status=500 "));

  // The hostile upstream was asked to quote the key (fakellm's self-test
  // shows it does), and got it: the gateway had it to leak.
  const std::string upstream_saw = testing::HttpGet(fakellm_->port(), "/_requests");
  EXPECT_TRUE(absl::StrContains(upstream_saw, "leak_key=1"));
  EXPECT_TRUE(absl::StrContains(upstream_saw, testing::kTestApiKey));
  ASSERT_GT(seen_.size(), 90u);
  // The quoting upstream's words reached callers (scrubbed), mid-stream too:
  // the paths under test did carry the key as far as the gateway's edge.
  bool quoted = false;
  bool quoted_mid_stream = false;
  for (const std::string& text : seen_) {
    quoted |= absl::StrContains(text, "(you sent ");
    quoted_mid_stream |= absl::StrContains(text, "upstream exploded with key ");
  }
  EXPECT_TRUE(quoted);
  EXPECT_TRUE(quoted_mid_stream);
  const std::string provider_key = testing::kTestApiKey;
  for (const std::string& text : seen_) {
    EXPECT_FALSE(absl::StrContains(text, provider_key)) << text;
    // A cut key's first characters are a leak too.
    EXPECT_FALSE(absl::StrContains(text, provider_key.substr(0, 12))) << text;
    EXPECT_FALSE(absl::StrContains(text, "SECRET")) << text;
    EXPECT_FALSE(absl::StrContains(text, kCallerKey)) << text;
    EXPECT_FALSE(absl::StrContains(text, "CALLERSECRET")) << text;
  }
}

}  // namespace
}  // namespace llmgateway
