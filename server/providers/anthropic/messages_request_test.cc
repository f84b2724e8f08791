// Golden tests of BuildMessagesRequest: exact bodies, so any change to what
// goes upstream (key order included) shows up in review.
#include "server/providers/anthropic/messages_request.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"
#include "server/providers/anthropic/messages_response.h"
#include "server/providers/common/adapter_test_util.h"

namespace llmgateway::anthropic {
namespace {

using ::llmgateway::providers::test_util::ExpectValidJson;
using ::llmgateway::providers::test_util::ParseRequest;
using ::testing::HasSubstr;

constexpr char kModel[] = "claude-sonnet-4-5";
// Every body up to its messages, with the default max_tokens.
constexpr char kHead[] =
    R"({"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[)";
// The body of every prompt "p" request up to where the optional keys start.
constexpr char kPromptHead[] =
    R"({"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[)"
    R"({"role":"user","content":"p"}])";

MessagesRequestOptions Options() {
  MessagesRequestOptions o;
  o.upstream_model = kModel;
  o.provider_name = "claude";
  return o;
}

std::string Build(const std::string& textproto,
                  const MessagesRequestOptions& o = Options()) {
  absl::StatusOr<std::string> body =
      BuildMessagesRequest(ParseRequest(textproto), o);
  EXPECT_TRUE(body.ok()) << body.status();
  if (!body.ok()) return "";
  ExpectValidJson(*body);
  return *body;
}

std::string Build(const v1::GenerateRequest& request) {
  absl::StatusOr<std::string> body = BuildMessagesRequest(request, Options());
  EXPECT_TRUE(body.ok()) << body.status();
  if (!body.ok()) return "";
  ExpectValidJson(*body);
  return *body;
}

absl::Status BuildError(const std::string& textproto,
                        const MessagesRequestOptions& o = Options()) {
  absl::StatusOr<std::string> body =
      BuildMessagesRequest(ParseRequest(textproto), o);
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
            absl::StrCat(field, ": not supported by provider \"claude\""));
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value()) << s;
  EXPECT_EQ(info->reason(), "UNSUPPORTED_FIELD");
  EXPECT_EQ(info->metadata().at("field"), std::string(field));
  EXPECT_EQ(info->metadata().at("provider"), "claude");
}

MessagesRequestOptions Unsupporting(const std::vector<std::string>* fields,
                                    bool drop = false) {
  MessagesRequestOptions o = Options();
  o.unsupported_fields = *fields;
  o.drop_unsupported = drop;
  return o;
}

// The conversation and limits.

TEST(BuildMessagesRequestTest, PromptIsOneUserMessage) {
  EXPECT_EQ(Build(R"pb(model: "alias" prompt: "Hello")pb"),
            absl::StrCat(kHead, R"({"role":"user","content":"Hello"}]})"));
}

TEST(BuildMessagesRequestTest, UsesUpstreamModelNotTheAlias) {
  MessagesRequestOptions o = Options();
  o.upstream_model = "claude-opus-4-1-20250805";
  EXPECT_EQ(Build(R"pb(model: "smart" prompt: "x")pb", o),
            R"({"model":"claude-opus-4-1-20250805","max_tokens":4096,)"
            R"("messages":[{"role":"user","content":"x"}]})");
}

TEST(BuildMessagesRequestTest, MaxTokensIsAlwaysSent) {
  EXPECT_EQ(Build(R"pb(prompt: "p" config { max_output_tokens: 100 })pb"),
            R"({"model":"claude-sonnet-4-5","max_tokens":100,"messages":[)"
            R"({"role":"user","content":"p"}]})");
  MessagesRequestOptions o = Options();
  o.default_max_tokens = 8192;
  EXPECT_EQ(Build(R"pb(prompt: "p")pb", o),
            R"({"model":"claude-sonnet-4-5","max_tokens":8192,"messages":[)"
            R"({"role":"user","content":"p"}]})");
  // Not configured (0): 4096.
  o.default_max_tokens = 0;
  EXPECT_EQ(Build(R"pb(prompt: "p")pb", o), absl::StrCat(kPromptHead, "}"));
}

TEST(BuildMessagesRequestTest, SystemAndDeveloperGoToTopLevelSystem) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_SYSTEM
                parts { text: "Be brief." }
              }
              messages {
                role: ROLE_USER
                parts { text: "Hi" }
              }
            )pb"),
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,)"
            R"("system":"Be brief.","messages":[)"
            R"({"role":"user","content":"Hi"}]})");
}

TEST(BuildMessagesRequestTest, SeveralSystemPartsBecomeTextBlocksInOrder) {
  // Wherever they stand: a system message mid-conversation does not break
  // the user turn around it either.
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_SYSTEM
                parts { text: "one" }
                parts { text: "" }
              }
              messages {
                role: ROLE_USER
                parts { text: "a" }
              }
              messages {
                role: ROLE_DEVELOPER
                name: "dev"
                parts { text: "two" }
              }
              messages {
                role: ROLE_USER
                parts { text: "b" }
              }
            )pb"),
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,"system":[)"
            R"({"type":"text","text":"one"},{"type":"text","text":"two"}],)"
            R"("messages":[{"role":"user","content":[)"
            R"({"type":"text","text":"a"},{"type":"text","text":"b"}]}]})");
}

