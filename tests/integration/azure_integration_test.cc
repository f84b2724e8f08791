// Azure OpenAI through the real llm_gateway binary against fakellm's Azure
// mode, configured both ways Azure is deployed: the deployments path with
// api-version and an `api-key` header (the alias's upstream_model is the
// deployment), and the v1 path. Checks what goes upstream (URL, key header,
// extra headers, one of them a secret from the environment), a tools round
// trip and an image, Azure's stream
// (its first chunk has no id and no choices), both content filter outcomes,
// Azure's errors, a fallback from a failing deployment, and one request
// that fails over from Azure to Anthropic to Gemini.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "tests/integration/fakellm_client.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/provider_calls.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

using ::llmgateway::testing::CallError;
using ::llmgateway::testing::Collected;
using ::llmgateway::testing::Prompt;
using ::llmgateway::testing::Decode;
using ::llmgateway::testing::RecordedRequest;
using ::llmgateway::testing::Subprocess;
using ::llmgateway::testing::TempPath;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;
using ::llmgateway::v1::GenerateStreamResponse;

constexpr const char* kApiKey = ::llmgateway::testing::kTestApiKey;
constexpr char kTenantSecret[] = "tenant-SECRET-4242-do-not-log";

class AzureServers : public ::testing::Environment {
 public:
  void SetUp() override {
    fakellm = testing::StartFakeLlm("azure-fakellm.log", {"--api_key", kApiKey});
    const std::string resource = absl::StrCat("http://127.0.0.1:", fakellm->port());
    const std::string deployments_http = absl::StrCat(
        "http { path: \"/openai/deployments/{model}/chat/completions\" ",
        "query { key: \"api-version\" value: \"2024-10-21\" } auth_header: \"api-key\" ",
        "headers { name: \"X-Tenant\" value_env: \"AZURE_TENANT_SECRET\" } ",
        "headers { name: \"X-Team\" value: \"search\" } }");
    const std::string config = absl::StrCat(
        "default_provider: \"azure\"\n",
        "retry { max_retries: 0 }\n",
        "cooldown { failures: 1000000 }\n",
        "providers { name: \"azure\" kind: \"openai\" base_url: \"", resource,
        "\" api_key_env: \"OPENAI_API_KEY\" ", deployments_http, " }\n",
        "providers { name: \"azure-v1\" kind: \"openai\" base_url: \"", resource,
        "/openai/v1\" api_key_env: \"OPENAI_API_KEY\" http { auth_header: \"api-key\" } }\n",
        // No api-version: Azure answers 404.
        "providers { name: \"azure-noversion\" kind: \"openai\" base_url: \"", resource,
        "\" api_key_env: \"OPENAI_API_KEY\" http { path: "
        "\"/openai/deployments/{model}/chat/completions\" auth_header: \"api-key\" } }\n",
        // The key in the wrong header: Azure answers 401.
        "providers { name: \"azure-bearer\" kind: \"openai\" base_url: \"", resource,
        "\" api_key_env: \"OTHER_KEY\" http { path: "
        "\"/openai/deployments/{model}/chat/completions\" query { key: \"api-version\" "
        "value: \"1\" } } }\n",
        "providers { name: \"gpt\" kind: \"openai\" base_url: \"", resource,
        "/v1\" api_key_env: \"OPENAI_API_KEY\" }\n",
        "models { name: \"gpt-4o\" provider: \"azure\" upstream_model: \"fake-model\" }\n",
        "models { name: \"gpt-4o-v1\" provider: \"azure-v1\" upstream_model: \"fake-model\" }\n",
        "models { name: \"no-version\" provider: \"azure-noversion\" upstream_model: \"fake-model\" }\n",
        "models { name: \"wrong-key\" provider: \"azure-bearer\" upstream_model: \"fake-model\" }\n",
        "models { name: \"azure-down\" provider: \"azure\" upstream_model: "
        "\"fake-model?status=503\" fallbacks: \"gpt-up\" }\n",
        "models { name: \"gpt-up\" provider: \"gpt\" upstream_model: \"fake-model\" }\n",
        // One request through three wire formats: Azure (OpenAI), then
        // Anthropic, then Gemini.
        "providers { name: \"claude\" kind: \"anthropic\" base_url: \"", resource,
        "/v1\" api_key_env: \"OPENAI_API_KEY\" }\n",
        "providers { name: \"gemini\" kind: \"gemini\" base_url: \"", resource,
        "/v1beta\" api_key_env: \"OPENAI_API_KEY\" }\n",
        "models { name: \"three-formats\" provider: \"azure\" upstream_model: "
        "\"fake-model?status=503\" fallbacks: \"claude-down\" fallbacks: \"gemini-up\" }\n",
        "models { name: \"claude-down\" provider: \"claude\" upstream_model: "
        "\"fake-model?status=503\" }\n",
        "models { name: \"gemini-up\" provider: \"gemini\" upstream_model: \"fake-model\" }\n");
    const std::string path = TempPath("azure.textproto");
    {
      std::ofstream file(path);
      file << config;
    }
    gateway = testing::StartGateway(
        testing::FakeLlmBaseUrl(*fakellm), {"--config=" + path}, "azure-gateway.log",
        {absl::StrCat("AZURE_TENANT_SECRET=", kTenantSecret), "OTHER_KEY=not-the-key-123456"});
    stub_channel = testing::ChannelTo(*gateway);
  }

