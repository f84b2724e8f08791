#include "client/openai_chat.h"

#include <string>

#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace llmgateway::client {
namespace {

namespace v1 = ::llmgateway::v1;

google::protobuf::Struct Parse(const std::string& json) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
  return s;
}

absl::StatusOr<v1::GenerateRequest> Read(const std::string& json) {
  return ChatBodyToRequest(Parse(json), "body");
}

std::string Error(const std::string& json) {
  absl::StatusOr<v1::GenerateRequest> r = Read(json);
  EXPECT_FALSE(r.ok()) << json;
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  return std::string(r.status().message());
}

TEST(ChatBodyToRequestTest, MapsAPlainChat) {
  absl::StatusOr<v1::GenerateRequest> r = Read(R"({
    "model": "gpt-4o-mini",
    "messages": [{"role": "system", "content": "Be brief."},
                 {"role": "user", "content": "Hello", "name": "ann"}],
    "max_tokens": 100, "temperature": 0.5, "top_p": 0.9, "stop": "END", "seed": 7,
    "presence_penalty": 0.1, "frequency_penalty": 0.2, "user": "u-1",
    "reasoning_effort": "low", "n": 1})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model(), "gpt-4o-mini");
  ASSERT_EQ(r->messages_size(), 2);
  EXPECT_EQ(r->messages(0).role(), v1::ROLE_SYSTEM);
  EXPECT_EQ(r->messages(0).parts(0).text(), "Be brief.");
  EXPECT_EQ(r->messages(1).role(), v1::ROLE_USER);
  EXPECT_EQ(r->messages(1).name(), "ann");
  const v1::GenerationConfig& c = r->config();
  EXPECT_EQ(c.max_output_tokens(), 100);
  EXPECT_DOUBLE_EQ(c.temperature(), 0.5);
  EXPECT_DOUBLE_EQ(c.top_p(), 0.9);
  ASSERT_EQ(c.stop_sequences_size(), 1);
  EXPECT_EQ(c.stop_sequences(0), "END");
  EXPECT_EQ(c.seed(), 7);
  EXPECT_DOUBLE_EQ(c.presence_penalty(), 0.1);
  EXPECT_DOUBLE_EQ(c.frequency_penalty(), 0.2);
  EXPECT_EQ(c.reasoning().effort(), "low");
  EXPECT_EQ(r->end_user_id(), "u-1");
  EXPECT_TRUE(r->provider_options().empty());
}

TEST(ChatBodyToRequestTest, MapsMediaToolsAndToolTurns) {
  absl::StatusOr<v1::GenerateRequest> r = Read(R"({
    "model": "m",
    "messages": [
      {"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"}},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "cold"}],
    "tools": [{"type": "function", "function": {"name": "weather", "description": "d",
               "parameters": {"type": "object"}, "strict": true}}],
    "tool_choice": {"type": "function", "function": {"name": "weather"}},
    "parallel_tool_calls": false,
    "response_format": {"type": "json_schema",
                        "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": true}}})");
  ASSERT_TRUE(r.ok()) << r.status();
  const v1::Message& user = r->messages(0);
  ASSERT_EQ(user.parts_size(), 4);
  EXPECT_EQ(user.parts(1).media().mime_type(), "image/png");
  EXPECT_EQ(user.parts(1).media().data(), std::string("\x89PNG", 4));
  EXPECT_EQ(user.parts(2).media().uri(), "https://example.com/cat.jpg");
  EXPECT_EQ(user.parts(2).media().mime_type(), "image/*");
  EXPECT_EQ(user.parts(3).media().mime_type(), "audio/wav");
  EXPECT_EQ(user.parts(3).media().data(), "RIFF");
  const v1::Message& assistant = r->messages(1);
  ASSERT_EQ(assistant.parts_size(), 1);
  EXPECT_EQ(assistant.parts(0).tool_call().id(), "call_1");
  EXPECT_EQ(assistant.parts(0).tool_call().name(), "weather");
  EXPECT_EQ(assistant.parts(0).tool_call().arguments(), R"({"city":"Oslo"})");
  const v1::Message& tool = r->messages(2);
  EXPECT_EQ(tool.role(), v1::ROLE_TOOL);
  EXPECT_EQ(tool.parts(0).tool_result().tool_call_id(), "call_1");
  EXPECT_EQ(tool.parts(0).tool_result().content(), "cold");
  ASSERT_EQ(r->tools_size(), 1);
  EXPECT_EQ(r->tools(0).name(), "weather");
  EXPECT_TRUE(r->tools(0).strict());
  EXPECT_EQ(r->tools(0).parameters().fields().at("type").string_value(), "object");
  EXPECT_EQ(r->tool_choice().mode(), v1::ToolChoice::MODE_REQUIRED);
  EXPECT_EQ(r->tool_choice().function_name(), "weather");
  EXPECT_FALSE(r->config().parallel_tool_calls());
  EXPECT_TRUE(r->config().has_parallel_tool_calls());
  EXPECT_EQ(r->config().response_format().json_schema().name(), "out");
  EXPECT_TRUE(r->config().response_format().json_schema().strict());
}