TEST(BuildMessagesRequestTest, ConsecutiveTurnsOfASideAreMerged) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_USER
                name: "alice"
                parts { text: "u1" }
              }
              messages {
                role: ROLE_USER
                parts { text: "u2" }
                parts { text: "u3" }
              }
              messages {
                role: ROLE_ASSISTANT
                parts { text: "a1" }
              }
              messages {
                role: ROLE_ASSISTANT
                parts { text: "a2" }
              }
              messages {
                role: ROLE_USER
                parts { text: "u4" }
              }
            )pb"),
            absl::StrCat(kHead,
                         R"({"role":"user","content":[)"
                         R"({"type":"text","text":"u1"},)"
                         R"({"type":"text","text":"u2"},)"
                         R"({"type":"text","text":"u3"}]},)"
                         R"({"role":"assistant","content":[)"
                         R"({"type":"text","text":"a1"},)"
                         R"({"type":"text","text":"a2"}]},)"
                         R"({"role":"user","content":"u4"}]})"));
}

TEST(BuildMessagesRequestTest, EmptyMessagesAreLeftOutAndTheirNeighboursMerge) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_USER
                parts { text: "u1" }
              }
              messages {
                role: ROLE_ASSISTANT
                parts { text: "" }
                parts { reasoning { text: "unsigned" } }
              }
              messages {
                role: ROLE_USER
                parts { text: "u2" }
              }
            )pb"),
            absl::StrCat(kHead, R"({"role":"user","content":[)"
                                R"({"type":"text","text":"u1"},)"
                                R"({"type":"text","text":"u2"}]}]})"));
}

TEST(BuildMessagesRequestTest, TextIsEscaped) {
  EXPECT_EQ(Build(R"pb(prompt: "say \"hi\"\n\tback\\slash \001 é 😀")pb"),
            absl::StrCat(kHead, R"({"role":"user","content":)"
                                R"("say \"hi\"\n\tback\\slash \u0001 é 😀"}]})"));
}

// Tool use.

TEST(BuildMessagesRequestTest, ToolCallsAndResults) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { text: "Weather in Paris and Rome?" }
        }
        messages {
          role: ROLE_ASSISTANT
          parts { text: "Checking." }
          parts {
            tool_call {
              id: "toolu_01"
              name: "get_weather"
              arguments: " {\"city\": \"Paris\"}\n"
            }
          }
          parts { tool_call { id: "toolu_02" name: "get_time" } }
        }
        messages {
          role: ROLE_TOOL
          parts {
            tool_result {
              tool_call_id: "toolu_01"
              name: "get_weather"
              content: "{\"temp\":21}"
            }
          }
        }
        messages {
          role: ROLE_TOOL
          parts {
            tool_result {
              tool_call_id: "toolu_02"
              content: "clock broken"
              is_error: true
            }
          }
          parts { tool_result { tool_call_id: "toolu_03" } }
        }
        messages {
          role: ROLE_USER
          parts { text: "Thanks" }
        }
      )pb"),
      absl::StrCat(kHead,
                   R"({"role":"user","content":"Weather in Paris and Rome?"},)"
                   R"({"role":"assistant","content":[)"
                   R"({"type":"text","text":"Checking."},)"
                   R"({"type":"tool_use","id":"toolu_01","name":"get_weather",)"
                   R"("input":{"city": "Paris"}},)"
                   R"({"type":"tool_use","id":"toolu_02","name":"get_time",)"
                   R"("input":{}}]},)"
                   R"({"role":"user","content":[)"
                   R"({"type":"tool_result","tool_use_id":"toolu_01",)"
                   R"("content":"{\"temp\":21}"},)"
                   R"({"type":"tool_result","tool_use_id":"toolu_02",)"
                   R"("content":"clock broken","is_error":true},)"
                   R"({"type":"tool_result","tool_use_id":"toolu_03"},)"
                   R"({"type":"text","text":"Thanks"}]}]})"));
}

TEST(BuildMessagesRequestTest, ToolResultsGoFirstInAMergedUserTurn) {
  EXPECT_EQ(Build(R"pb(
              messages {
                role: ROLE_ASSISTANT
                parts { tool_call { id: "t1" name: "f" arguments: "{}" } }
              }
              messages {
                role: ROLE_USER
                parts { text: "before" }
              }
              messages {
                role: ROLE_TOOL
                parts { tool_result { tool_call_id: "t1" content: "r" } }
              }
            )pb"),
            absl::StrCat(kHead,
                         R"({"role":"assistant","content":[)"
                         R"({"type":"tool_use","id":"t1","name":"f",)"
                         R"("input":{}}]},)"
                         R"({"role":"user","content":[)"
                         R"({"type":"tool_result","tool_use_id":"t1",)"
                         R"("content":"r"},)"
                         R"({"type":"text","text":"before"}]}]})"));
}

TEST(BuildMessagesRequestTest, ToolCallArgumentsMustBeAJsonObject) {
  for (const char* arguments :
       {"not json", "[1,2]", "\"s\"", "{\"a\":1} trailing", "{\"a\":", "42"}) {
    v1::GenerateRequest r = ParseRequest(R"pb(
      messages {
        role: ROLE_USER
        parts { text: "u" }
      }
      messages {
        role: ROLE_ASSISTANT
        parts { text: "a" }
        parts { tool_call { id: "t" name: "f" } }
      }
    )pb");
    r.mutable_messages(1)->mutable_parts(1)->mutable_tool_call()->set_arguments(
        arguments);
    absl::StatusOr<std::string> body = BuildMessagesRequest(r, Options());
    ASSERT_FALSE(body.ok()) << arguments;
    ExpectInvalid(body.status(),
                  "messages[1].parts[1].tool_call.arguments: must be a JSON "
                  "object (provider \"claude\" takes a tool call's input as "
                  "one)");
  }
}

