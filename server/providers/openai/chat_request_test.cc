// Golden tests of BuildChatRequest: exact bodies, so any change to what goes
// upstream (key order included) shows up in review.
#include "server/providers/openai/chat_request.h"

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

namespace llmgateway::openai {
namespace {

using ::llmgateway::providers::test_util::ExpectValidJson;
using ::llmgateway::providers::test_util::ParseRequest;
using ::testing::HasSubstr;
using ::testing::Not;

// The body of every prompt: "p" request up to where the optional keys start.
constexpr char kPromptHead[] =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"p"}])";
constexpr char kHead[] = R"({"model":"gpt-4o-mini","messages":[)";

ChatRequestOptions Options() {
  ChatRequestOptions o;
  o.upstream_model = "gpt-4o-mini";
  return o;
}

std::string Build(const std::string& textproto,
                  const ChatRequestOptions& o = Options()) {
  absl::StatusOr<std::string> body =
      BuildChatRequest(ParseRequest(textproto), o);
  EXPECT_TRUE(body.ok()) << body.status();
  if (!body.ok()) return "";
  ExpectValidJson(*body);
  return *body;
}

std::string BuildStream(const std::string& textproto) {
  ChatRequestOptions o = Options();
  o.stream = true;
  return Build(textproto, o);
}

absl::Status BuildError(const std::string& textproto,
                        ChatRequestOptions o = Options()) {
  absl::StatusOr<std::string> body =
      BuildChatRequest(ParseRequest(textproto), o);
  EXPECT_FALSE(body.ok()) << *body;
  return body.status();
}

absl::Status BuildError(const std::string& textproto,
                        absl::string_view provider) {
  ChatRequestOptions o = Options();
  o.provider_name = provider;
  return BuildError(textproto, o);
}

// Expects INVALID_ARGUMENT with exactly `message`.
void ExpectInvalid(const absl::Status& s, absl::string_view message) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(std::string(s.message()), std::string(message));
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
      BuildChatRequest(ParseRequest(R"pb(model: "fast" prompt: "x")pb"), o);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, R"({"model":"meta-llama/Llama-3.1-8B-Instruct","messages":[)"
                   R"({"role":"user","content":"x"}]})");
}

TEST(BuildChatRequestTest, EveryRoleAndName) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_SYSTEM
          parts { text: "s" }
        }
        messages {
          role: ROLE_DEVELOPER
          name: "dev"
          parts { text: "d" }
        }
        messages {
          role: ROLE_USER
          name: "alice"
          parts { text: "u" }
        }
        messages {
          role: ROLE_ASSISTANT
          name: "bot"
          parts { tool_call { id: "c1" name: "f" arguments: "{}" } }
        }
        messages {
          role: ROLE_TOOL
          name: "ignored"
          parts { tool_result { tool_call_id: "c1" content: "t" } }
        }
      )pb"),
      absl::StrCat(kHead,
                   R"({"role":"system","content":"s"},)"
                   R"({"role":"developer","name":"dev","content":"d"},)"
                   R"({"role":"user","name":"alice","content":"u"},)"
                   R"({"role":"assistant","name":"bot","content":null,)"
                   R"("tool_calls":[{"id":"c1","type":"function",)"
                   R"("function":{"name":"f","arguments":"{}"}}]},)"
                   R"({"role":"tool","tool_call_id":"c1","content":"t"}]})"));
}

TEST(BuildChatRequestTest, DeveloperRole) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_DEVELOPER
                parts { text: "Answer in French." }
              }
              messages {
                role: ROLE_USER
                parts { text: "Hi" }
              }
            )pb"),
            absl::StrCat(
                kHead, R"({"role":"developer","content":"Answer in French."},)"
                       R"({"role":"user","content":"Hi"}]})"));
}

TEST(BuildChatRequestTest, SeveralTextPartsBecomeAContentArray) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_USER
                parts { text: "first" }
                parts { text: "second" }
              }
            )pb"),
            absl::StrCat(kHead, R"({"role":"user","content":[)"
                                R"({"type":"text","text":"first"},)"
                                R"({"type":"text","text":"second"}]}]})"));
}

TEST(BuildChatRequestTest, MessageWithoutPartsHasEmptyContent) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_USER
                parts { text: "hi" }
              }
              messages { role: ROLE_ASSISTANT }
            )pb"),
            absl::StrCat(kHead, R"({"role":"user","content":"hi"},)"
                                R"({"role":"assistant","content":""}]})"));
}

TEST(BuildChatRequestTest, TextIsEscaped) {
  EXPECT_EQ(Build(R"pb(prompt: "say \"hi\"\n\tback\\slash \001 é")pb"),
            absl::StrCat(kHead, R"({"role":"user","content":)"
                                R"("say \"hi\"\n\tback\\slash \u0001 é"}]})"));
}

// Media.

TEST(BuildChatRequestTest, ImageByUri) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { text: "What is this?" }
          parts {
            media {
              mime_type: "image/png"
              uri: "https://example.com/cat.png?a=1&b=2"
            }
          }
        }
      )pb"),
      absl::StrCat(kHead,
                   R"({"role":"user","content":[)"
                   R"({"type":"text","text":"What is this?"},)"
                   R"({"type":"image_url","image_url":)"
                   R"({"url":"https://example.com/cat.png?a=1&b=2"}}]}]})"));
}

