// --metrics_listen through the real binary: after unary, streamed, failed
// and batch calls, /metrics counts each by method, model, provider and code,
// with tokens, upstream attempts, time to first token, open streams and
// batch items.
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/batch_jobs.grpc.pb.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "tests/integration/fakellm_client.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::GenerateRequest;

GenerateRequest Prompt(const std::string& model) {
  GenerateRequest request;
  request.set_model(model);
  request.set_prompt("count me");
  return request;
}

// The value of the sample whose line starts with `series` ("name{labels}"),
// or -1 when there is none.
double Sample(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  size_t at = text.rfind("\n" + prefix);
  if (at == std::string::npos) return -1;
  at += 1 + prefix.size();
  return std::stod(text.substr(at, text.find('\n', at) - at));
}

TEST(MetricsIntegrationTest, CallsOfEveryKindAreCounted) {
  auto fakellm = testing::StartFakeLlm("metrics-fakellm.log");
  const int metrics_port = testing::UnusedPort();
  auto gateway = testing::StartGateway(
      testing::FakeLlmBaseUrl(*fakellm),
      {absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port)}, "metrics-gateway.log");
  auto channel = testing::ChannelTo(*gateway);
  auto generation = v1::Generation::NewStub(channel);

  {
    grpc::ClientContext context;
    v1::GenerateResponse response;
    ASSERT_TRUE(generation->Generate(&context, Prompt("fake-model"), &response).ok());
  }
  {
    grpc::ClientContext context;
    v1::GenerateResponse response;
    EXPECT_FALSE(
        generation->Generate(&context, Prompt("fake-model?status=400"), &response).ok());
  }
  {
    grpc::ClientContext context;
    auto reader = generation->GenerateStream(&context, Prompt("fake-model"));
    v1::GenerateStreamResponse delta;
    while (reader->Read(&delta)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  {
    v1::BatchGenerateRequest batch;
    *batch.add_requests() = Prompt("fake-model");
    *batch.add_requests() = Prompt("fake-model");
    *batch.add_requests() = Prompt("fake-model?status=400");
    grpc::ClientContext context;
    auto reader = generation->BatchGenerate(&context, batch);
    v1::BatchGenerateResponse result;
    while (reader->Read(&result)) {
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  auto jobs = v1::BatchJobs::NewStub(channel);
  std::string job_id;
  {
    v1::CreateBatchJobRequest create;
    *create.add_items()->mutable_request() = Prompt("fake-model");
    *create.add_items()->mutable_request() = Prompt("fake-model");
    grpc::ClientContext context;
    v1::BatchJob job;
    ASSERT_TRUE(jobs->CreateBatchJob(&context, create, &job).ok());
    job_id = job.id();
  }
  for (int i = 0; i < 300; ++i) {
    grpc::ClientContext context;
    v1::GetBatchJobRequest get;
    get.set_id(job_id);
    v1::BatchJob job;
    ASSERT_TRUE(jobs->GetBatchJob(&context, get, &job).ok());
    if (job.state() == v1::BatchJob::STATE_SUCCEEDED) break;
    usleep(50 * 1000);
  }

  const std::string text = "\n" + testing::HttpGet(metrics_port, "/metrics");
  EXPECT_EQ(Sample(text, "llmgateway_requests_total{method=\"Generate\",model=\"fake-model\","
                         "provider=\"openai\",code=\"OK\"}"),
            1)
      << text;
  // A call no upstream answered has no provider.
  EXPECT_EQ(Sample(text, "llmgateway_requests_total{method=\"Generate\","
                         "model=\"fake-model?status=400\",provider=\"\","
                         "code=\"INVALID_ARGUMENT\"}"),
            1);
  EXPECT_EQ(Sample(text, "llmgateway_requests_total{method=\"GenerateStream\","
                         "model=\"fake-model\",provider=\"openai\",code=\"OK\"}"),
            1);
  EXPECT_EQ(Sample(text, "llmgateway_requests_total{method=\"BatchGenerate\",model=\"\","
                         "provider=\"\",code=\"OK\"}"),
            1);
  EXPECT_EQ(Sample(text, "llmgateway_requests_total{method=\"CreateBatchJob\",model=\"\","
                         "provider=\"\",code=\"OK\"}"),
            1);
  EXPECT_GE(Sample(text, "llmgateway_request_duration_seconds_count{method=\"Generate\"}"), 2);
  EXPECT_EQ(Sample(text, "llmgateway_time_to_first_token_seconds_count"), 1);
  EXPECT_EQ(Sample(text, "llmgateway_open_streams"), 0);
  // Generate, GenerateStream, 2 BatchGenerate items, 2 job items: 6 answers.
  EXPECT_EQ(Sample(text, "llmgateway_upstream_attempts_total{provider=\"openai\","
                         "outcome=\"OK\"}"),
            6);
  EXPECT_EQ(Sample(text, "llmgateway_upstream_attempts_total{provider=\"openai\","
                         "outcome=\"INVALID_ARGUMENT\"}"),
            2);
  EXPECT_GT(Sample(text, "llmgateway_tokens_total{model=\"fake-model\",provider=\"openai\","
                         "type=\"completion\"}"),
            0);
  EXPECT_EQ(Sample(text, "llmgateway_batch_items_total{state=\"succeeded\"}"), 4);
  EXPECT_EQ(Sample(text, "llmgateway_batch_items_total{state=\"failed\"}"), 1);
  // Present from the start; stderr (a file here) keeps up.
  EXPECT_EQ(Sample(text, "llmgateway_log_lines_dropped_total"), 0);
  // Prompts and keys never appear.
  EXPECT_EQ(text.find("count me"), std::string::npos);
  EXPECT_EQ(text.find(testing::kTestApiKey), std::string::npos);
}

}  // namespace
}  // namespace llmgateway
