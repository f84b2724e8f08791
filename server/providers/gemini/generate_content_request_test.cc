// Golden tests of BuildGenerateContentRequest: exact bodies, so any change
// to what goes upstream (key order included) shows up in review.
#include "server/providers/gemini/generate_content_request.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"
#include "server/providers/common/adapter_test_util.h"

namespace llmgateway::gemini {
namespace {

using ::llmgateway::providers::test_util::ExpectValidJson;
using ::llmgateway::providers::test_util::ParseRequest;
using ::testing::HasSubstr;
using ::testing::Not;

// The body of every prompt "p" request up to where the optional keys start.
constexpr char kPromptHead[] =
    R"({"contents":[{"role":"user","parts":[{"text":"p"}]}])";

GenerateContentRequestOptions Options() {
  GenerateContentRequestOptions o;
  o.provider_name = "google";
  return o;
}

std::string Build(const std::string& textproto,
                  const GenerateContentRequestOptions& o = Options()) {
  absl::StatusOr<std::string> body =
      BuildGenerateContentRequest(ParseRequest(textproto), o);
  EXPECT_TRUE(body.ok()) << body.status();
  if (!body.ok()) return "";
  ExpectValidJson(*body);
  return *body;
}

absl::Status BuildError(const std::string& textproto,
                        const GenerateContentRequestOptions& o = Options()) {
  absl::StatusOr<std::string> body =
      BuildGenerateContentRequest(ParseRequest(textproto), o);
  EXPECT_FALSE(body.ok()) << *body;
  return body.status();
}

// Expects INVALID_ARGUMENT with exactly `message`, and the field's details.
void ExpectInvalid(const absl::Status& s, absl::string_view message) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(std::string(s.message()), std::string(message));
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value()) << s;
  const std::string field(message.substr(0, message.find(": ")));
  EXPECT_EQ(info->metadata().at("field"), field);
}

// Expects the UNSUPPORTED_FIELD error for `field`.
void ExpectUnsupported(const absl::Status& s, absl::string_view field) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(std::string(s.message()),
            absl::StrCat(field, ": not supported by provider \"google\""));
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "UNSUPPORTED_FIELD");
  EXPECT_EQ(info->metadata().at("field"), std::string(field));
}

TEST(GenerateContentRequestTest, Prompt) {
  EXPECT_EQ(Build(R"pb(model: "alias" prompt: "p")pb"), std::string(kPromptHead) + "}");
}

TEST(GenerateContentRequestTest, SystemDeveloperAndMergedTurns) {
  EXPECT_EQ(Build(R"pb(
              messages { role: ROLE_SYSTEM parts { text: "Be brief" } }
              messages { role: ROLE_USER parts { text: "a" } parts { text: "" } }
              messages { role: ROLE_USER parts { text: "b" } }
              messages { role: ROLE_ASSISTANT parts { text: "c" } }
              messages { role: ROLE_DEVELOPER parts { text: "Dev" } parts { text: "note" } }
              messages { role: ROLE_USER parts { text: "d" } }
            )pb"),
            R"({"contents":[)"
            R"({"role":"user","parts":[{"text":"a"},{"text":"b"}]},)"
            R"({"role":"model","parts":[{"text":"c"}]},)"
            R"({"role":"user","parts":[{"text":"d"}]}],)"
            R"("systemInstruction":{"parts":[{"text":"Be brief"},{"text":"Dev"},{"text":"note"}]}})");
}

TEST(GenerateContentRequestTest, OnlySystemMessagesIsAnError) {
  EXPECT_EQ(BuildError(R"pb(messages { role: ROLE_SYSTEM parts { text: "s" } })pb").message(),
            "messages: provider \"google\" needs a user or assistant message with content");
}