TEST(BuildMessagesRequestTest, ToolCallNeedsIdAndName) {
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_ASSISTANT
                    parts { tool_call { name: "f" } }
                  }
                )pb"),
                "messages[0].parts[0].tool_call.id: must be set");
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_ASSISTANT
                    parts { tool_call { id: "t" } }
                  }
                )pb"),
                "messages[0].parts[0].tool_call.name: must be set");
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_TOOL
                    parts { tool_result { content: "x" } }
                  }
                )pb"),
                "messages[0].parts[0].tool_result.tool_call_id: must be set");
}

TEST(BuildMessagesRequestTest, PartsInTheWrongMessage) {
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_USER
                    parts { tool_call { id: "t" name: "f" } }
                  }
                )pb"),
                "messages[0].parts[0]: a tool_call part belongs in an "
                "assistant message");
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_USER
                    parts { tool_result { tool_call_id: "t" } }
                  }
                )pb"),
                "messages[0].parts[0]: a tool_result part belongs in a tool "
                "message");
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_TOOL
                    parts { text: "t" }
                  }
                )pb"),
                "messages[0].parts[0]: a tool message holds tool_result parts");
  ExpectInvalid(BuildError(R"pb(
                  messages { role: ROLE_TOOL }
                )pb"),
                "messages[0].parts: a tool message holds tool_result parts");
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_ASSISTANT
                    parts {
                      media { mime_type: "image/png" data: "x" }
                    }
                  }
                )pb"),
                "messages[0].parts[0].media: provider \"claude\" takes media "
                "in user messages only");
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_SYSTEM
                    parts {
                      media { mime_type: "image/png" data: "x" }
                    }
                  }
                  messages {
                    role: ROLE_USER
                    parts { text: "u" }
                  }
                )pb"),
                "messages[0].parts[0].media: provider \"claude\" takes media "
                "in user messages only");
}

TEST(BuildMessagesRequestTest, BadRolesAndParts) {
  ExpectInvalid(BuildError(R"pb(
                  messages { parts { text: "x" } }
                )pb"),
                "messages[0].role: must be set");
  v1::GenerateRequest unknown_role = ParseRequest(R"pb(
    messages { parts { text: "x" } }
  )pb");
  unknown_role.mutable_messages(0)->set_role(static_cast<v1::Role>(99));
  ExpectInvalid(BuildMessagesRequest(unknown_role, Options()).status(),
                "messages[0].role: unknown value 99");
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_USER
                    parts {}
                  }
                )pb"),
                "messages[0].parts[0]: must be set");
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_SYSTEM
                    parts { text: "only instructions" }
                  }
                )pb"),
                "messages: provider \"claude\" needs a user or assistant "
                "message with content");
  EXPECT_EQ(BuildError(R"pb(prompt: "p"
                            messages {
                              role: ROLE_USER
                              parts { text: "x" }
                            })pb")
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildError("").code(), absl::StatusCode::kInvalidArgument);
}

// Reasoning sent back.

TEST(BuildMessagesRequestTest, ReasoningGoesBackInPlace) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { text: "q" }
        }
        messages {
          role: ROLE_ASSISTANT
          parts { reasoning { text: "Let me look." signature: "sig1==" } }
          parts { tool_call { id: "t1" name: "f" arguments: "{}" } }
          parts { reasoning { redacted_data: "EnCrYpTeD" signature: "x" } }
          parts { reasoning { text: "another provider's" } }
          parts { text: "done" }
        }
      )pb"),
      absl::StrCat(kHead,
                   R"({"role":"user","content":"q"},)"
                   R"({"role":"assistant","content":[)"
                   R"({"type":"thinking","thinking":"Let me look.",)"
                   R"("signature":"sig1=="},)"
                   R"({"type":"tool_use","id":"t1","name":"f","input":{}},)"
                   R"({"type":"redacted_thinking","data":"EnCrYpTeD"},)"
                   R"({"type":"text","text":"done"}]}]})"));
}