TEST(BuildChatRequestTest, ImageByBytesIsADataUrl) {
  // The eight bytes of the PNG signature; base64 "iVBORw0KGgo=".
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { media { mime_type: "image/png" data: "\x89PNG\r\n\x1a\n" } }
        }
      )pb"),
      absl::StrCat(kHead,
                   R"({"role":"user","content":[)"
                   R"({"type":"image_url","image_url":)"
                   R"({"url":"data:image/png;base64,iVBORw0KGgo="}}]}]})"));
}

TEST(BuildChatRequestTest, ImageDataUrlUsesTheBareLowercaseMimeType) {
  // "/" in base64 needs no JSON escape.
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { media { mime_type: " Image/JPEG; q=1" data: "\xff\xd8\xff" } }
        }
      )pb"),
      absl::StrCat(kHead, R"({"role":"user","content":[)"
                          R"({"type":"image_url","image_url":)"
                          R"({"url":"data:image/jpeg;base64,/9j/"}}]}]})"));
}

TEST(BuildChatRequestTest, ImageDataUrlUriPassesThrough) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts {
            media { mime_type: "image/gif" uri: "data:image/gif;base64,R0lG" }
          }
        }
      )pb"),
      absl::StrCat(kHead, R"({"role":"user","content":[)"
                          R"({"type":"image_url","image_url":)"
                          R"({"url":"data:image/gif;base64,R0lG"}}]}]})"));
}

TEST(BuildChatRequestTest, MixedTextAndImagesKeepTheirOrder) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { text: "Compare" }
          parts { media { mime_type: "image/png" uri: "https://x/a.png" } }
          parts { text: "with" }
          parts { media { mime_type: "image/webp" uri: "https://x/b.webp" } }
        }
      )pb"),
      absl::StrCat(
          kHead,
          R"({"role":"user","content":[)"
          R"({"type":"text","text":"Compare"},)"
          R"({"type":"image_url","image_url":{"url":"https://x/a.png"}},)"
          R"({"type":"text","text":"with"},)"
          R"({"type":"image_url","image_url":{"url":"https://x/b.webp"}}]}]})"));
}

TEST(BuildChatRequestTest, AudioWavAndMp3Inline) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { media { mime_type: "audio/wav" data: "RIFF\000\001WAVE" } }
          parts { media { mime_type: "audio/x-wav" data: "RIFF\000\001WAVE" } }
          parts { media { mime_type: "audio/mpeg" data: "ID3\003" } }
          parts { media { mime_type: "audio/mp3" data: "ID3\003" } }
        }
      )pb"),
      absl::StrCat(
          kHead,
          R"({"role":"user","content":[)"
          R"({"type":"input_audio","input_audio":{"data":"UklGRgABV0FWRQ==","format":"wav"}},)"
          R"({"type":"input_audio","input_audio":{"data":"UklGRgABV0FWRQ==","format":"wav"}},)"
          R"({"type":"input_audio","input_audio":{"data":"SUQzAw==","format":"mp3"}},)"
          R"({"type":"input_audio","input_audio":{"data":"SUQzAw==","format":"mp3"}}]}]})"));
}

TEST(BuildChatRequestTest, AudioFromABase64DataUrl) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_USER
                parts {
                  media {
                    mime_type: "audio/wav"
                    uri: "data:audio/wav;base64,UklGRg=="
                  }
                }
              }
            )pb"),
            absl::StrCat(kHead, R"({"role":"user","content":[)"
                                R"({"type":"input_audio","input_audio":)"
                                R"({"data":"UklGRg==","format":"wav"}}]}]})"));
}

TEST(BuildChatRequestTest, PdfInline) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { text: "Summarize" }
          parts { media { mime_type: "application/pdf" data: "%PDF-1.7\n" } }
        }
      )pb"),
      absl::StrCat(
          kHead,
          R"({"role":"user","content":[)"
          R"({"type":"text","text":"Summarize"},)"
          R"({"type":"file","file":{"filename":"document.pdf",)"
          R"("file_data":"data:application/pdf;base64,JVBERi0xLjcK"}}]}]})"));
}

TEST(BuildChatRequestTest, PdfByFileIdOrDataUrl) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { media { mime_type: "application/pdf" uri: "file-abc123" } }
          parts {
            media {
              mime_type: "application/pdf"
              uri: "data:application/pdf;base64,JVBE"
            }
          }
        }
      )pb"),
      absl::StrCat(kHead,
                   R"({"role":"user","content":[)"
                   R"({"type":"file","file":{"file_id":"file-abc123"}},)"
                   R"({"type":"file","file":{"filename":"document.pdf",)"
                   R"("file_data":"data:application/pdf;base64,JVBE"}}]}]})"));
}

TEST(BuildChatRequestTest, OneMediaPartIsStillAnArray) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { media { mime_type: "image/png" uri: "https://x/a.png" } }
        }
      )pb"),
      absl::StrCat(
          kHead,
          R"({"role":"user","content":[)"
          R"({"type":"image_url","image_url":{"url":"https://x/a.png"}}]}]})"));
}

TEST(BuildChatRequestTest, MediaTypesAllowExactAndWildcard) {
  const std::vector<std::string> types = {"image/*", "application/pdf"};
  ChatRequestOptions o = Options();
  o.media_types = types;
  EXPECT_EQ(
      Build(R"pb(
              messages {
                role: ROLE_USER
                parts {
                  media { mime_type: "image/heic" uri: "https://x/a.heic" }
                }
                parts { media { mime_type: "application/pdf" uri: "file-1" } }
              }
            )pb",
            o),
      absl::StrCat(
          kHead,
          R"({"role":"user","content":[)"
          R"({"type":"image_url","image_url":{"url":"https://x/a.heic"}},)"
          R"({"type":"file","file":{"file_id":"file-1"}}]}]})"));
}