TEST(GenerateContentRequestTest, GenerationConfig) {
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config {
                         temperature: 0.5
                         top_p: 0.25
                         top_k: 40
                         max_output_tokens: 100
                         stop_sequences: "END"
                         stop_sequences: "STOP"
                         seed: -7
                         presence_penalty: 0.5
                         frequency_penalty: -0.5
                       })pb"),
            std::string(kPromptHead) +
                R"(,"generationConfig":{"temperature":0.5,"topP":0.25,"topK":40,)"
                R"("maxOutputTokens":100,"stopSequences":["END","STOP"],"seed":-7,)"
                R"("presencePenalty":0.5,"frequencyPenalty":-0.5}})");
}

TEST(GenerateContentRequestTest, SeedMustFitIn32Bits) {
  ExpectInvalid(BuildError(R"pb(prompt: "p" config { seed: 4294967296 })pb"),
                "config.seed: must fit in 32 bits (provider \"google\" takes an int32 seed)");
}

TEST(GenerateContentRequestTest, JsonFormats) {
  EXPECT_EQ(Build(R"pb(prompt: "p" config { response_format { json_object {} } })pb"),
            std::string(kPromptHead) +
                R"(,"generationConfig":{"responseMimeType":"application/json"}})");
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config {
                         response_format {
                           json_schema {
                             name: "answer"
                             strict: true
                             schema {
                               fields {
                                 key: "type"
                                 value { string_value: "object" }
                               }
                               fields {
                                 key: "additionalProperties"
                                 value { bool_value: false }
                               }
                             }
                           }
                         }
                       })pb"),
            std::string(kPromptHead) +
                R"(,"generationConfig":{"responseMimeType":"application/json",)"
                R"("responseJsonSchema":{"additionalProperties":false,"type":"object"}}})");
  // Text is the default: nothing to send.
  EXPECT_EQ(Build(R"pb(prompt: "p" config { response_format { text {} } })pb"),
            std::string(kPromptHead) + "}");
}

TEST(GenerateContentRequestTest, ThinkingFromBudgetEffortAndInclude) {
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { reasoning { budget_tokens: 2048 include_reasoning: true } })pb"),
            std::string(kPromptHead) +
                R"(,"generationConfig":{"thinkingConfig":{"thinkingBudget":2048,)"
                R"("includeThoughts":true}}})");
  // The budget wins over an effort; -1 lets the model decide; 0 is off.
  EXPECT_THAT(Build(R"pb(prompt: "p" config { reasoning { budget_tokens: -1 effort: "low" } })pb"),
              HasSubstr(R"("thinkingConfig":{"thinkingBudget":-1})"));
  EXPECT_THAT(Build(R"pb(prompt: "p" config { reasoning { budget_tokens: 0 } })pb"),
              HasSubstr(R"("thinkingConfig":{"thinkingBudget":0})"));
  const std::vector<std::pair<std::string, int>> efforts = {
      {"none", 0},      {"minimal", 512}, {"low", 1024},
      {"MEDIUM", 8192}, {"high", 24576},  {"xhigh", 32768}};
  for (const auto& [effort, budget] : efforts) {
    EXPECT_THAT(Build(absl::StrCat(R"pb(prompt: "p" config { reasoning { effort: ")pb", effort,
                                   R"pb(" } })pb")),
                HasSubstr(absl::StrCat(R"("thinkingConfig":{"thinkingBudget":)", budget, "}")))
        << effort;
  }
  EXPECT_EQ(Build(R"pb(prompt: "p" config { reasoning { include_reasoning: true } })pb"),
            std::string(kPromptHead) +
                R"(,"generationConfig":{"thinkingConfig":{"includeThoughts":true}}})");
  ExpectInvalid(BuildError(R"pb(prompt: "p" config { reasoning { effort: "max" } })pb"),
                "config.reasoning.effort: \"max\" is not an effort provider \"google\" maps "
                "to a thinking budget (none, minimal, low, medium, high, xhigh)");
  ExpectInvalid(BuildError(R"pb(prompt: "p" config { reasoning { budget_tokens: -2 } })pb"),
                "config.reasoning.budget_tokens: must be -1 (the model decides) or more");
}