// What a thinking model answered, parsed and sent back with a tool result:
// its thinking block, signature intact, precedes its tool_use.
TEST(BuildMessagesRequestTest, ThinkingWithSignatureRoundTrip) {
  std::string answer =
      R"({"id":"msg_01","type":"message","role":"assistant",)"
      R"("model":"claude-sonnet-4-5-20250929","content":[)"
      R"({"type":"thinking","thinking":"The user wants the weather.",)"
      R"("signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxJ3VL4iOxVdT8o+4yQ="},)"
      R"({"type":"text","text":"Let me check."},)"
      R"({"type":"tool_use","id":"toolu_01A","name":"get_weather",)"
      R"("input":{"location":"Paris, FR","unit":"celsius"}}],)"
      R"("stop_reason":"tool_use","stop_sequence":null,)"
      R"("usage":{"input_tokens":412,"output_tokens":98}})";
  v1::GenerateResponse response;
  ASSERT_TRUE(ParseMessagesResponse(answer, &response).ok());

  v1::GenerateRequest next = ParseRequest(R"pb(
    messages {
      role: ROLE_USER
      parts { text: "Weather in Paris?" }
    }
  )pb");
  *next.add_messages() = response.message();
  v1::Message* tool = next.add_messages();
  tool->set_role(v1::ROLE_TOOL);
  v1::ToolResult* result = tool->add_parts()->mutable_tool_result();
  result->set_tool_call_id(response.message().parts(2).tool_call().id());
  result->set_content("21C, sunny");

  EXPECT_EQ(
      Build(next),
      absl::StrCat(kHead,
                   R"({"role":"user","content":"Weather in Paris?"},)"
                   R"({"role":"assistant","content":[)"
                   R"({"type":"thinking",)"
                   R"("thinking":"The user wants the weather.",)"
                   R"("signature":)"
                   R"("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxJ3VL4iOxVdT8o+4yQ="},)"
                   R"({"type":"text","text":"Let me check."},)"
                   R"({"type":"tool_use","id":"toolu_01A",)"
                   R"("name":"get_weather",)"
                   R"("input":{"location":"Paris, FR","unit":"celsius"}}]},)"
                   R"({"role":"user","content":[{"type":"tool_result",)"
                   R"("tool_use_id":"toolu_01A","content":"21C, sunny"}]}]})"));
}

// Media.

TEST(BuildMessagesRequestTest, ImageInlineAndByUrl) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { text: "Compare" }
          parts { media { mime_type: "Image/PNG; x=y" data: "\x89PNG" } }
          parts {
            media {
              mime_type: "image/jpeg"
              uri: "https://example.com/cat.jpg?a=1&b=2"
            }
          }
          parts {
            media {
              mime_type: "image/webp"
              uri: "data:image/webp;base64,UklGRg=="
            }
          }
        }
      )pb"),
      absl::StrCat(kHead,
                   R"({"role":"user","content":[)"
                   R"({"type":"text","text":"Compare"},)"
                   R"({"type":"image","source":{"type":"base64",)"
                   R"("media_type":"image/png","data":"iVBORw=="}},)"
                   R"({"type":"image","source":{"type":"url",)"
                   R"("url":"https://example.com/cat.jpg?a=1&b=2"}},)"
                   R"({"type":"image","source":{"type":"base64",)"
                   R"("media_type":"image/webp","data":"UklGRg=="}}]}]})"));
}

TEST(BuildMessagesRequestTest, PdfIsADocument) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_USER
          parts { media { mime_type: "application/pdf" data: "abc" } }
          parts {
            media { mime_type: "application/pdf" uri: "https://x.test/a.pdf" }
          }
          parts { text: "Summarise both." }
        }
      )pb"),
      absl::StrCat(kHead,
                   R"({"role":"user","content":[)"
                   R"({"type":"document","source":{"type":"base64",)"
                   R"("media_type":"application/pdf","data":"YWJj"}},)"
                   R"({"type":"document","source":{"type":"url",)"
                   R"("url":"https://x.test/a.pdf"}},)"
                   R"({"type":"text","text":"Summarise both."}]}]})"));
}

TEST(BuildMessagesRequestTest, MediaTheFormatCannotCarry) {
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_USER
                    parts { text: "listen" }
                    parts { media { mime_type: "audio/wav" data: "RIFF" } }
                  }
                )pb"),
                "messages[0].parts[1].media.mime_type: \"audio/wav\" is not "
                "supported by provider \"claude\"");
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_USER
                    parts { media { mime_type: "image/png" uri: "gs://b/o" } }
                  }
                )pb"),
                "messages[0].parts[0].media.uri: provider \"claude\" takes "
                "http(s) URLs and base64 data: URLs");
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_USER
                    parts {
                      media { mime_type: "image/png" uri: "data:image/png,raw" }
                    }
                  }
                )pb"),
                "messages[0].parts[0].media.uri: provider \"claude\" takes "
                "http(s) URLs and base64 data: URLs");
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_USER
                    parts { media { data: "x" } }
                  }
                )pb"),
                "messages[0].parts[0].media.mime_type: must be set");
  ExpectInvalid(BuildError(R"pb(
                  messages {
                    role: ROLE_USER
                    parts { media { mime_type: "image/png" } }
                  }
                )pb"),
                "messages[0].parts[0].media: data or uri must be set");
}

TEST(BuildMessagesRequestTest, MediaTypesFromCapabilities) {
  const std::vector<std::string> types = {"image/*"};
  MessagesRequestOptions o = Options();
  o.media_types = types;
  EXPECT_THAT(Build(R"pb(
                      messages {
                        role: ROLE_USER
                        parts { media { mime_type: "image/gif" data: "G" } }
                      }
                    )pb",
                    o),
              HasSubstr(R"("media_type":"image/gif")"));
  ExpectInvalid(BuildError(R"pb(
                             messages {
                               role: ROLE_USER
                               parts {
                                 media { mime_type: "application/pdf" data: "x" }
                               }
                             }
                           )pb",
                           o),
                "messages[0].parts[0].media.mime_type: \"application/pdf\" "
                "is not supported by provider \"claude\"");
}

// Tools and tool_choice.

constexpr char kWeatherTool[] = R"pb(
  tools {
    name: "get_weather"
    description: "Weather by city"
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
          }
        }
      }
    }
  }
  tools { name: "ping" }
)pb";