TEST(ChatBodyToRequestTest, UnmappedKeysGoToTheOpenAiProviderOptions) {
  absl::StatusOr<v1::GenerateRequest> r = Read(R"({
    "model": "m", "messages": [{"role": "user", "content": "x"}],
    "logit_bias": {"50256": -100}, "logprobs": true, "metadata": null})");
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& openai = r->provider_options().at("openai").fields();
  EXPECT_EQ(openai.size(), 2u);
  EXPECT_TRUE(openai.at("logprobs").bool_value());
  EXPECT_EQ(openai.at("logit_bias").struct_value().fields().at("50256").number_value(), -100);
}

TEST(ChatBodyToRequestTest, ErrorsNameTheField) {
  EXPECT_EQ(Error(R"({"messages": []})"), "body.model: is required");
  EXPECT_EQ(Error(R"({"model": "m"})"), "body.messages: is required");
  EXPECT_EQ(Error(R"({"model": 3, "messages": []})"), "body.model: must be a string");
  EXPECT_EQ(Error(R"({"model": "m", "messages": [{"content": "x"}]})"),
            "body.messages[0].role: is required");
  EXPECT_EQ(Error(R"({"model": "m", "messages": [{"role": "robot", "content": "x"}]})"),
            "body.messages[0].role: \"robot\" is not one of system, developer, user, assistant, tool");
  EXPECT_EQ(Error(R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "video"}]}]})"),
            "body.messages[0].content[0].type: \"video\" is not one of text, image_url, input_audio, file");
  EXPECT_EQ(Error(R"({"model": "m", "messages": [{"role": "user", "content": [
              {"type": "image_url", "image_url": {"url": "data:image/png,raw"}}]}]})"),
            "body.messages[0].content[0].image_url.url: a data: URL must be base64 (data:<type>;base64,...)");
  EXPECT_EQ(Error(R"({"model": "m", "messages": [{"role": "tool", "content": "x"}]})"),
            "body.messages[0].tool_call_id: is required");
  EXPECT_EQ(Error(R"({"model": "m", "messages": [], "max_tokens": 1.5})"),
            "body.max_tokens: must be an integer from 1 to 2147483647");
  EXPECT_EQ(Error(R"({"model": "m", "messages": [], "max_tokens": 5, "max_completion_tokens": 5})"),
            "body.max_tokens: give max_tokens or max_completion_tokens, not both");
  EXPECT_EQ(Error(R"({"model": "m", "messages": [], "stream": true})"),
            "body.stream: batch items are not streamed");
  EXPECT_EQ(Error(R"({"model": "m", "messages": [], "n": 2})"),
            "body.n: must be 1: the gateway returns one choice");
  EXPECT_EQ(Error(R"({"model": "m", "messages": [], "tool_choice": "sometimes"})"),
            "body.tool_choice: must be \"auto\", \"none\", \"required\" or a function");
  EXPECT_EQ(Error(R"({"model": "m", "messages": [], "stop": ["a", 1]})"),
            "body.stop[1]: must be a string");
}

TEST(ResponseToChatCompletionTest, TextToolCallsReasoningAndUsage) {
  v1::GenerateResponse response;
  response.set_id("r-1");
  response.set_model("m");
  response.set_text("Hi");
  response.set_finish_reason(v1::FINISH_REASON_TOOL_CALLS);
  response.mutable_message()->add_parts()->mutable_reasoning()->set_text("think");
  response.mutable_message()->add_parts()->set_text("Hi");
  v1::ToolCall* call = response.mutable_message()->add_parts()->mutable_tool_call();
  call->set_id("c1");
  call->set_name("f");
  call->set_arguments("{}");
  response.mutable_usage()->set_prompt_tokens(3);
  response.mutable_usage()->set_completion_tokens(4);
  response.mutable_usage()->set_total_tokens(7);
  response.mutable_usage()->set_reasoning_tokens(2);

  // Exactly OpenAI's keys, in OpenAI's order, every time.
  EXPECT_EQ(ToOpenAiJson(ResponseToChatCompletion(response)),
            R"({"id":"r-1","object":"chat.completion","model":"m","choices":[{"index":0,)"
            R"("message":{"role":"assistant","content":"Hi","tool_calls":[{"id":"c1",)"
            R"("type":"function","function":{"name":"f","arguments":"{}"}}],)"
            R"("reasoning_content":"think"},"finish_reason":"tool_calls"}],)"
            R"("usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,)"
            R"("completion_tokens_details":{"reasoning_tokens":2}}})");
}

TEST(ResponseToChatCompletionTest, ToolCallsOnlyHaveNullContent) {
  v1::GenerateResponse response;
  response.mutable_message()->add_parts()->mutable_tool_call()->set_id("c1");
  EXPECT_EQ(ToOpenAiJson(ResponseToChatCompletion(response)),
            R"({"id":"","object":"chat.completion","model":"","choices":[{"index":0,)"
            R"("message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1",)"
            R"("type":"function","function":{"name":"","arguments":""}}]},"finish_reason":null}]})");
}

}  // namespace
}  // namespace llmgateway::client