// Assistant turns and the tool loop.

TEST(BuildChatRequestTest, TwoTurnToolLoop) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { text: "Weather in Paris and Rome?" }
        }
        messages {
          role: ROLE_ASSISTANT
          parts { reasoning { text: "Two cities." signature: "sig" } }
          parts { text: "Checking." }
          parts {
            tool_call {
              id: "call_1"
              name: "get_weather"
              arguments: "{\"city\":\"Paris\"}"
            }
          }
          parts {
            tool_call {
              id: "call_2"
              name: "get_weather"
              arguments: "{\"city\":\"Rome\"}"
            }
          }
        }
        messages {
          role: ROLE_TOOL
          parts {
            tool_result {
              tool_call_id: "call_1"
              name: "get_weather"
              content: "{\"c\":18}"
            }
          }
          parts {
            tool_result {
              tool_call_id: "call_2"
              content: "timeout"
              is_error: true
            }
          }
        }
        tools {
          name: "get_weather"
          parameters {
            fields {
              key: "type"
              value { string_value: "object" }
            }
          }
        }
      )pb"),
      absl::StrCat(
          kHead,
          R"({"role":"user","content":"Weather in Paris and Rome?"},)"
          R"({"role":"assistant","content":"Checking.","tool_calls":[)"
          R"({"id":"call_1","type":"function","function":)"
          R"({"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},)"
          R"({"id":"call_2","type":"function","function":)"
          R"({"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},)"
          R"({"role":"tool","tool_call_id":"call_1","content":"{\"c\":18}"},)"
          R"({"role":"tool","tool_call_id":"call_2","content":"timeout"}],)"
          R"("tools":[{"type":"function","function":{"name":"get_weather",)"
          R"("parameters":{"type":"object"}}}]})"));
}

TEST(BuildChatRequestTest, AssistantToolCallWithoutTextHasNullContent) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_ASSISTANT
          parts { tool_call { id: "c" name: "now" } }
        }
      )pb"),
      absl::StrCat(kHead, R"({"role":"assistant","content":null,"tool_calls":[)"
                          R"({"id":"c","type":"function","function":)"
                          R"({"name":"now","arguments":"{}"}}]}]})"));
}

TEST(BuildChatRequestTest, AssistantSeveralTextsAreAnArray) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_ASSISTANT
                parts { text: "a" }
                parts { reasoning { text: "r" } }
                parts { text: "b" }
              }
            )pb"),
            absl::StrCat(kHead, R"({"role":"assistant","content":[)"
                                R"({"type":"text","text":"a"},)"
                                R"({"type":"text","text":"b"}]}]})"));
}

TEST(BuildChatRequestTest, ReasoningPartsAreLeftOut) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_USER
                parts { text: "q" }
              }
              messages {
                role: ROLE_ASSISTANT
                parts {
                  reasoning { text: "think" signature: "s" redacted_data: "x" }
                }
                parts { text: "answer" }
              }
              messages {
                role: ROLE_USER
                parts { text: "q2" }
              }
            )pb"),
            absl::StrCat(kHead, R"({"role":"user","content":"q"},)"
                                R"({"role":"assistant","content":"answer"},)"
                                R"({"role":"user","content":"q2"}]})"));
}

TEST(BuildChatRequestTest, ReasoningOnlyAssistantKeepsTheTurn) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_ASSISTANT
                parts { reasoning { text: "think" } }
              }
            )pb"),
            absl::StrCat(kHead, R"({"role":"assistant","content":""}]})"));
}

// Tools.

TEST(BuildChatRequestTest, ToolsWithStructParameters) {
  EXPECT_EQ(Build(R"pb(
              prompt: "p"
              tools {
                name: "search"
                description: "Searches the web."
                strict: true
                parameters {
                  fields {
                    key: "type"
                    value { string_value: "object" }
                  }
                  fields {
                    key: "properties"
                    value {
                      struct_value {
                        fields {
                          key: "q"
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
                          key: "n"
                          value {
                            struct_value {
                              fields {
                                key: "type"
                                value { string_value: "integer" }
                              }
                              fields {
                                key: "minimum"
                                value { number_value: 1 }
                              }
                            }
                          }
                        }
                      }
                    }
                  }
                  fields {
                    key: "required"
                    value { list_value { values { string_value: "q" } } }
                  }
                  fields {
                    key: "additionalProperties"
                    value { bool_value: false }
                  }
                }
              }
              tools { name: "now" }
            )pb"),
            absl::StrCat(
                kPromptHead,
                R"(,"tools":[{"type":"function","function":{"name":"search",)"
                R"("description":"Searches the web.","parameters":{)"
                R"("additionalProperties":false,"properties":{)"
                R"("n":{"minimum":1,"type":"integer"},"q":{"type":"string"}},)"
                R"("required":["q"],"type":"object"},"strict":true}},)"
                R"({"type":"function","function":{"name":"now"}}]})"));
}