  void TearDown() override {
    const std::string log = gateway->ReadStderr();
    EXPECT_FALSE(absl::StrContains(log, kApiKey));
    EXPECT_FALSE(absl::StrContains(log, kTenantSecret));
    stub_channel.reset();
    gateway.reset();
    fakellm.reset();
  }

  std::unique_ptr<Subprocess> fakellm;
  std::unique_ptr<Subprocess> gateway;
  std::shared_ptr<grpc::Channel> stub_channel;
};

AzureServers* const servers =
    static_cast<AzureServers*>(::testing::AddGlobalTestEnvironment(new AzureServers()));

grpc::Status Generate(const GenerateRequest& request, GenerateResponse* response) {
  return testing::GenerateOn(*servers->stub_channel, request, response);
}

RecordedRequest Sent(const std::string& marker) {
  return testing::SentOnceWith(servers->fakellm->port(), marker);
}

TEST(AzureIntegrationTest, DeploymentsPathWithApiVersionApiKeyAndHeaders) {
  GenerateResponse response;
  ASSERT_TRUE(Generate(Prompt("gpt-4o", "azure-deploy"), &response).ok());
  EXPECT_EQ(response.text(), "Echo: azure-deploy lorem ipsum dolor sit amet consectetur");
  EXPECT_EQ(response.provider(), "azure");
  const RecordedRequest sent = Sent("azure-deploy");
  EXPECT_EQ(sent.path, "/openai/deployments/fake-model/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(sent.headers.at("api-key"), kApiKey);
  EXPECT_EQ(sent.headers.count("authorization"), 0u);
  EXPECT_EQ(sent.headers.at("x-tenant"), kTenantSecret);
  EXPECT_EQ(sent.headers.at("x-team"), "search");
}

TEST(AzureIntegrationTest, V1Path) {
  GenerateResponse response;
  ASSERT_TRUE(Generate(Prompt("gpt-4o-v1", "azure-v1-path"), &response).ok());
  EXPECT_EQ(response.provider(), "azure-v1");
  const RecordedRequest sent = Sent("azure-v1-path");
  EXPECT_EQ(sent.path, "/openai/v1/chat/completions");
  EXPECT_EQ(testing::JsonAt(sent.body, "/model"), "\"fake-model\"");
  EXPECT_EQ(sent.headers.at("api-key"), kApiKey);
}

TEST(AzureIntegrationTest, StreamSkipsAzuresPromptFilterChunk) {
  Collected stream = testing::StreamOn(*servers->stub_channel, Prompt("gpt-4o", "azure-stream"));
  ASSERT_TRUE(stream.status.ok());
  const std::vector<GenerateStreamResponse>& chunks = stream.messages;
  ASSERT_FALSE(chunks.empty());
  // The first message names the answer: Azure's id-less first chunk must
  // not be taken for it.
  EXPECT_FALSE(chunks.front().id().empty());
  EXPECT_EQ(chunks.front().model(), "fake-model");
  EXPECT_EQ(stream.text, "Echo: azure-stream lorem ipsum dolor sit amet consectetur");
  EXPECT_EQ(chunks.back().finish_reason(), v1::FINISH_REASON_STOP);
}

TEST(AzureIntegrationTest, PromptFilteredIsInvalidArgumentContentFiltered) {
  GenerateResponse response;
  CallError error = Decode(Generate(Prompt("fake-model?content_filter=prompt", "x"), &response));
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT) << error.message;
  EXPECT_EQ(error.info.reason(), "CONTENT_FILTERED");
  EXPECT_TRUE(absl::StrContains(error.message, "content management policy")) << error.message;

  error = Decode(
      testing::StreamOn(*servers->stub_channel, Prompt("fake-model?content_filter=prompt", "x"))
          .status);
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(error.info.reason(), "CONTENT_FILTERED");
}

TEST(AzureIntegrationTest, FilteredCompletionEndsWithContentFilter) {
  GenerateResponse response;
  ASSERT_TRUE(Generate(Prompt("fake-model?content_filter=completion", "x"), &response).ok());
  EXPECT_EQ(response.finish_reason(), v1::FINISH_REASON_CONTENT_FILTER);
  Collected stream =
      testing::StreamOn(*servers->stub_channel, Prompt("fake-model?content_filter=completion", "x"));
  ASSERT_TRUE(stream.status.ok());
  ASSERT_FALSE(stream.messages.empty());
  EXPECT_EQ(stream.messages.back().finish_reason(), v1::FINISH_REASON_CONTENT_FILTER);
}