constexpr char kToolsJson[] =
    R"("tools":[{"name":"get_weather","description":"Weather by city",)"
    R"("input_schema":{"properties":{"city":{"type":"string"}},)"
    R"("type":"object"}},{"name":"ping","input_schema":{"type":"object"}}])";

TEST(BuildMessagesRequestTest, Tools) {
  EXPECT_EQ(Build(absl::StrCat(R"pb(prompt: "p")pb", kWeatherTool)),
            absl::StrCat(kPromptHead, ",", kToolsJson, "}"));
}

TEST(BuildMessagesRequestTest, ToolChoiceModes) {
  struct Case {
    const char* choice;
    const char* json;  // "" for no tool_choice
  };
  for (const Case& c : std::vector<Case>{
           {"", ""},
           {"tool_choice { mode: MODE_AUTO }", R"({"type":"auto"})"},
           {"tool_choice { mode: MODE_NONE }", R"({"type":"none"})"},
           {"tool_choice { mode: MODE_REQUIRED }", R"({"type":"any"})"},
           {R"pb(tool_choice { mode: MODE_REQUIRED function_name: "ping" })pb",
            R"({"type":"tool","name":"ping"})"},
           // Parallel calls are the default; only "false" is sent.
           {"config { parallel_tool_calls: true }", ""},
           {"config { parallel_tool_calls: false }",
            R"({"type":"auto","disable_parallel_tool_use":true})"},
           {"tool_choice { mode: MODE_REQUIRED } "
            "config { parallel_tool_calls: false }",
            R"({"type":"any","disable_parallel_tool_use":true})"},
           {"tool_choice { mode: MODE_NONE } "
            "config { parallel_tool_calls: false }",
            R"({"type":"none"})"},
       }) {
    const std::string want =
        *c.json == '\0'
            ? absl::StrCat(kPromptHead, ",", kToolsJson, "}")
            : absl::StrCat(kPromptHead, ",", kToolsJson, R"(,"tool_choice":)",
                           c.json, "}");
    EXPECT_EQ(Build(absl::StrCat(R"pb(prompt: "p")pb", kWeatherTool, c.choice)),
              want)
        << c.choice;
  }
}

TEST(BuildMessagesRequestTest, ToolChoiceWithoutTools) {
  // Nothing to choose from: auto and none mean nothing...
  EXPECT_EQ(Build(R"pb(prompt: "p" tool_choice { mode: MODE_AUTO })pb"),
            absl::StrCat(kPromptHead, "}"));
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       tool_choice { mode: MODE_NONE }
                       config { parallel_tool_calls: false })pb"),
            absl::StrCat(kPromptHead, "}"));
  // ...and a demanded call cannot be made.
  ExpectInvalid(
      BuildError(R"pb(prompt: "p" tool_choice { mode: MODE_REQUIRED })pb"),
      "tool_choice.mode: MODE_REQUIRED needs tools");
}

TEST(BuildMessagesRequestTest, BadToolsAndToolChoice) {
  ExpectInvalid(BuildError(R"pb(prompt: "p" tools { description: "d" })pb"),
                "tools[0].name: must be set");
  ExpectInvalid(
      BuildError(R"pb(prompt: "p" tools { name: "llmgateway_json_response" })pb"),
      "tools[0].name: reserved by the gateway");
  ExpectInvalid(
      BuildError(R"pb(prompt: "p"
                      tools { name: "f" }
                      tool_choice { mode: MODE_AUTO function_name: "f" })pb"),
      "tool_choice.function_name: only with MODE_REQUIRED");
  v1::GenerateRequest unknown_mode =
      ParseRequest(R"pb(prompt: "p" tools { name: "f" })pb");
  unknown_mode.mutable_tool_choice()->set_mode(
      static_cast<v1::ToolChoice::Mode>(7));
  ExpectInvalid(BuildMessagesRequest(unknown_mode, Options()).status(),
                "tool_choice.mode: unknown value 7");
}

// Sampling and the unsupported-field policy.

TEST(BuildMessagesRequestTest, SamplingSettings) {
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config {
                         temperature: 0.7
                         top_p: 1
                         top_k: 40
                         stop_sequences: "END"
                         stop_sequences: "\n\nHuman:"
                       })pb"),
            absl::StrCat(kPromptHead,
                         R"(,"temperature":0.7,"top_p":1,"top_k":40,)"
                         R"("stop_sequences":["END","\n\nHuman:"]})"));
}

TEST(BuildMessagesRequestTest, FieldsWithoutAMessagesApiFieldAreUnsupported) {
  ExpectUnsupported(BuildError(R"pb(prompt: "p" config { seed: 7 })pb"),
                    "config.seed");
  ExpectUnsupported(
      BuildError(R"pb(prompt: "p" config { presence_penalty: 0.5 })pb"),
      "config.presence_penalty");
  ExpectUnsupported(
      BuildError(R"pb(prompt: "p" config { frequency_penalty: 0.5 })pb"),
      "config.frequency_penalty");
  // Dropped when the provider's config says so.
  MessagesRequestOptions o = Options();
  o.drop_unsupported = true;
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config {
                         seed: 7
                         presence_penalty: 0.5
                         frequency_penalty: 0.5
                         temperature: 0
                       })pb",
                  o),
            absl::StrCat(kPromptHead, R"(,"temperature":0})"));
}