TEST(BuildChatRequestTest, EachToolChoiceMode) {
  struct Case {
    const char* choice;
    const char* json;
  } cases[] = {
      {"", ""},
      {"tool_choice {}", ""},
      {"tool_choice { mode: MODE_AUTO }", R"(,"tool_choice":"auto")"},
      {"tool_choice { mode: MODE_NONE }", R"(,"tool_choice":"none")"},
      {"tool_choice { mode: MODE_REQUIRED }", R"(,"tool_choice":"required")"},
      {R"(tool_choice { mode: MODE_REQUIRED function_name: "f" })",
       R"(,"tool_choice":{"type":"function","function":{"name":"f"}})"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(
        Build(absl::StrCat(R"(prompt: "p" tools { name: "f" } )", c.choice)),
        absl::StrCat(
            kPromptHead,
            R"(,"tools":[{"type":"function","function":{"name":"f"}}])", c.json,
            "}"))
        << c.choice;
  }
}

TEST(BuildChatRequestTest, ParallelToolCalls) {
  EXPECT_EQ(
      Build(R"pb(prompt: "p"
                 tools { name: "f" }
                 config { parallel_tool_calls: false })pb"),
      absl::StrCat(kPromptHead,
                   R"(,"tools":[{"type":"function","function":{"name":"f"}}],)"
                   R"("parallel_tool_calls":false})"));
}

// GenerationConfig.

TEST(BuildChatRequestTest, AllSamplingConfigFields) {
  EXPECT_EQ(Build(R"pb(
              prompt: "p"
              config {
                temperature: 0.7
                top_p: 0.9
                top_k: 40
                max_output_tokens: 256
                stop_sequences: "END"
                stop_sequences: "\n\n"
                seed: 42
                presence_penalty: -0.5
                frequency_penalty: 1
              }
              end_user_id: "user-123"
            )pb"),
            absl::StrCat(kPromptHead,
                         R"(,"temperature":0.7,"top_p":0.9,"top_k":40,)"
                         R"("max_tokens":256,"stop":["END","\n\n"],"seed":42,)"
                         R"("presence_penalty":-0.5,"frequency_penalty":1,)"
                         R"("user":"user-123"})"));
}

TEST(BuildChatRequestTest, OnlySetConfigFieldsAreSent) {
  // temperature 0 is set (proto3 optional), so it is sent; the rest are not.
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { temperature: 0 })pb"),
            absl::StrCat(kPromptHead, R"(,"temperature":0})"));
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config {})pb"),
            absl::StrCat(kPromptHead, "}"));
}

TEST(BuildChatRequestTest, MaxCompletionTokensField) {
  ChatRequestOptions o = Options();
  o.max_tokens_field = "max_completion_tokens";
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { max_output_tokens: 1000 })pb",
                  o),
            absl::StrCat(kPromptHead, R"(,"max_completion_tokens":1000})"));
}

TEST(BuildChatRequestTest, EitherTokenLimitNameInOptionsReplacesTheGatewaysLimit) {
  ChatRequestOptions o = Options();
  o.max_tokens_field = "max_completion_tokens";
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { max_output_tokens: 1000 }
                       provider_options {
                         key: "openai"
                         value {
                           fields {
                             key: "max_tokens"
                             value { number_value: 7 }
                           }
                         }
                       })pb",
                  o),
            absl::StrCat(kPromptHead, R"(,"max_tokens":7})"));
}

TEST(BuildChatRequestTest, LargeSeed) {
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { seed: -9223372036854775808 })pb"),
            absl::StrCat(kPromptHead, R"(,"seed":-9223372036854775808})"));
}

TEST(BuildChatRequestTest, EachResponseFormat) {
  EXPECT_EQ(
      Build(R"pb(prompt: "p"
                 config { response_format { text {} } })pb"),
      absl::StrCat(kPromptHead, R"(,"response_format":{"type":"text"}})"));
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { response_format { json_object {} } })pb"),
            absl::StrCat(kPromptHead,
                         R"(,"response_format":{"type":"json_object"}})"));
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { response_format {} })pb"),
            absl::StrCat(kPromptHead, "}"));
}

TEST(BuildChatRequestTest, JsonSchemaResponseFormat) {
  EXPECT_EQ(
      Build(R"pb(
        prompt: "p"
        config {
          response_format {
            json_schema {
              name: "person"
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
                        key: "name"
                        value {
                          struct_value {
                            fields {
                              key: "type"
                              value { string_value: "string" }
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
      )pb"),
      absl::StrCat(
          kPromptHead,
          R"(,"response_format":{"type":"json_schema","json_schema":{)"
          R"("name":"person","schema":{"properties":{"name":{"type":"string"}},)"
          R"("type":"object"},"strict":true}}})"));
}

TEST(BuildChatRequestTest, JsonSchemaWithoutNameOrStrict) {
  EXPECT_EQ(
      Build(R"pb(prompt: "p"
                 config {
                   response_format {
                     json_schema {
                       schema {
                         fields {
                           key: "type"
                           value { string_value: "object" }
                         }
                       }
                     }
                   }
                 })pb"),
      absl::StrCat(
          kPromptHead,
          R"(,"response_format":{"type":"json_schema","json_schema":{)"
          R"("name":"response","schema":{"type":"object"},"strict":false}}})"));
}

TEST(BuildChatRequestTest, ReasoningEffort) {
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { reasoning { effort: "minimal" } })pb"),
            absl::StrCat(kPromptHead, R"(,"reasoning_effort":"minimal"})"));
}

TEST(BuildChatRequestTest, IncludeReasoningAndEmptyReasoningSendNothing) {
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { reasoning { include_reasoning: true } })pb"),
            absl::StrCat(kPromptHead, "}"));
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { reasoning {} })pb"),
            absl::StrCat(kPromptHead, "}"));
}

TEST(BuildChatRequestTest, EndUserId) {
  EXPECT_EQ(Build(R"pb(prompt: "p" end_user_id: "u-42")pb"),
            absl::StrCat(kPromptHead, R"(,"user":"u-42"})"));
}