constexpr char kWeatherTool[] = R"pb(
  tools {
    name: "get_weather"
    description: "Weather for a city"
    strict: true
    parameters {
      fields {
        key: "type"
        value { string_value: "object" }
      }
    }
  }
  tools { name: "no_params" }
)pb";

constexpr char kToolsJson[] =
    R"(,"tools":[{"functionDeclarations":[)"
    R"({"name":"get_weather","description":"Weather for a city",)"
    R"("parametersJsonSchema":{"type":"object"}},{"name":"no_params"}]}])";

TEST(GenerateContentRequestTest, ToolsAndToolConfig) {
  EXPECT_EQ(Build(absl::StrCat(R"pb(prompt: "p")pb", kWeatherTool)),
            absl::StrCat(kPromptHead, kToolsJson, "}"));
  struct Case {
    const char* choice;
    const char* config;
  };
  for (const Case& c : {
           Case{R"pb(tool_choice { mode: MODE_AUTO })pb",
                R"({"functionCallingConfig":{"mode":"AUTO"}})"},
           Case{R"pb(tool_choice { mode: MODE_NONE })pb",
                R"({"functionCallingConfig":{"mode":"NONE"}})"},
           Case{R"pb(tool_choice { mode: MODE_REQUIRED })pb",
                R"({"functionCallingConfig":{"mode":"ANY"}})"},
           Case{R"pb(tool_choice { mode: MODE_REQUIRED function_name: "get_weather" })pb",
                R"({"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}})"},
       }) {
    EXPECT_EQ(Build(absl::StrCat(R"pb(prompt: "p")pb", kWeatherTool, c.choice)),
              absl::StrCat(kPromptHead, kToolsJson, R"(,"toolConfig":)", c.config, "}"))
        << c.choice;
  }
  // Parallel calls are Gemini's only way.
  EXPECT_EQ(Build(absl::StrCat(R"pb(prompt: "p" config { parallel_tool_calls: true })pb",
                               kWeatherTool)),
            absl::StrCat(kPromptHead, kToolsJson, "}"));
  ExpectUnsupported(BuildError(absl::StrCat(
                        R"pb(prompt: "p" config { parallel_tool_calls: false })pb", kWeatherTool)),
                    "config.parallel_tool_calls");
  // Without tools: nothing, but a demand for a call cannot be met.
  EXPECT_EQ(Build(R"pb(prompt: "p" tool_choice { mode: MODE_NONE }
                       config { parallel_tool_calls: false })pb"),
            std::string(kPromptHead) + "}");
  ExpectInvalid(BuildError(R"pb(prompt: "p" tool_choice { mode: MODE_REQUIRED })pb"),
                "tool_choice.mode: MODE_REQUIRED needs tools");
  ExpectInvalid(BuildError(R"pb(prompt: "p" tools { description: "x" })pb"),
                "tools[0].name: must be set");
}

TEST(GenerateContentRequestTest, ToolRoundTripNamesResultsFromTheirCalls) {
  EXPECT_EQ(
      Build(absl::StrCat(R"pb(
        messages { role: ROLE_USER parts { text: "weather?" } }
        messages {
          role: ROLE_ASSISTANT
          parts { reasoning { signature: "SIG" } }
          parts { tool_call { id: "call_r_0" name: "get_weather" arguments: "{\"city\":\"Paris\"}" } }
          parts { tool_call { id: "call_r_1" name: "get_time" arguments: " " } }
        }
        messages {
          role: ROLE_TOOL
          parts { tool_result { tool_call_id: "call_r_0" content: "{\"temp\":18}" } }
        }
        messages {
          role: ROLE_TOOL
          parts { tool_result { tool_call_id: "call_r_1" name: "explicit" content: "noon" } }
          parts { tool_result { tool_call_id: "other" name: "get_time" content: "[1]" is_error: true } }
          parts { tool_result { tool_call_id: "call_r_0" content: "{\"e\":1}" is_error: true } }
        }
        messages { role: ROLE_USER parts { text: "thanks" } }
      )pb", kWeatherTool)),
      absl::StrCat(
          R"({"contents":[{"role":"user","parts":[{"text":"weather?"}]},)",
          R"({"role":"model","parts":[)",
          R"({"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"SIG"},)",
          R"({"functionCall":{"name":"get_time","args":{}}}]},)",
          R"({"role":"user","parts":[)",
          R"({"functionResponse":{"name":"get_weather","response":{"temp":18}}},)",
          R"({"functionResponse":{"name":"explicit","response":{"result":"noon"}}},)",
          R"({"functionResponse":{"name":"get_time","response":{"error":"[1]"}}},)",
          R"({"functionResponse":{"name":"get_weather","response":{"error":{"e":1}}}},)",
          R"({"text":"thanks"}]}])", kToolsJson, "}"));
}

