// Golden tests of BuildChatRequest: exact bodies, so any change to what goes
// upstream (key order included) shows up in review.
#include "server/providers/openai/chat_request.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::openai {
namespace {

using ::testing::HasSubstr;

v1::GenerateRequest Req(const std::string& textproto) {
  v1::GenerateRequest r;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(textproto, &r))
      << textproto;
  return r;
}

std::string Build(const std::string& textproto, bool stream = false) {
  ChatRequestOptions o;
  o.upstream_model = "gpt-4o-mini";
  o.stream = stream;
  absl::StatusOr<std::string> body = BuildChatRequest(Req(textproto), o);
  EXPECT_TRUE(body.ok()) << body.status();
  return body.ok() ? *body : "";
}

absl::Status BuildError(const std::string& textproto,
                        absl::string_view provider = "openai") {
  ChatRequestOptions o;
  o.upstream_model = "m";
  o.provider_name = provider;
  absl::StatusOr<std::string> body = BuildChatRequest(Req(textproto), o);
  EXPECT_FALSE(body.ok()) << *body;
  return body.status();
}

TEST(BuildChatRequestTest, PromptIsOneUserMessage) {
  EXPECT_EQ(Build(R"pb(model: "alias" prompt: "Hello")pb"),
            R"({"model":"gpt-4o-mini","messages":[)"
            R"({"role":"user","content":"Hello"}]})");
}

TEST(BuildChatRequestTest, UsesUpstreamModelNotTheAlias) {
  ChatRequestOptions o;
  o.upstream_model = "meta-llama/Llama-3.1-8B-Instruct";
  absl::StatusOr<std::string> body =
      BuildChatRequest(Req(R"pb(model: "fast" prompt: "x")pb"), o);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, R"({"model":"meta-llama/Llama-3.1-8B-Instruct","messages":[)"
                   R"({"role":"user","content":"x"}]})");
}

TEST(BuildChatRequestTest, EveryRoleAndName) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_SYSTEM
                parts { text: "s" }
              }
              messages {
                role: ROLE_DEVELOPER
                parts { text: "d" }
              }
              messages {
                role: ROLE_USER
                name: "alice"
                parts { text: "u" }
              }
              messages {
                role: ROLE_ASSISTANT
                parts { text: "a" }
              }
              messages {
                role: ROLE_TOOL
                parts { text: "t" }
              }
            )pb"),
            R"({"model":"gpt-4o-mini","messages":[)"
            R"({"role":"system","content":"s"},)"
            R"({"role":"developer","content":"d"},)"
            R"({"role":"user","name":"alice","content":"u"},)"
            R"({"role":"assistant","content":"a"},)"
            R"({"role":"tool","content":"t"}]})");
}

TEST(BuildChatRequestTest, SeveralTextPartsBecomeAContentArray) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_USER
                parts { text: "first" }
                parts { text: "second" }
              }
            )pb"),
            R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":[)"
            R"({"type":"text","text":"first"},)"
            R"({"type":"text","text":"second"}]}]})");
}

TEST(BuildChatRequestTest, MessageWithoutPartsHasEmptyContent) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_USER
                parts { text: "hi" }
              }
              messages { role: ROLE_ASSISTANT }
            )pb"),
            R"({"model":"gpt-4o-mini","messages":[)"
            R"({"role":"user","content":"hi"},)"
            R"({"role":"assistant","content":""}]})");
}

TEST(BuildChatRequestTest, TextIsEscaped) {
  EXPECT_EQ(Build(R"pb(prompt: "say \"hi\"\n\tback\\slash \001 é")pb"),
            R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":)"
            R"("say \"hi\"\n\tback\\slash \u0001 é"}]})");
}