TEST(BuildChatRequestTest, StreamAsksForUsage) {
  EXPECT_EQ(BuildStream(R"pb(prompt: "p")pb"),
            absl::StrCat(
                kPromptHead,
                R"(,"stream":true,"stream_options":{"include_usage":true}})"));
}

TEST(BuildChatRequestTest, KeyOrderWithEverything) {
  EXPECT_EQ(
      BuildStream(R"pb(
        prompt: "p"
        tools { name: "f" }
        tool_choice { mode: MODE_AUTO }
        config {
          temperature: 1
          max_output_tokens: 5
          parallel_tool_calls: true
          response_format { json_object {} }
          reasoning { effort: "low" }
        }
        end_user_id: "u"
        provider_options {
          key: "openai"
          value {
            fields {
              key: "logprobs"
              value { bool_value: true }
            }
          }
        }
      )pb"),
      absl::StrCat(kPromptHead,
                   R"(,"tools":[{"type":"function","function":{"name":"f"}}],)"
                   R"("tool_choice":"auto","parallel_tool_calls":true,)"
                   R"("temperature":1,"max_tokens":5,)"
                   R"("response_format":{"type":"json_object"},)"
                   R"("reasoning_effort":"low","user":"u",)"
                   R"("stream":true,"stream_options":{"include_usage":true},)"
                   R"("logprobs":true})"));
}

TEST(BuildChatRequestTest, LabelsAndRoutingNeverGoUpstream) {
  const std::string body = Build(R"pb(
    prompt: "p"
    labels { key: "team" value: "search" }
    labels { key: "user" value: "secret" }
    routing { fallback_models: "other" max_attempts: 3 }
  )pb");
  EXPECT_EQ(body, absl::StrCat(kPromptHead, "}"));
  EXPECT_THAT(body, Not(HasSubstr("search")));
}

// provider_options.

TEST(BuildChatRequestTest, ProviderOptionsAddKeysLastInKeyOrder) {
  EXPECT_EQ(Build(R"pb(
              prompt: "p"
              config { temperature: 0.5 }
              provider_options {
                key: "openai"
                value {
                  fields {
                    key: "top_logprobs"
                    value { number_value: 3 }
                  }
                  fields {
                    key: "logit_bias"
                    value {
                      struct_value {
                        fields {
                          key: "50256"
                          value { number_value: -100 }
                        }
                      }
                    }
                  }
                  fields {
                    key: "metadata"
                    value { null_value: NULL_VALUE }
                  }
                }
              }
            )pb"),
            absl::StrCat(kPromptHead,
                         R"(,"temperature":0.5,"logit_bias":{"50256":-100},)"
                         R"("metadata":null,"top_logprobs":3})"));
}

TEST(BuildChatRequestTest, ProviderOptionsOverrideGatewayKeys) {
  // Each key once, with the option's value.
  EXPECT_EQ(
      Build(R"pb(
        prompt: "p"
        config {
          temperature: 0.5
          max_output_tokens: 10
          response_format { json_object {} }
        }
        end_user_id: "u"
        provider_options {
          key: "openai"
          value {
            fields {
              key: "temperature"
              value { number_value: 1.25 }
            }
            fields {
              key: "max_tokens"
              value { number_value: 99 }
            }
            fields {
              key: "user"
              value { string_value: "other" }
            }
            fields {
              key: "response_format"
              value {
                struct_value {
                  fields {
                    key: "type"
                    value { string_value: "text" }
                  }
                }
              }
            }
          }
        }
      )pb"),
      absl::StrCat(kPromptHead,
                   R"(,"max_tokens":99,"response_format":{"type":"text"},)"
                   R"("temperature":1.25,"user":"other"})"));
}

TEST(BuildChatRequestTest, ProviderOptionOverridingAnUnsupportedFieldIsSent) {
  // The option is the caller's explicit word on the body: config.top_k's own
  // value is not sent, so there is nothing unsupported to refuse.
  const std::vector<std::string> unsupported = {"config.top_k"};
  ChatRequestOptions o = Options();
  o.unsupported_fields = unsupported;
  EXPECT_EQ(Build(R"pb(
                    prompt: "p"
                    config { top_k: 5 }
                    provider_options {
                      key: "openai"
                      value {
                        fields {
                          key: "top_k"
                          value { number_value: 7 }
                        }
                      }
                    }
                  )pb",
                  o),
            absl::StrCat(kPromptHead, R"(,"top_k":7})"));
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
                  fields {
                    key: "model"
                    value { string_value: "claude" }
                  }
                }
              }
              provider_options {
                key: "my-vllm"
                value {
                  fields {
                    key: "x"
                    value { number_value: 1 }
                  }
                }
              }
            )pb"),
            absl::StrCat(kPromptHead, "}"));
}

TEST(BuildChatRequestTest, ProviderOptionsKeyIsTheKindNotTheName) {
  ChatRequestOptions o = Options();
  o.provider_name = "my-vllm";
  EXPECT_EQ(Build(R"pb(
                    prompt: "p"
                    provider_options {
                      key: "openai"
                      value {
                        fields {
                          key: "min_p"
                          value { number_value: 0.1 }
                        }
                      }
                    }
                    provider_options {
                      key: "my-vllm"
                      value {
                        fields {
                          key: "x"
                          value { number_value: 1 }
                        }
                      }
                    }
                  )pb",
                  o),
            absl::StrCat(kPromptHead, R"(,"min_p":0.1})"));
}

