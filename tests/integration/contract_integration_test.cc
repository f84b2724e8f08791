// The richer v1 contract through the real binary and fakellm: media parts,
// a two-turn tool loop (unary and streamed), reasoning, structured output,
// provider options and labels, and unsupported fields.
#include <chrono>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "tests/integration/fakellm_client.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/provider_calls.h"

namespace llmgateway {
namespace {

using ::llmgateway::testing::kWeatherTool;

using ::llmgateway::testing::CallError;
using ::llmgateway::testing::Decode;
using ::llmgateway::testing::FindRequest;
using ::llmgateway::testing::JsonAt;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;
using ::llmgateway::v1::GenerateStreamResponse;

testing::Servers* const servers = testing::AddServers("contract");

GenerateRequest Parse(const std::string& textproto) {
  GenerateRequest request;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(textproto, &request)) << textproto;
  return request;
}

grpc::Status Generate(const GenerateRequest& request, GenerateResponse* response) {
  auto stub = v1::Generation::NewStub(servers->channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return stub->Generate(&context, request, response);
}

std::vector<GenerateStreamResponse> Stream(const GenerateRequest& request, grpc::Status* status) {
  auto stub = v1::Generation::NewStub(servers->channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto reader = stub->GenerateStream(&context, request);
  std::vector<GenerateStreamResponse> messages;
  GenerateStreamResponse message;
  while (reader->Read(&message)) messages.push_back(message);
  *status = reader->Finish();
  return messages;
}

std::string SentBody(const std::string& marker) {
  auto sent = FindRequest(servers->fakellm->port(), marker);
  EXPECT_TRUE(sent.has_value()) << "no upstream request with " << marker;
  return sent.has_value() ? sent->body : "";
}

TEST(ContractIntegrationTest, ImagePartsByUriAndBytesArriveAsContentParts) {
  GenerateRequest request = Parse(R"pb(
    model: "fake-model"
    messages {
      role: ROLE_USER
      parts { text: "what are these? marker-image" }
      parts { media { mime_type: "image/png" uri: "https://example.com/cat.png" } }
      parts { media { mime_type: "image/jpeg" data: "\377\330\377" } }
    }
  )pb");
  GenerateResponse response;
  grpc::Status status = Generate(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.text().rfind("Echo: what are these? marker-image", 0), 0u);
  EXPECT_EQ(JsonAt(SentBody("marker-image"), "/messages/0/content"),
            R"([{"type":"text","text":"what are these? marker-image"},)"
            R"({"type":"image_url","image_url":{"url":"https://example.com/cat.png"}},)"
            R"({"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/"}}])");
}


TEST(ContractIntegrationTest, TwoTurnToolLoop) {
  GenerateRequest first = Parse(absl::StrCat(
      R"pb(model: "fake-model" prompt: "weather in Paris marker-tool")pb", kWeatherTool));
  GenerateResponse call;
  ASSERT_TRUE(Generate(first, &call).ok());
  EXPECT_EQ(call.finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  ASSERT_EQ(call.message().parts_size(), 1);
  const v1::ToolCall& tool_call = call.message().parts(0).tool_call();
  EXPECT_EQ(tool_call.name(), "get_weather");
  EXPECT_FALSE(tool_call.id().empty());
  EXPECT_EQ(tool_call.arguments(), R"({"query":"weather in Paris marker-tool"})");
  const std::string first_body = SentBody("weather in Paris marker-tool");
  EXPECT_EQ(JsonAt(first_body, "/tools/0/function/name"), "\"get_weather\"");
  EXPECT_EQ(JsonAt(first_body, "/tools/0/function/parameters/properties/query/type"),
            "\"string\"");

  // Turn 2: the assistant message goes back as it came, plus the result.
  GenerateRequest second = Parse(absl::StrCat(R"pb(model: "fake-model")pb", kWeatherTool));
  auto* user = second.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text("weather in Paris marker-tool");
  *second.add_messages() = call.message();
  auto* result = second.add_messages();
  result->set_role(v1::ROLE_TOOL);
  result->add_parts()->mutable_tool_result()->set_tool_call_id(tool_call.id());
  result->mutable_parts(0)->mutable_tool_result()->set_content("18C and sunny marker-result");
  GenerateResponse answer;
  ASSERT_TRUE(Generate(second, &answer).ok());
  EXPECT_EQ(answer.text(), "Tool result: 18C and sunny marker-result");
  EXPECT_EQ(answer.finish_reason(), v1::FINISH_REASON_STOP);
  const std::string second_body = SentBody("marker-result");
  EXPECT_EQ(JsonAt(second_body, "/messages/1/tool_calls/0/id"),
            absl::StrCat("\"", tool_call.id(), "\""));
  EXPECT_EQ(JsonAt(second_body, "/messages/2"),
            absl::StrCat(R"({"role":"tool","tool_call_id":")", tool_call.id(),
                         R"(","content":"18C and sunny marker-result"})"));
}

TEST(ContractIntegrationTest, ToolCallsStreamAsFragmentsByIndex) {
  grpc::Status status;
  auto messages = Stream(Parse(absl::StrCat(
                             R"pb(model: "fake-model" prompt: "stream a call")pb", kWeatherTool)),
                         &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::string arguments, id, name;
  int fragments = 0;
  for (const GenerateStreamResponse& m : messages) {
    for (const v1::ToolCallDelta& d : m.tool_calls()) {
      EXPECT_EQ(d.index(), 0);
      if (!d.id().empty()) {
        EXPECT_TRUE(id.empty()) << "id in more than the first fragment";
        id = d.id();
        name = d.name();
      }
      arguments += d.arguments();
      ++fragments;
    }
  }
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(name, "get_weather");
  EXPECT_GT(fragments, 2);
  EXPECT_EQ(arguments, R"({"query":"stream a call"})");
  EXPECT_EQ(messages.back().finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
}

TEST(ContractIntegrationTest, ReasoningComesBeforeTheTextUnaryAndStreamed) {
  GenerateResponse response;
  ASSERT_TRUE(Generate(Parse(R"pb(model: "fake-model?reasoning=4&tokens=3"
                                  prompt: "think")pb"),
                       &response)
                  .ok());
  ASSERT_EQ(response.message().parts_size(), 2);
  EXPECT_EQ(response.message().parts(0).reasoning().text(), "Thinking about: think lorem");
  EXPECT_EQ(response.message().parts(1).text(), "Echo: think lorem");
  EXPECT_EQ(response.text(), "Echo: think lorem");
  EXPECT_EQ(response.usage().reasoning_tokens(), 4);

  grpc::Status status;
  auto messages = Stream(Parse(R"pb(model: "fake-model?reasoning=4&tokens=3"
                                    prompt: "think")pb"),
                         &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::string reasoning, text;
  bool text_started = false;
  for (const GenerateStreamResponse& m : messages) {
    if (!m.reasoning().text().empty()) {
      EXPECT_FALSE(text_started) << "reasoning after text";
      reasoning += m.reasoning().text();
    }
    if (!m.text().empty()) text_started = true;
    text += m.text();
  }
  EXPECT_EQ(reasoning, "Thinking about: think lorem");
  EXPECT_EQ(text, "Echo: think lorem");
  EXPECT_EQ(messages.back().usage().reasoning_tokens(), 4);
}

TEST(ContractIntegrationTest, JsonSchemaIsForwardedAndTheAnswerFollowsIt) {
  GenerateRequest request = Parse(R"pb(
    model: "fake-model"
    prompt: "Paris marker-schema"
    config {
      response_format {
        json_schema {
          name: "weather"
          strict: true
          schema {
            fields {
              key: "type"
              value { string_value: "object" }
            }
            fields {
              key: "properties"
              value {
                struct_value {
                  fields {
                    key: "city"
                    value {
                      struct_value {
                        fields {
                          key: "type"
                          value { string_value: "string" }
                        }
                      }
                    }
                  }
                  fields {
                    key: "celsius"
                    value {
                      struct_value {
                        fields {
                          key: "type"
                          value { string_value: "integer" }
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  )pb");
  GenerateResponse response;
  grpc::Status status = Generate(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(JsonAt(response.text(), "/city"), "\"Paris marker-schema\"");
  EXPECT_EQ(JsonAt(response.text(), "/celsius"), "42");
  const std::string body = SentBody("marker-schema");
  EXPECT_EQ(JsonAt(body, "/response_format/type"), "\"json_schema\"");
  EXPECT_EQ(JsonAt(body, "/response_format/json_schema/name"), "\"weather\"");
  EXPECT_EQ(JsonAt(body, "/response_format/json_schema/strict"), "true");
  EXPECT_EQ(JsonAt(body, "/response_format/json_schema/schema/properties/celsius/type"),
            "\"integer\"");
}

TEST(ContractIntegrationTest, ProviderOptionsForOpenAiOnlyAndLabelsNever) {
  GenerateRequest request = Parse(R"pb(
    model: "fake-model"
    prompt: "marker-options"
    labels { key: "team" value: "label-never-upstream" }
    provider_options {
      key: "openai"
      value {
        fields {
          key: "logprobs"
          value { bool_value: true }
        }
      }
    }
    provider_options {
      key: "anthropic"
      value {
        fields {
          key: "anthropic_only_option"
          value { number_value: 5 }
        }
      }
    }
  )pb");
  GenerateResponse response;
  grpc::Status status = Generate(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string body = SentBody("marker-options");
  EXPECT_EQ(JsonAt(body, "/logprobs"), "true");
  EXPECT_EQ(body.find("anthropic_only_option"), std::string::npos) << body;
  EXPECT_EQ(body.find("label-never-upstream"), std::string::npos) << body;
  EXPECT_EQ(body.find("team"), std::string::npos) << body;
}

TEST(ContractIntegrationTest, UnsupportedFieldNamesTheFieldAndTheProvider) {
  GenerateResponse response;
  CallError error = Decode(Generate(Parse(R"pb(model: "fake-model" prompt: "x"
                                             config { top_k: 5 })pb"),
                                    &response));
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(error.message, "config.top_k: not supported by provider \"openai\"");
  EXPECT_EQ(error.info.reason(), "UNSUPPORTED_FIELD");
  EXPECT_EQ(error.info.metadata().at("field"), "config.top_k");
  EXPECT_EQ(error.info.metadata().at("provider"), "openai");
}

TEST(ContractIntegrationTest, MediaTypeTheProviderCannotTakeIsInvalidArgument) {
  GenerateResponse response;
  CallError error = Decode(Generate(Parse(R"pb(
                                      model: "fake-model"
                                      messages {
                                        role: ROLE_USER
                                        parts { media { mime_type: "video/mp4" uri: "https://x/v.mp4" } }
                                      })pb"),
                                    &response));
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(error.message.rfind("messages[0].parts[0].media.mime_type:", 0), 0u) << error.message;
  EXPECT_EQ(error.info.metadata().at("provider"), "openai");
}

}  // namespace
}  // namespace llmgateway