TEST(GenerateContentRequestTest, ToolResultWithoutAName) {
  ExpectInvalid(
      BuildError(R"pb(
        messages { role: ROLE_USER parts { text: "q" } }
        messages { role: ROLE_TOOL parts { tool_result { tool_call_id: "call_x" content: "r" } } }
      )pb"),
      "messages[1].parts[0].tool_result.name: must be set: no earlier tool_call has id "
      "\"call_x\" (provider \"google\" matches results to calls by name)");
  // A call after the result does not name it.
  ExpectInvalid(
      BuildError(R"pb(
        messages { role: ROLE_USER parts { text: "q" } }
        messages { role: ROLE_TOOL parts { tool_result { content: "r" } } }
        messages { role: ROLE_ASSISTANT parts { tool_call { id: "" name: "f" } } }
      )pb"),
      "messages[1].parts[0].tool_result.name: must be set (provider \"google\" matches "
      "results to calls by name), or tool_call_id naming an earlier tool_call");
}

TEST(GenerateContentRequestTest, ReasoningGoesBackInPlace) {
  EXPECT_EQ(Build(R"pb(
              messages { role: ROLE_USER parts { text: "q" } }
              messages {
                role: ROLE_ASSISTANT
                parts { reasoning { text: "Thinking." } }
                parts { reasoning { text: "Signed thought" signature: "TS" } }
                parts { reasoning { signature: "S1" } }
                parts { text: "" }
                parts { text: "answer" }
                parts { reasoning { redacted_data: "anthropic's" } }
                parts { reasoning { signature: "S2" } }
                parts { reasoning { signature: "S3" } }
              }
              messages { role: ROLE_USER parts { reasoning { text: "not mine" } } parts { text: "next" } }
            )pb"),
            R"({"contents":[{"role":"user","parts":[{"text":"q"}]},)"
            R"({"role":"model","parts":[)"
            R"({"text":"Thinking.","thought":true},)"
            R"({"text":"Signed thought","thought":true,"thoughtSignature":"TS"},)"
            R"({"text":"answer","thoughtSignature":"S1"},)"
            R"({"text":"","thoughtSignature":"S2"},)"
            R"({"text":"","thoughtSignature":"S3"}]},)"
            R"({"role":"user","parts":[{"text":"next"}]}]})");
}