// Unsupported fields: rejected by default, left out when dropping.

struct UnsupportedCase {
  const char* listed;   // In options.unsupported_fields.
  const char* request;  // Sets the field (after prompt: "p").
  const char* field;    // Named in the error.
};

const UnsupportedCase kUnsupportedCases[] = {
    {"config.temperature", "config { temperature: 1 }", "config.temperature"},
    {"config.top_p", "config { top_p: 1 }", "config.top_p"},
    {"config.top_k", "config { top_k: 40 }", "config.top_k"},
    {"config.max_output_tokens", "config { max_output_tokens: 9 }",
     "config.max_output_tokens"},
    {"config.stop_sequences", R"(config { stop_sequences: "x" })",
     "config.stop_sequences"},
    {"config.seed", "config { seed: 1 }", "config.seed"},
    {"config.presence_penalty", "config { presence_penalty: 1 }",
     "config.presence_penalty"},
    {"config.frequency_penalty", "config { frequency_penalty: 1 }",
     "config.frequency_penalty"},
    {"config.parallel_tool_calls", "config { parallel_tool_calls: true }",
     "config.parallel_tool_calls"},
    {"config.response_format", "config { response_format { json_object {} } }",
     "config.response_format.json_object"},
    {"config.response_format.json_schema",
     R"(config { response_format { json_schema { name: "s" } } })",
     "config.response_format.json_schema"},
    {"config.reasoning", R"(config { reasoning { effort: "high" } })",
     "config.reasoning.effort"},
    {"config.reasoning.effort", R"(config { reasoning { effort: "high" } })",
     "config.reasoning.effort"},
    {"tools", R"(tools { name: "f" })", "tools"},
    {"tools", "tool_choice { mode: MODE_NONE }", "tool_choice"},
    {"tools", "config { parallel_tool_calls: false }",
     "config.parallel_tool_calls"},
    {"tool_choice", "tool_choice { mode: MODE_REQUIRED }", "tool_choice"},
    {"end_user_id", R"(end_user_id: "u")", "end_user_id"},
};

TEST(BuildChatRequestErrorTest, ErrorsCarryFieldDetails) {
  ChatRequestOptions o = Options();
  const std::vector<std::string> unsupported = {"config.top_k"};
  o.unsupported_fields = unsupported;
  absl::Status unsupported_error = BuildError(R"pb(prompt: "p" config { top_k: 3 })pb", o);
  auto info = GetErrorInfo(unsupported_error);
  ASSERT_TRUE(info.has_value()) << unsupported_error;
  EXPECT_EQ(info->reason(), "UNSUPPORTED_FIELD");
  EXPECT_EQ(info->metadata().at("field"), "config.top_k");
  EXPECT_EQ(info->metadata().at("provider"), o.provider_name);

  absl::Status invalid = BuildError(R"pb(
    messages {
      role: ROLE_USER
      parts { media { mime_type: "video/mp4" uri: "https://x/v.mp4" } }
    })pb");
  info = GetErrorInfo(invalid);
  ASSERT_TRUE(info.has_value()) << invalid;
  EXPECT_EQ(info->reason(), "INVALID_REQUEST");
  EXPECT_EQ(info->metadata().at("field"), "messages[0].parts[0].media.mime_type");
}

TEST(BuildChatRequestErrorTest, UnsupportedFieldsAreRejected) {
  for (const UnsupportedCase& c : kUnsupportedCases) {
    const std::vector<std::string> unsupported = {"config.seed", c.listed};
    ChatRequestOptions o = Options();
    o.provider_name = "my-vllm";
    o.unsupported_fields = unsupported;
    ExpectInvalid(
        BuildError(absl::StrCat(R"(prompt: "p" )", c.request), o),
        absl::StrCat(c.field, R"(: not supported by provider "my-vllm")"));
  }
}

TEST(BuildChatRequestTest, UnsupportedFieldsAreDroppedWhenConfigSays) {
  for (const UnsupportedCase& c : kUnsupportedCases) {
    const std::vector<std::string> unsupported = {c.listed};
    ChatRequestOptions o = Options();
    o.unsupported_fields = unsupported;
    o.drop_unsupported = true;
    EXPECT_EQ(Build(absl::StrCat(R"(prompt: "p" )", c.request), o),
              absl::StrCat(kPromptHead, "}"))
        << c.listed;
  }
}

TEST(BuildChatRequestTest, DroppingLeavesSupportedFieldsIn) {
  const std::vector<std::string> unsupported = {"config.top_k", "tools"};
  ChatRequestOptions o = Options();
  o.unsupported_fields = unsupported;
  o.drop_unsupported = true;
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       tools { name: "f" }
                       tool_choice { mode: MODE_REQUIRED }
                       config {
                         top_k: 3
                         temperature: 0.2
                         parallel_tool_calls: true
                       })pb",
                  o),
            absl::StrCat(kPromptHead, R"(,"temperature":0.2})"));
}

TEST(BuildChatRequestTest, UnsetUnsupportedFieldsAreFine) {
  const std::vector<std::string> unsupported = {"config.top_k", "tools",
                                                "end_user_id"};
  ChatRequestOptions o = Options();
  o.unsupported_fields = unsupported;
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       tool_choice {}
                       config { seed: 1 })pb",
                  o),
            absl::StrCat(kPromptHead, R"(,"seed":1})"));
}