TEST(AzureIntegrationTest, AzuresErrorsMapOntoTheContract) {
  GenerateResponse response;
  CallError missing_version = Decode(Generate(Prompt("no-version", "x"), &response));
  EXPECT_EQ(missing_version.code, grpc::StatusCode::NOT_FOUND) << missing_version.message;
  EXPECT_EQ(missing_version.info.reason(), "MODEL_NOT_FOUND");

  CallError wrong_key = Decode(Generate(Prompt("wrong-key", "x"), &response));
  EXPECT_EQ(wrong_key.code, grpc::StatusCode::INTERNAL) << wrong_key.message;
  EXPECT_EQ(wrong_key.info.reason(), "UPSTREAM_AUTH_FAILED");

  CallError throttled = Decode(Generate(Prompt("fake-model?status=429&retry_after=3", "x"), &response));
  EXPECT_EQ(throttled.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(throttled.has_retry_info);
}

TEST(AzureIntegrationTest, AFailingDeploymentFallsBack) {
  GenerateResponse response;
  ASSERT_TRUE(Generate(Prompt("azure-down", "azure-fallback"), &response).ok());
  EXPECT_EQ(response.provider(), "gpt");
  EXPECT_EQ(response.text(), "Echo: azure-fallback lorem ipsum dolor sit amet consectetur");
}

TEST(AzureIntegrationTest, OneRequestThroughThreeWireFormats) {
  GenerateResponse response;
  ASSERT_TRUE(Generate(Prompt("three-formats", "three-formats-marker"), &response).ok());
  EXPECT_EQ(response.provider(), "gemini");
  EXPECT_EQ(response.text(), "Echo: three-formats-marker lorem ipsum dolor sit amet consectetur");
  std::vector<std::string> paths;
  for (const RecordedRequest& sent :
       testing::SentWith(servers->fakellm->port(), "three-formats-marker")) {
    paths.push_back(sent.path);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "/openai/deployments/fake-model%3Fstatus%3D503/chat/completions"
                       "?api-version=2024-10-21",
                       "/v1/messages",
                       "/v1beta/models/fake-model:generateContent"}));
}

TEST(AzureIntegrationTest, ToolCallThenToolResultThroughTheDeploymentPath) {
  const std::string question = "weather in Oslo azure-tools-marker";
  GenerateRequest first = testing::ParseRequest(R"pb(
    model: "gpt-4o"
    tools {
      name: "get_weather"
      parameters {
        fields {
          key: "type"
          value { string_value: "object" }
        }
      }
    }
    tool_choice { mode: MODE_REQUIRED function_name: "get_weather" }
  )pb");
  v1::Message* user = first.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text(question);
  GenerateResponse call;
  ASSERT_TRUE(Generate(first, &call).ok());
  EXPECT_EQ(call.finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  ASSERT_EQ(call.message().parts_size(), 1);
  ASSERT_TRUE(call.message().parts(0).has_tool_call());
  const v1::ToolCall tool_call = call.message().parts(0).tool_call();
  EXPECT_EQ(tool_call.name(), "get_weather");
  EXPECT_EQ(tool_call.arguments(), absl::StrCat(R"({"query":")", question, R"("})"));
  const RecordedRequest sent = Sent("azure-tools-marker");
  EXPECT_EQ(sent.path, "/openai/deployments/fake-model/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(testing::JsonAt(sent.body, "/tool_choice/function/name"), "\"get_weather\"");

  // Turn 2: the assistant message as it came, then the tool's result.
  GenerateRequest second;
  second.set_model("gpt-4o");
  *second.add_messages() = first.messages(0);
  *second.add_messages() = call.message();
  v1::Message* tool = second.add_messages();
  tool->set_role(v1::ROLE_TOOL);
  v1::ToolResult* result = tool->add_parts()->mutable_tool_result();
  result->set_tool_call_id(tool_call.id());
  result->set_content("3C and snow azure-result-marker");
  GenerateResponse answer;
  ASSERT_TRUE(Generate(second, &answer).ok());
  EXPECT_EQ(answer.text(), "Tool result: 3C and snow azure-result-marker");
  EXPECT_EQ(answer.finish_reason(), v1::FINISH_REASON_STOP);
}

TEST(AzureIntegrationTest, AnImageGoesAsADataUrlThroughTheV1Path) {
  GenerateRequest request;
  request.set_model("gpt-4o-v1");
  v1::Message* user = request.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text("what is this azure-image-marker");
  v1::Media* image = user->add_parts()->mutable_media();
  image->set_mime_type("image/png");
  image->set_data(std::string("\x89PNG\r\n\x1a\n", 8));
  GenerateResponse response;
  ASSERT_TRUE(Generate(request, &response).ok());
  EXPECT_EQ(response.text(), "Echo: what is this azure-image-marker lorem ipsum dolor");
  const RecordedRequest sent = Sent("azure-image-marker");
  EXPECT_EQ(sent.path, "/openai/v1/chat/completions");
  EXPECT_EQ(testing::JsonAt(sent.body, "/messages/0/content/1"),
            R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}})");
}

}  // namespace
}  // namespace llmgateway