TEST(BuildChatRequestTest, AllMappedConfigFields) {
  EXPECT_EQ(Build(R"pb(
              prompt: "p"
              config {
                temperature: 0.7
                top_p: 0.9
                max_output_tokens: 256
                stop_sequences: "END"
                stop_sequences: "\n\n"
                seed: 42
                presence_penalty: -0.5
                frequency_penalty: 1
              }
              end_user_id: "user-123"
            )pb"),
            R"({"model":"gpt-4o-mini","messages":[)"
            R"({"role":"user","content":"p"}],)"
            R"("temperature":0.7,"top_p":0.9,"max_tokens":256,)"
            R"("stop":["END","\n\n"],"seed":42,)"
            R"("presence_penalty":-0.5,"frequency_penalty":1,)"
            R"("user":"user-123"})");
}

TEST(BuildChatRequestTest, OnlySetConfigFieldsAreSent) {
  // temperature 0 is set (proto3 optional), so it is sent; the rest are not.
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { temperature: 0 })pb"),
            R"({"model":"gpt-4o-mini","messages":[)"
            R"({"role":"user","content":"p"}],"temperature":0})");
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config {})pb"),
            R"({"model":"gpt-4o-mini","messages":[)"
            R"({"role":"user","content":"p"}]})");
}

TEST(BuildChatRequestTest, LargeSeed) {
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { seed: -9223372036854775808 })pb"),
            R"({"model":"gpt-4o-mini","messages":[)"
            R"({"role":"user","content":"p"}],"seed":-9223372036854775808})");
}

TEST(BuildChatRequestTest, StreamAsksForUsage) {
  EXPECT_EQ(Build(R"pb(prompt: "p")pb", /*stream=*/true),
            R"({"model":"gpt-4o-mini","messages":[)"
            R"({"role":"user","content":"p"}],)"
            R"("stream":true,"stream_options":{"include_usage":true}})");
}

TEST(BuildChatRequestTest, LabelsAndRoutingNeverGoUpstream) {
  EXPECT_EQ(Build(R"pb(
              prompt: "p"
              labels { key: "team" value: "search" }
              routing { fallback_models: "other" max_attempts: 3 }
            )pb"),
            R"({"model":"gpt-4o-mini","messages":[)"
            R"({"role":"user","content":"p"}]})");
}

TEST(BuildChatRequestTest, OtherProvidersOptionsAreIgnored) {
  EXPECT_EQ(Build(R"pb(
              prompt: "p"
              provider_options {
                key: "anthropic"
                value {
                  fields {
                    key: "top_k"
                    value { number_value: 5 }
                  }
                }
              }
            )pb"),
            R"({"model":"gpt-4o-mini","messages":[)"
            R"({"role":"user","content":"p"}]})");
}

TEST(BuildChatRequestTest, TextResponseFormatAndEmptyReasoningAreDefaults) {
  EXPECT_EQ(Build(R"pb(
              prompt: "p"
              config {
                response_format { text {} }
                reasoning {}
              }
              tool_choice {}
            )pb"),
            R"({"model":"gpt-4o-mini","messages":[)"
            R"({"role":"user","content":"p"}]})");
}

TEST(BuildChatRequestTest, ReservesEnoughForALongPrompt) {
  const std::string prompt(100000, 'x');
  ChatRequestOptions o;
  o.upstream_model = "m";
  v1::GenerateRequest r;
  r.set_prompt(prompt);
  absl::StatusOr<std::string> body = BuildChatRequest(r, o);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->size(), prompt.size() + 55);
  EXPECT_GE(body->capacity(), body->size());
  EXPECT_LT(body->capacity(), 2 * body->size());
}

// Errors.

TEST(BuildChatRequestErrorTest, UnspecifiedRole) {
  absl::Status s = BuildError(R"pb(
    messages {
      role: ROLE_USER
      parts { text: "a" }
    }
    messages { parts { text: "b" } }
  )pb");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()), "messages[1].role: must be set");
}

TEST(BuildChatRequestErrorTest, UnknownRoleValue) {
  v1::GenerateRequest r;
  v1::Message* m = r.add_messages();
  m->set_role(static_cast<v1::Role>(42));
  m->add_parts()->set_text("x");
  ChatRequestOptions o;
  absl::StatusOr<std::string> body = BuildChatRequest(r, o);
  EXPECT_EQ(body.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(body.status().message()),
            "messages[0].role: unknown value 42");
}