TEST(BuildChatRequestTest, UnsupportedListMatchesWholePathSegments) {
  // "config.top" is no field, and does not cover config.top_p or top_k.
  const std::vector<std::string> unsupported = {"config.top"};
  ChatRequestOptions o = Options();
  o.unsupported_fields = unsupported;
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { top_p: 0.5 top_k: 2 })pb",
                  o),
            absl::StrCat(kPromptHead, R"(,"top_p":0.5,"top_k":2})"));
}

TEST(BuildChatRequestTest, UnsupportedTextResponseFormatIsLeftOutSilently) {
  // Free text is the default: leaving it out changes nothing.
  const std::vector<std::string> unsupported = {"config.response_format"};
  ChatRequestOptions o = Options();
  o.unsupported_fields = unsupported;
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { response_format { text {} } })pb",
                  o),
            absl::StrCat(kPromptHead, "}"));
}

TEST(BuildChatRequestErrorTest, ReasoningBudgetIsNeverSupported) {
  ExpectInvalid(
      BuildError(R"pb(prompt: "p"
                      config { reasoning { budget_tokens: 1024 } })pb",
                 "my-vllm"),
      R"(config.reasoning.budget_tokens: not supported by provider "my-vllm")");
  // budget_tokens 0 is still set (proto3 optional).
  ExpectInvalid(
      BuildError(R"pb(prompt: "p"
                      config { reasoning { budget_tokens: 0 } })pb"),
      R"(config.reasoning.budget_tokens: not supported by provider "openai")");
  ChatRequestOptions o = Options();
  o.drop_unsupported = true;
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config {
                         reasoning { effort: "low" budget_tokens: 1024 }
                       })pb",
                  o),
            absl::StrCat(kPromptHead, R"(,"reasoning_effort":"low"})"));
}

// Errors.

TEST(BuildChatRequestErrorTest, UnspecifiedRole) {
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_USER
                    parts { text: "a" }
                  }
                  messages { parts { text: "b" } }
                )pb"),
                "messages[1].role: must be set");
}

TEST(BuildChatRequestErrorTest, UnknownRoleValue) {
  v1::GenerateRequest r;
  v1::Message* m = r.add_messages();
  m->set_role(static_cast<v1::Role>(42));
  m->add_parts()->set_text("x");
  ChatRequestOptions o;
  absl::StatusOr<std::string> body = BuildChatRequest(r, o);
  ExpectInvalid(body.status(), "messages[0].role: unknown value 42");
}

TEST(BuildChatRequestErrorTest, EmptyPart) {
  ExpectInvalid(BuildError(R"pb(messages {
                                  role: ROLE_USER
                                  parts {}
                                })pb"),
                "messages[0].parts[0]: must be set");
}

TEST(BuildChatRequestErrorTest, UnsupportedMimeType) {
  ExpectInvalid(
      BuildError(
          R"pb(messages {
                 role: ROLE_SYSTEM
                 parts { text: "s" }
               }
               messages {
                 role: ROLE_USER
                 parts { text: "a" }
                 parts {
                   media { mime_type: "video/mp4" uri: "https://x/v.mp4" }
                 }
               })pb",
          "my-vllm"),
      R"(messages[1].parts[1].media.mime_type: "video/mp4" is not )"
      R"(supported by provider "my-vllm")");
  ExpectInvalid(
      BuildError(R"pb(messages {
                        role: ROLE_USER
                        parts { media { mime_type: "audio/ogg" data: "x" } }
                      })pb"),
      R"(messages[0].parts[0].media.mime_type: "audio/ogg" is not )"
      R"(supported by provider "openai")");
}

TEST(BuildChatRequestErrorTest, MediaTypesNotAllowedByTheProvider) {
  const std::vector<std::string> types = {"image/png", "image/jpeg"};
  ChatRequestOptions o = Options();
  o.provider_name = "my-vllm";
  o.media_types = types;
  ExpectInvalid(
      BuildError(
          R"pb(messages {
                 role: ROLE_USER
                 parts { media { mime_type: "image/png" uri: "https://x/a" } }
                 parts { media { mime_type: "image/webp" uri: "https://x/b" } }
               })pb",
          o),
      R"(messages[0].parts[1].media.mime_type: "image/webp" is not )"
      R"(supported by provider "my-vllm")");
  ExpectInvalid(
      BuildError(
          R"pb(messages {
                 role: ROLE_USER
                 parts { media { mime_type: "application/pdf" uri: "file-1" } }
               })pb",
          o),
      R"(messages[0].parts[0].media.mime_type: "application/pdf" is not )"
      R"(supported by provider "my-vllm")");
}

TEST(BuildChatRequestErrorTest, AudioByUrl) {
  ExpectInvalid(
      BuildError(
          R"pb(messages {
                 role: ROLE_USER
                 parts {
                   media { mime_type: "audio/wav" uri: "https://x/a.wav" }
                 }
               })pb"),
      R"(messages[0].parts[0].media.uri: provider "openai" takes audio )"
      R"(inline only (media.data or a base64 data: URL))");
}

TEST(BuildChatRequestErrorTest, PdfByUrl) {
  ExpectInvalid(
      BuildError(
          R"pb(messages {
                 role: ROLE_USER
                 parts {
                   media { mime_type: "application/pdf" uri: "https://x/a.pdf" }
                 }
               })pb"),
      R"(messages[0].parts[0].media.uri: provider "openai" takes a PDF )"
      R"(as data, a data: URL or an uploaded file id, not a URL)");
}

