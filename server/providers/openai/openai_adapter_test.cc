// OpenAiAdapter: the HTTP shape of its requests (URL, key header, extra
// headers, as Azure OpenAI needs them) and its error mapping (the upstream's
// words bounded, secrets never passed on). Bodies, answers and streams:
// chat_*_test.
#include "server/providers/openai/openai_adapter.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "google/protobuf/text_format.h"
#include "server/common/status_details.h"
#include "server/config/config.pb.h"

namespace llmgateway::openai {
namespace {

namespace v1 = ::llmgateway::v1;

constexpr char kKey[] = "sk-proj-SECRET-0123456789abcdef";

absl::Status MapError(long status, const std::string& body) {
  config::Provider config;
  config.set_name("openai");
  config.set_kind("openai");
  config.set_base_url("https://api.openai.com/v1");
  OpenAiAdapter adapter(config, kKey);
  HttpErrorResponse response;
  response.status = status;
  response.body = body;
  return adapter.MapHttpError(response);
}

std::string ErrorJson(const std::string& message) {
  return absl::StrCat(R"({"error":{"message":")", message,
                      R"(","type":"invalid_request_error","code":null}})");
}

TEST(OpenAiAdapterTest, ALongUpstreamMessageIsBounded) {
  // Status messages travel in a trailer: a few KiB of upstream text would
  // break the caller's connection.
  const absl::Status status = MapError(400, ErrorJson(std::string(20000, 'w')));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(status.message().size(), 1200u);
  EXPECT_TRUE(absl::EndsWith(status.message(), "www...")) << status.message().substr(0, 80);
  EXPECT_EQ(GetErrorInfo(status)->reason(), "UPSTREAM_INVALID_REQUEST");
}

TEST(OpenAiAdapterTest, TheKeyIsNeverPassedOnEvenCutAtTheBound) {
  // The key quoted whole, then cut by the 1 KiB bound right inside it.
  const std::string before_cut(1024 - 12, 'x');
  for (const std::string& message :
       {absl::StrCat("Incorrect API key provided: ", kKey),
        absl::StrCat(before_cut, " ", kKey, " more text after the key")}) {
    const absl::Status status = MapError(400, ErrorJson(message));
    EXPECT_FALSE(absl::StrContains(status.message(), "SECRET")) << status.message();
    EXPECT_FALSE(absl::StrContains(status.message(), "sk-proj-S")) << status.message();
  }
}

config::Provider Provider(const std::string& http_textproto) {
  config::Provider config;
  config.set_name("azure");
  config.set_kind("openai");
  config.set_base_url("https://example-resource.openai.azure.com");
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(http_textproto, config.mutable_http()));
  return config;
}

AdapterRequest Build(const OpenAiAdapter& adapter, absl::string_view model) {
  v1::GenerateRequest request;
  request.set_model("alias");
  request.set_prompt("hi");
  AttemptOptions options;
  options.upstream_model = model;
  absl::StatusOr<AdapterRequest> built = adapter.BuildRequest(request, options);
  EXPECT_TRUE(built.ok()) << built.status();
  return built.ok() ? *built : AdapterRequest();
}

TEST(OpenAiAdapterHttpTest, OpenAiShapeByDefault) {
  config::Provider config = Provider("");
  config.clear_http();
  config.set_base_url("https://api.openai.com/v1");
  OpenAiAdapter adapter(config, kKey);
  AdapterRequest r = Build(adapter, "gpt-4o");
  EXPECT_EQ(r.url, "https://api.openai.com/v1/chat/completions");
  EXPECT_THAT(r.headers, ::testing::Contains(absl::StrCat("Authorization: Bearer ", kKey)));
}