TEST(BuildMessagesRequestTest, UnsupportedFieldsFromCapabilities) {
  const std::vector<std::string> fields = {"config.top_k", "end_user_id",
                                           "config.stop_sequences"};
  ExpectUnsupported(BuildError(R"pb(prompt: "p" config { top_k: 5 })pb",
                               Unsupporting(&fields)),
                    "config.top_k");
  ExpectUnsupported(BuildError(R"pb(prompt: "p" end_user_id: "u")pb",
                               Unsupporting(&fields)),
                    "end_user_id");
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       end_user_id: "u"
                       config { top_k: 5 stop_sequences: "x" top_p: 0.5 })pb",
                  Unsupporting(&fields, /*drop=*/true)),
            absl::StrCat(kPromptHead, R"(,"top_p":0.5})"));
  // Unset fields are never refused.
  EXPECT_EQ(Build(R"pb(prompt: "p")pb", Unsupporting(&fields)),
            absl::StrCat(kPromptHead, "}"));
}

TEST(BuildMessagesRequestTest, AParentPathCoversItsChildren) {
  const std::vector<std::string> fields = {"config.reasoning"};
  ExpectUnsupported(
      BuildError(R"pb(prompt: "p" config { reasoning { effort: "low" } })pb",
                 Unsupporting(&fields)),
      "config.reasoning.effort");
  ExpectUnsupported(BuildError(R"pb(prompt: "p"
                                    config { reasoning { budget_tokens: 2000 } })pb",
                               Unsupporting(&fields)),
                    "config.reasoning.budget_tokens");
  // Dropped: no thinking, and no budget added to max_tokens.
  EXPECT_EQ(Build(R"pb(prompt: "p" config { reasoning { budget_tokens: 2000 } })pb",
                  Unsupporting(&fields, true)),
            absl::StrCat(kPromptHead, "}"));
}

TEST(BuildMessagesRequestTest, ToolsUnsupportedCoversToolSettings) {
  const std::vector<std::string> fields = {"tools"};
  ExpectUnsupported(
      BuildError(R"pb(prompt: "p" tools { name: "f" })pb", Unsupporting(&fields)),
      "tools");
  ExpectUnsupported(BuildError(R"pb(prompt: "p" tool_choice { mode: MODE_NONE })pb",
                               Unsupporting(&fields)),
                    "tool_choice");
  ExpectUnsupported(
      BuildError(R"pb(prompt: "p" config { parallel_tool_calls: false })pb",
                 Unsupporting(&fields)),
      "config.parallel_tool_calls");
  // The JSON formats are tool calls here.
  ExpectUnsupported(
      BuildError(R"pb(prompt: "p" config { response_format { json_object {} } })pb",
                 Unsupporting(&fields)),
      "config.response_format.json_object");
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       tools { name: "f" }
                       tool_choice { mode: MODE_REQUIRED }
                       config {
                         parallel_tool_calls: false
                         response_format { json_object {} }
                       })pb",
                  Unsupporting(&fields, true)),
            absl::StrCat(kPromptHead, "}"));
}

TEST(BuildMessagesRequestTest, MaxOutputTokensDroppedSendsTheDefault) {
  const std::vector<std::string> fields = {"config.max_output_tokens"};
  EXPECT_EQ(Build(R"pb(prompt: "p" config { max_output_tokens: 10 })pb",
                  Unsupporting(&fields, true)),
            absl::StrCat(kPromptHead, "}"));
}

// Reasoning (extended thinking).

TEST(BuildMessagesRequestTest, BudgetTokensEnablesThinking) {
  // Without a caller limit the budget comes on top of the default, so that
  // thinking does not eat the answer's room.
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { reasoning { budget_tokens: 2000 include_reasoning: true } })pb"),
            R"({"model":"claude-sonnet-4-5","max_tokens":6096,"messages":[)"
            R"({"role":"user","content":"p"}],)"
            R"("thinking":{"type":"enabled","budget_tokens":2000}})");
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config {
                         max_output_tokens: 3000
                         reasoning { budget_tokens: 2000 effort: "high" }
                       })pb"),
            R"({"model":"claude-sonnet-4-5","max_tokens":3000,"messages":[)"
            R"({"role":"user","content":"p"}],)"
            R"("thinking":{"type":"enabled","budget_tokens":2000}})");
  // 0 turns thinking off (and wins over an effort).
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { reasoning { budget_tokens: 0 effort: "high" } })pb"),
            absl::StrCat(kPromptHead, "}"));
  ExpectInvalid(BuildError(R"pb(prompt: "p"
                                config {
                                  max_output_tokens: 2000
                                  reasoning { budget_tokens: 2000 }
                                })pb"),
                "config.reasoning.budget_tokens: must be less than "
                "config.max_output_tokens (2000): provider \"claude\" counts "
                "thinking in its max_tokens");
  ExpectInvalid(BuildError(R"pb(prompt: "p"
                                config { reasoning { budget_tokens: -1 } })pb"),
                "config.reasoning.budget_tokens: must not be negative");
}