TEST(BuildChatRequestErrorTest, UnmappedPartsAreUnimplemented) {
  struct Case {
    const char* part;
    const char* field;
  } cases[] = {
      {R"pb(media { mime_type: "image/png" uri: "https://x/y.png" })pb",
       "media"},
      {R"pb(tool_call { id: "c1" name: "f" arguments: "{}" })pb", "tool_call"},
      {R"pb(tool_result { tool_call_id: "c1" content: "ok" })pb",
       "tool_result"},
      {R"pb(reasoning { text: "hmm" })pb", "reasoning"},
  };
  for (const Case& c : cases) {
    absl::Status s = BuildError(absl::StrCat(R"pb(messages {
                                                    role: ROLE_SYSTEM
                                                    parts { text: "s" }
                                                  }
                                                  messages { role: ROLE_USER
                                                             parts { text: "a" }
                                                             parts {)pb",
                                             c.part, "} }"),
                                "my-vllm");
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << c.field;
    EXPECT_EQ(std::string(s.message()),
              absl::StrCat("messages[1].parts[1].", c.field,
                           ": not supported yet by the gateway for provider "
                           "\"my-vllm\""));
  }
}

TEST(BuildChatRequestErrorTest, EmptyPart) {
  absl::Status s = BuildError(R"pb(messages {
                                     role: ROLE_USER
                                     parts {}
                                   })pb");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()), "messages[0].parts[0]: must be set");
}

TEST(BuildChatRequestErrorTest, TopKIsInvalidForOpenAI) {
  absl::Status s = BuildError(R"pb(prompt: "p"
                                   config { top_k: 40 })pb");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.message()),
            "config.top_k: not supported by provider \"openai\"");
}

TEST(BuildChatRequestErrorTest, UnmappedRequestFieldsAreUnimplemented) {
  struct Case {
    const char* request;
    const char* field;
  } cases[] = {
      {R"pb(tools { name: "f" })pb", "tools"},
      {R"pb(tool_choice { mode: MODE_NONE })pb", "tool_choice"},
      {R"pb(tool_choice { function_name: "f" })pb", "tool_choice"},
      {R"pb(config { parallel_tool_calls: false })pb",
       "config.parallel_tool_calls"},
      {R"pb(config { response_format { json_object {} } })pb",
       "config.response_format.json_object"},
      {R"pb(config { response_format { json_schema { name: "s" } } })pb",
       "config.response_format.json_schema"},
      {R"pb(config { reasoning { effort: "low" } })pb", "config.reasoning"},
      {R"pb(config { reasoning { budget_tokens: 0 } })pb", "config.reasoning"},
      {R"pb(config { reasoning { include_reasoning: true } })pb",
       "config.reasoning"},
      {R"pb(provider_options {
              key: "openai"
              value {
                fields {
                  key: "logprobs"
                  value { bool_value: true }
                }
              }
            })pb",
       "provider_options[\"openai\"]"},
  };
  for (const Case& c : cases) {
    absl::Status s = BuildError(absl::StrCat(R"pb(prompt: "p")pb", c.request));
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << c.field;
    EXPECT_EQ(std::string(s.message()),
              absl::StrCat(c.field,
                           ": not supported yet by the gateway for provider "
                           "\"openai\""));
  }
}

TEST(BuildChatRequestErrorTest, PromptAndMessagesTogether) {
  absl::Status s = BuildError(R"pb(
    prompt: "p"
    messages {
      role: ROLE_USER
      parts { text: "a" }
    }
  )pb");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("prompt"));
}

TEST(BuildChatRequestErrorTest, NeitherPromptNorMessages) {
  absl::Status s = BuildError(R"pb(model: "m")pb");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("messages"));
}

}  // namespace
}  // namespace llmgateway::openai