TEST(OpenAiAdapterHttpTest, AzureDeploymentsPathApiVersionAndApiKey) {
  OpenAiAdapter adapter(Provider(R"(path: "/openai/deployments/{model}/chat/completions"
                                    query { key: "api-version" value: "2024-10-21" }
                                    auth_header: "api-key")"),
                        kKey);
  AdapterRequest r = Build(adapter, "gpt4o prod/eu");
  EXPECT_EQ(r.url,
            "https://example-resource.openai.azure.com/openai/deployments/gpt4o%20prod%2Feu/"
            "chat/completions?api-version=2024-10-21");
  EXPECT_THAT(r.headers, ::testing::Contains(absl::StrCat("api-key: ", kKey)));
  for (const std::string& header : r.headers) {
    EXPECT_FALSE(absl::StartsWith(header, "Authorization")) << header;
  }
}

TEST(OpenAiAdapterHttpTest, SortedEncodedQuerySchemesAndExtraHeaders) {
  OpenAiAdapter adapter(Provider(R"(path: "/openai/v1/chat/completions"
                                    query { key: "b" value: "x y" }
                                    query { key: "a" value: "1&2" }
                                    auth_header: "Authorization" auth_scheme: "Token"
                                    headers { name: "OpenAI-Organization" value: "org-1" }
                                    headers { name: "X-Tenant-Secret" value_env: "TENANT" }
                                    headers { name: "X-Unset" value_env: "UNSET" })"),
                        kKey, {"org-1", "tenant-secret-42", ""});
  AdapterRequest r = Build(adapter, "gpt-4o");
  EXPECT_EQ(r.url, "https://example-resource.openai.azure.com/openai/v1/chat/completions?a=1%262&b=x%20y");
  EXPECT_THAT(r.headers, ::testing::Contains(absl::StrCat("Authorization: Token ", kKey)));
  EXPECT_THAT(r.headers, ::testing::Contains("OpenAI-Organization: org-1"));
  EXPECT_THAT(r.headers, ::testing::Contains("X-Tenant-Secret: tenant-secret-42"));
  for (const std::string& header : r.headers) {
    EXPECT_FALSE(absl::StartsWith(header, "X-Unset")) << header;
  }
  // The environment's values are secrets; the literal one is not.
  EXPECT_THAT(adapter.secrets(), ::testing::ElementsAre(kKey, "tenant-secret-42"));
}

TEST(OpenAiAdapterHttpTest, AnEmptySchemeSendsTheBareKeyAndNoKeyNoHeader) {
  OpenAiAdapter bare(Provider(R"(auth_scheme: "")"), kKey);
  EXPECT_THAT(Build(bare, "m").headers, ::testing::Contains(absl::StrCat("Authorization: ", kKey)));
  OpenAiAdapter keyless(Provider(""), "");
  for (const std::string& header : Build(keyless, "m").headers) {
    EXPECT_FALSE(absl::StartsWith(header, "Authorization")) << header;
  }
  EXPECT_TRUE(keyless.secrets().empty());
}

TEST(OpenAiAdapterHttpTest, HeaderSecretsAreScrubbedFromErrors) {
  OpenAiAdapter adapter(Provider(R"(headers { name: "X-Tenant-Secret" value_env: "TENANT" })"), kKey,
                        {"tenant-secret-42"});
  HttpErrorResponse response;
  response.status = 400;
  const std::string body = ErrorJson("bad header tenant-secret-42 and key sk-proj-SECRET-0123456789abcdef");
  response.body = body;
  const std::string message(adapter.MapHttpError(response).message());
  EXPECT_EQ(message.find("tenant-secret-42"), std::string::npos) << message;
  EXPECT_EQ(message.find(kKey), std::string::npos) << message;
}

TEST(OpenAiAdapterHttpTest, AzureContentFilterErrorBody) {
  OpenAiAdapter adapter(Provider(R"(auth_header: "api-key")"), kKey);
  HttpErrorResponse response;
  response.status = 400;
  const std::string body =
      R"({"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}}})";
  response.body = body;
  absl::Status status = adapter.MapHttpError(response);
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_EQ(GetErrorInfo(status)->reason(), "CONTENT_FILTERED");
}

}  // namespace
}  // namespace llmgateway::openai