TEST(GenerateContentRequestTest, Media) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_USER
                parts { text: "what?" }
                parts { media { mime_type: "image/PNG; x=y" data: "\x89PNG" } }
                parts { media { mime_type: "audio/wav" uri: "data:audio/wav;base64,UklGRg==" } }
                parts {
                  media {
                    mime_type: "video/mp4"
                    uri: "https://generativelanguage.googleapis.com/v1beta/files/abc"
                  }
                }
                parts { media { mime_type: "application/pdf" uri: "gs://bucket/doc.pdf" } }
              }
            )pb"),
            R"({"contents":[{"role":"user","parts":[{"text":"what?"},)"
            R"({"inline_data":{"mime_type":"image/png","data":"iVBORw=="}},)"
            R"({"inline_data":{"mime_type":"audio/wav","data":"UklGRg=="}},)"
            R"({"file_data":{"mime_type":"video/mp4",)"
            R"("file_uri":"https://generativelanguage.googleapis.com/v1beta/files/abc"}},)"
            R"({"file_data":{"mime_type":"application/pdf","file_uri":"gs://bucket/doc.pdf"}}]}]})");
  GenerateContentRequestOptions o = Options();
  const std::vector<std::string> types = {"image/*"};
  o.media_types = types;
  ExpectInvalid(
      BuildError(R"pb(messages {
                        role: ROLE_USER
                        parts { media { mime_type: "audio/wav" data: "x" } }
                      })pb",
                 o),
      "messages[0].parts[0].media.mime_type: \"audio/wav\" is not supported by provider "
      "\"google\"");
  ExpectInvalid(BuildError(R"pb(messages {
                                  role: ROLE_USER
                                  parts { media { mime_type: "text/plain" uri: "data:,hello" } }
                                })pb"),
                "messages[0].parts[0].media.uri: provider \"google\" takes base64 data: URLs only");
  ExpectInvalid(BuildError(R"pb(messages {
                                  role: ROLE_SYSTEM
                                  parts { media { mime_type: "image/png" data: "x" } }
                                })pb"),
                "messages[0].parts[0].media: provider \"google\" takes text only in system "
                "messages");
}

TEST(GenerateContentRequestTest, MessageShapeErrors) {
  ExpectInvalid(BuildError(R"pb(messages { role: ROLE_USER parts { tool_call { name: "f" } } })pb"),
                "messages[0].parts[0]: a tool_call part belongs in an assistant message");
  ExpectInvalid(
      BuildError(R"pb(messages { role: ROLE_ASSISTANT parts { tool_call { id: "i" } } })pb"),
      "messages[0].parts[0].tool_call.name: must be set");
  ExpectInvalid(BuildError(R"pb(messages {
                                  role: ROLE_ASSISTANT
                                  parts { tool_call { name: "f" arguments: "[1]" } }
                                })pb"),
                "messages[0].parts[0].tool_call.arguments: must be a JSON object (provider "
                "\"google\" takes a call's args as one)");
  ExpectInvalid(BuildError(R"pb(messages { role: ROLE_TOOL parts { text: "x" } })pb"),
                "messages[0].parts[0]: a tool message holds tool_result parts");
  ExpectInvalid(BuildError(R"pb(messages {
                                  role: ROLE_USER
                                  parts { tool_result { name: "f" } }
                                })pb"),
                "messages[0].parts[0]: a tool_result part belongs in a tool message");
  ExpectInvalid(BuildError(R"pb(messages { role: ROLE_USER parts {} })pb"),
                "messages[0].parts[0]: must be set");
  ExpectInvalid(BuildError(R"pb(prompt: "p" messages { role: ROLE_USER parts { text: "x" } })pb"),
                "prompt: must not be set together with messages");
}

TEST(GenerateContentRequestTest, EndUserIdIsUnsupported) {
  ExpectUnsupported(BuildError(R"pb(prompt: "p" end_user_id: "u1")pb"), "end_user_id");
  GenerateContentRequestOptions o = Options();
  o.drop_unsupported = true;
  EXPECT_EQ(Build(R"pb(prompt: "p" end_user_id: "u1")pb", o), std::string(kPromptHead) + "}");
}