TEST(BuildMessagesRequestTest, EffortMapsToABudget) {
  struct Case {
    const char* effort;
    int budget;
  };
  for (const Case& c : std::vector<Case>{{"minimal", 1024},
                                         {"low", 2048},
                                         {"medium", 4096},
                                         {"HIGH", 16384},
                                         {"xhigh", 32768}}) {
    EXPECT_EQ(Build(absl::StrCat(R"pb(prompt: "p" config { reasoning { effort: ")pb",
                                 c.effort, R"pb(" } })pb")),
              absl::StrCat(R"({"model":"claude-sonnet-4-5","max_tokens":)",
                           4096 + c.budget,
                           R"(,"messages":[{"role":"user","content":"p"}],)"
                           R"("thinking":{"type":"enabled","budget_tokens":)",
                           c.budget, "}}"))
        << c.effort;
  }
  EXPECT_EQ(Build(R"pb(prompt: "p" config { reasoning { effort: "none" } })pb"),
            absl::StrCat(kPromptHead, "}"));
  ExpectInvalid(
      BuildError(R"pb(prompt: "p" config { reasoning { effort: "ultra" } })pb"),
      "config.reasoning.effort: \"ultra\" is not an effort provider \"claude\" "
      "maps to a thinking budget (none, minimal, low, medium, high, xhigh)");
}

TEST(BuildMessagesRequestTest, EffortBudgetFitsTheCallersLimit) {
  // At most half the caller's limit...
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { max_output_tokens: 10000 reasoning { effort: "high" } })pb"),
            R"({"model":"claude-sonnet-4-5","max_tokens":10000,"messages":[)"
            R"({"role":"user","content":"p"}],)"
            R"("thinking":{"type":"enabled","budget_tokens":5000}})");
  // ...but never under Anthropic's minimum.
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { max_output_tokens: 1500 reasoning { effort: "low" } })pb"),
            R"({"model":"claude-sonnet-4-5","max_tokens":1500,"messages":[)"
            R"({"role":"user","content":"p"}],)"
            R"("thinking":{"type":"enabled","budget_tokens":1024}})");
  ExpectInvalid(BuildError(R"pb(prompt: "p"
                                config {
                                  max_output_tokens: 1024
                                  reasoning { effort: "low" }
                                })pb"),
                "config.max_output_tokens: must be above 1024 for reasoning "
                "with provider \"claude\" (its thinking budget is at least "
                "1024 and counts in max_tokens)");
}

// response_format through the forced JSON tool.

constexpr char kJsonToolForced[] =
    R"("tool_choice":{"type":"tool","name":"llmgateway_json_response",)"
    R"("disable_parallel_tool_use":true})";

TEST(BuildMessagesRequestTest, JsonSchemaIsAForcedTool) {
  EXPECT_EQ(Build(R"pb(prompt: "p"
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
                             }
                           }
                         }
                       })pb"),
            absl::StrCat(kPromptHead,
                         R"(,"tools":[{"name":"llmgateway_json_response",)"
                         R"("description":"Give your whole answer as this )"
                         R"(tool's input: JSON that follows the schema )"
                         R"(\"person\".","input_schema":{"type":"object"}}],)",
                         kJsonToolForced, "}"));
}

TEST(BuildMessagesRequestTest, JsonObjectIsAForcedToolTakingAnyObject) {
  EXPECT_EQ(Build(R"pb(prompt: "p" config { response_format { json_object {} } })pb"),
            absl::StrCat(kPromptHead,
                         R"(,"tools":[{"name":"llmgateway_json_response",)"
                         R"("description":"Give your whole answer as this )"
                         R"(tool's input: a JSON object.",)"
                         R"("input_schema":{"type":"object"}}],)",
                         kJsonToolForced, "}"));
  // Free text is the default: nothing to send.
  EXPECT_EQ(Build(R"pb(prompt: "p" config { response_format { text {} } })pb"),
            absl::StrCat(kPromptHead, "}"));
}

TEST(BuildMessagesRequestTest, JsonFormatWithTheCallersTools) {
  const std::string json_tool =
      R"({"name":"llmgateway_json_response","description":"Give your whole )"
      R"(answer as this tool's input: a JSON object.",)"
      R"("input_schema":{"type":"object"}}])";
  const std::string tools_then_json = absl::StrCat(
      kPromptHead, ",", absl::string_view(kToolsJson).substr(
                            0, sizeof(kToolsJson) - 2),  // without the "]"
      ",", json_tool);
  const std::string format = "config { response_format { json_object {} } }";
  // The model calls one of them, or answers through the JSON tool.
  EXPECT_EQ(Build(absl::StrCat(R"pb(prompt: "p")pb", kWeatherTool, format)),
            absl::StrCat(tools_then_json, R"(,"tool_choice":{"type":"any"}})"));
  // MODE_NONE: the answer, as JSON.
  EXPECT_EQ(Build(absl::StrCat(R"pb(prompt: "p")pb", kWeatherTool, format,
                               "tool_choice { mode: MODE_NONE }")),
            absl::StrCat(tools_then_json, ",", kJsonToolForced, "}"));
  // A named tool: the caller's choice.
  EXPECT_EQ(Build(absl::StrCat(
                R"pb(prompt: "p")pb", kWeatherTool, format,
                R"pb(tool_choice { mode: MODE_REQUIRED function_name: "ping" })pb")),
            absl::StrCat(tools_then_json,
                         R"(,"tool_choice":{"type":"tool","name":"ping"}})"));
}