TEST(BuildChatRequestErrorTest, MediaWithoutTypeOrSource) {
  ExpectInvalid(BuildError(R"pb(messages {
                                  role: ROLE_USER
                                  parts { media { uri: "https://x/a" } }
                                })pb"),
                "messages[0].parts[0].media.mime_type: must be set");
  ExpectInvalid(BuildError(R"pb(messages {
                                  role: ROLE_USER
                                  parts { media { mime_type: "image/png" } }
                                })pb"),
                "messages[0].parts[0].media: data or uri must be set");
}

TEST(BuildChatRequestErrorTest, MediaOutsideUserMessages) {
  for (const char* role : {"ROLE_SYSTEM", "ROLE_DEVELOPER", "ROLE_ASSISTANT"}) {
    ExpectInvalid(
        BuildError(absl::StrCat("messages { role: ", role, R"pb(
                                            parts { text: "a" }
                                            parts { media { mime_type: "image/png" uri: "https://x/a" } }
                                          })pb")),
        R"(messages[0].parts[1].media: provider "openai" takes media )"
        R"(in user messages only)");
  }
}

TEST(BuildChatRequestErrorTest, ToolMessageHoldsToolResultsOnly) {
  ExpectInvalid(
      BuildError(
          R"pb(messages {
                 role: ROLE_TOOL
                 parts { tool_result { tool_call_id: "c" content: "ok" } }
                 parts { text: "t" }
               })pb"),
      "messages[0].parts[1]: a tool message holds tool_result parts");
  ExpectInvalid(BuildError(R"pb(messages { role: ROLE_TOOL })pb"),
                "messages[0].parts: a tool message holds tool_result parts");
  ExpectInvalid(BuildError(R"pb(messages {
                                  role: ROLE_TOOL
                                  parts { tool_result { content: "ok" } }
                                })pb"),
                "messages[0].parts[0].tool_result.tool_call_id: must be set");
}

TEST(BuildChatRequestErrorTest, ToolPartsInTheWrongRole) {
  ExpectInvalid(
      BuildError(R"pb(messages {
                        role: ROLE_USER
                        parts { tool_call { id: "c" name: "f" } }
                      })pb"),
      "messages[0].parts[0]: a tool_call part belongs in an assistant message");
  ExpectInvalid(
      BuildError(R"pb(messages {
                        role: ROLE_USER
                        parts { tool_result { tool_call_id: "c" } }
                      })pb"),
      "messages[0].parts[0]: a tool_result part belongs in a tool message");
  ExpectInvalid(
      BuildError(R"pb(messages {
                        role: ROLE_ASSISTANT
                        parts { tool_result { tool_call_id: "c" } }
                      })pb"),
      "messages[0].parts[0]: a tool_result part belongs in a tool message");
}

TEST(BuildChatRequestErrorTest, ToolCallWithoutIdOrName) {
  ExpectInvalid(BuildError(R"pb(messages {
                                  role: ROLE_ASSISTANT
                                  parts { tool_call { name: "f" } }
                                })pb"),
                "messages[0].parts[0].tool_call.id: must be set");
  ExpectInvalid(BuildError(R"pb(messages {
                                  role: ROLE_ASSISTANT
                                  parts { tool_call { id: "c" } }
                                })pb"),
                "messages[0].parts[0].tool_call.name: must be set");
}

TEST(BuildChatRequestErrorTest, ToolWithoutName) {
  ExpectInvalid(BuildError(R"pb(prompt: "p"
                                tools { name: "f" }
                                tools { description: "d" })pb"),
                "tools[1].name: must be set");
}

TEST(BuildChatRequestErrorTest, FunctionNameNeedsModeRequired) {
  for (const char* mode : {"MODE_UNSPECIFIED", "MODE_AUTO", "MODE_NONE"}) {
    ExpectInvalid(BuildError(absl::StrCat(R"(prompt: "p" tools { name: "f" } )",
                                          "tool_choice { mode: ", mode,
                                          R"( function_name: "f" })")),
                  "tool_choice.function_name: only with MODE_REQUIRED");
  }
}

TEST(BuildChatRequestErrorTest, UnknownToolChoiceMode) {
  v1::GenerateRequest r = ParseRequest(R"pb(prompt: "p")pb");
  r.mutable_tool_choice()->set_mode(static_cast<v1::ToolChoice::Mode>(9));
  ExpectInvalid(BuildChatRequest(r, Options()).status(),
                "tool_choice.mode: unknown value 9");
}

TEST(BuildChatRequestErrorTest, ProviderOptionsCannotSetGatewayKeys) {
  for (const char* key : {"model", "messages", "stream", "stream_options"}) {
    v1::GenerateRequest r = ParseRequest(R"pb(prompt: "p")pb");
    (*(*r.mutable_provider_options())["openai"].mutable_fields())[key]
        .set_bool_value(true);
    ExpectInvalid(BuildChatRequest(r, Options()).status(),
                  absl::StrCat(R"(provider_options["openai"].)", key,
                               ": set by the gateway"));
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

// Size.

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

TEST(BuildChatRequestTest, ReservesEnoughForALargeImage) {
  ChatRequestOptions o;
  o.upstream_model = "m";
  v1::GenerateRequest r;
  v1::Media* media = r.add_messages()->add_parts()->mutable_media();
  r.mutable_messages(0)->set_role(v1::ROLE_USER);
  media->set_mime_type("image/png");
  media->set_data(std::string(3 << 20, '\x7f'));
  absl::StatusOr<std::string> body = BuildChatRequest(r, o);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_GT(body->size(), 4u << 20);
  EXPECT_LT(body->capacity(), 2 * body->size());
}

}  // namespace
}  // namespace llmgateway::openai