TEST(GenerateContentRequestTest, CapabilitiesRefuseOrDrop) {
  GenerateContentRequestOptions o = Options();
  const std::vector<std::string> unsupported = {"config.top_k", "config.reasoning", "tools"};
  o.unsupported_fields = unsupported;
  ExpectUnsupported(BuildError(R"pb(prompt: "p" config { top_k: 3 })pb", o), "config.top_k");
  ExpectUnsupported(BuildError(R"pb(prompt: "p" config { reasoning { effort: "low" } })pb", o),
                    "config.reasoning.effort");
  ExpectUnsupported(
      BuildError(R"pb(prompt: "p" config { reasoning { include_reasoning: true } })pb", o),
      "config.reasoning.include_reasoning");
  ExpectUnsupported(BuildError(absl::StrCat(R"pb(prompt: "p")pb", kWeatherTool), o), "tools");
  o.drop_unsupported = true;
  EXPECT_EQ(Build(absl::StrCat(R"pb(prompt: "p" config { top_k: 3 temperature: 1
                                    reasoning { effort: "low" } }
                                    tool_choice { mode: MODE_AUTO })pb",
                               kWeatherTool),
                  o),
            std::string(kPromptHead) + R"(,"generationConfig":{"temperature":1}})");
}

TEST(GenerateContentRequestTest, ProviderOptionsMergeGenerationConfigKeyByKey) {
  EXPECT_EQ(
      Build(R"pb(
        prompt: "p"
        config { temperature: 0.5 top_k: 3 reasoning { effort: "high" include_reasoning: true } }
        provider_options {
          key: "gemini"
          value {
            fields {
              key: "generationConfig"
              value {
                struct_value {
                  fields {
                    key: "thinkingConfig"
                    value {
                      struct_value {
                        fields {
                          key: "thinkingLevel"
                          value { string_value: "high" }
                        }
                      }
                    }
                  }
                  fields {
                    key: "topK"
                    value { number_value: 64 }
                  }
                }
              }
            }
            fields {
              key: "safetySettings"
              value { list_value {} }
            }
          }
        }
        provider_options {
          key: "anthropic"
          value {
            fields {
              key: "x"
              value { number_value: 1 }
            }
          }
        }
      )pb"),
      std::string(kPromptHead) +
          R"(,"generationConfig":{"temperature":0.5,)"
          R"("thinkingConfig":{"thinkingLevel":"high"},"topK":64},"safetySettings":[]})");
  // Not an object: it replaces the gateway's generationConfig whole.
  EXPECT_EQ(Build(R"pb(
              prompt: "p"
              config { temperature: 0.5 }
              provider_options {
                key: "gemini"
                value {
                  fields {
                    key: "generationConfig"
                    value { null_value: NULL_VALUE }
                  }
                }
              }
            )pb"),
            std::string(kPromptHead) + R"(,"generationConfig":null})");
  EXPECT_EQ(BuildError(R"pb(
              prompt: "p"
              provider_options {
                key: "gemini"
                value {
                  fields {
                    key: "contents"
                    value { list_value {} }
                  }
                }
              }
            )pb")
                .message(),
            "provider_options[\"gemini\"].contents: set by the gateway");
}

TEST(GenerateContentRequestTest, ProviderOptionsOverrideTopLevelKeys) {
  const std::string body = Build(absl::StrCat(R"pb(
    messages { role: ROLE_SYSTEM parts { text: "sys" } }
    messages { role: ROLE_USER parts { text: "u" } }
    tool_choice { mode: MODE_AUTO }
    provider_options {
      key: "gemini"
      value {
        fields {
          key: "systemInstruction"
          value { string_value: "mine" }
        }
        fields {
          key: "toolConfig"
          value { string_value: "mine too" }
        }
      }
    }
  )pb", kWeatherTool));
  EXPECT_THAT(body, Not(HasSubstr(R"("text":"sys")")));
  EXPECT_THAT(body, Not(HasSubstr("functionCallingConfig")));
  EXPECT_THAT(body, HasSubstr(R"("systemInstruction":"mine","toolConfig":"mine too"})"));
}

TEST(GenerateContentRequestTest, LabelsRoutingAndNamesStayHome) {
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       labels { key: "team" value: "x" }
                       routing { fallback_models: "other" })pb"),
            std::string(kPromptHead) + "}");
}

}  // namespace
}  // namespace llmgateway::gemini