TEST(BuildMessagesRequestTest, JsonFormatConflicts) {
  ExpectInvalid(
      BuildError(R"pb(prompt: "p"
                      config {
                        response_format { json_object {} }
                        reasoning { budget_tokens: 2000 }
                      })pb"),
      "config.response_format.json_object: provider \"claude\" answers in "
      "JSON through a forced tool call, which it does not allow with "
      "reasoning (config.reasoning)");
  ExpectInvalid(
      BuildError(R"pb(prompt: "p"
                      config { response_format { json_schema { name: "x" } } }
                      provider_options {
                        key: "anthropic"
                        value {
                          fields {
                            key: "tool_choice"
                            value { struct_value {} }
                          }
                        }
                      })pb"),
      "config.response_format.json_schema: provider \"claude\" answers in "
      "JSON through a forced tool call, and provider_options[\"anthropic\"] "
      "sets tools or tool_choice itself");
  const std::vector<std::string> fields = {"config.response_format.json_schema"};
  ExpectUnsupported(
      BuildError(R"pb(prompt: "p"
                      config { response_format { json_schema { name: "x" } } })pb",
                 Unsupporting(&fields)),
      "config.response_format.json_schema");
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       config { response_format { json_schema { name: "x" } } })pb",
                  Unsupporting(&fields, true)),
            absl::StrCat(kPromptHead, "}"));
}

// The rest of the request.

TEST(BuildMessagesRequestTest, EndUserIdIsMetadata) {
  EXPECT_EQ(Build(R"pb(prompt: "p" end_user_id: "user-42")pb"),
            absl::StrCat(kPromptHead, R"(,"metadata":{"user_id":"user-42"}})"));
}

TEST(BuildMessagesRequestTest, StreamAndLabels) {
  MessagesRequestOptions o = Options();
  o.stream = true;
  EXPECT_EQ(Build(R"pb(prompt: "p"
                       labels { key: "team" value: "search" }
                       routing { max_attempts: 2 })pb",
                  o),
            absl::StrCat(kPromptHead, R"(,"stream":true})"));
}

TEST(BuildMessagesRequestTest, ProviderOptionsAreMergedLastAndWin) {
  EXPECT_EQ(
      Build(R"pb(prompt: "p"
                 config { temperature: 0.5 max_output_tokens: 10 }
                 provider_options {
                   key: "anthropic"
                   value {
                     fields {
                       key: "temperature"
                       value { number_value: 1 }
                     }
                     fields {
                       key: "max_tokens"
                       value { number_value: 64000 }
                     }
                     fields {
                       key: "anthropic_beta"
                       value { string_value: "x" }
                     }
                     fields {
                       key: "thinking"
                       value {
                         struct_value {
                           fields {
                             key: "type"
                             value { string_value: "adaptive" }
                           }
                         }
                       }
                     }
                   }
                 }
                 provider_options {
                   key: "openai"
                   value {
                     fields {
                       key: "seed"
                       value { number_value: 1 }
                     }
                   }
                 })pb"),
      R"({"model":"claude-sonnet-4-5","messages":[)"
      R"({"role":"user","content":"p"}],"anthropic_beta":"x",)"
      R"("max_tokens":64000,"temperature":1,"thinking":{"type":"adaptive"}})");
}

TEST(BuildMessagesRequestTest, ProviderOptionsCannotSetGatewayKeys) {
  for (const char* key : {"model", "messages", "stream"}) {
    ExpectInvalid(
        BuildError(absl::StrCat(R"pb(prompt: "p"
                                     provider_options {
                                       key: "anthropic"
                                       value {
                                         fields {
                                           key: ")pb",
                                key, R"pb("
                                           value { bool_value: true }
                                         }
                                       }
                                     })pb")),
        absl::StrCat("provider_options[\"anthropic\"].", key,
                     ": set by the gateway"));
  }
}

TEST(BuildMessagesRequestTest, KeyOrderWithEverything) {
  EXPECT_EQ(
      Build(R"pb(
        messages {
          role: ROLE_SYSTEM
          parts { text: "s" }
        }
        messages {
          role: ROLE_USER
          parts { text: "u" }
        }
        tools { name: "f" }
        tool_choice { mode: MODE_AUTO }
        end_user_id: "e"
        config {
          max_output_tokens: 5000
          temperature: 1
          top_k: 3
          stop_sequences: "x"
          reasoning { budget_tokens: 1024 }
        }
      )pb"),
      R"({"model":"claude-sonnet-4-5","max_tokens":5000,"system":"s",)"
      R"("messages":[{"role":"user","content":"u"}],)"
      R"("tools":[{"name":"f","input_schema":{"type":"object"}}],)"
      R"("tool_choice":{"type":"auto"},"temperature":1,"top_k":3,)"
      R"("stop_sequences":["x"],)"
      R"("thinking":{"type":"enabled","budget_tokens":1024},)"
      R"("metadata":{"user_id":"e"}})");
}

TEST(BuildMessagesRequestTest, LargeInlineMediaIsEncodedOnce) {
  v1::GenerateRequest r;
  v1::Message* m = r.add_messages();
  m->set_role(v1::ROLE_USER);
  v1::Media* media = m->add_parts()->mutable_media();
  media->set_mime_type("image/png");
  media->set_data(std::string(3 << 20, '\xff'));
  EXPECT_EQ(Build(r),
            absl::StrCat(kHead,
                         R"({"role":"user","content":[{"type":"image",)"
                         R"("source":{"type":"base64","media_type":)"
                         R"("image/png","data":")",
                         std::string(4 << 20, '/'), R"("}}]}]})"));
}

}  // namespace
}  // namespace llmgateway::anthropic
