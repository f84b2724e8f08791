// Tests ParseMessagesResponse on Messages API bodies in their documented
// shapes (text, tool use, extended thinking, redacted thinking, prompt
// caching, the JSON response tool) and on broken ones.
#include "server/providers/anthropic/messages_response.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/common/adapter_test_util.h"

namespace llmgateway::anthropic {
namespace {

using ::llmgateway::providers::test_util::ExpectProto;
using ::llmgateway::providers::test_util::Padded;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

v1::GenerateResponse Parse(absl::string_view json) {
  v1::GenerateResponse r;
  absl::Status s = ParseMessagesResponse(Padded(json), &r);
  EXPECT_TRUE(s.ok()) << s;
  return r;
}

absl::Status ParseError(absl::string_view json) {
  v1::GenerateResponse r;
  absl::Status s = ParseMessagesResponse(Padded(json), &r);
  EXPECT_FALSE(s.ok()) << r.DebugString();
  return s;
}

TEST(ParseMessagesResponseTest, Text) {
  ExpectProto(Parse(R"({
    "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "text", "text": "Hi! My name is Claude. \u00e9 \ud83d\ude00"}],
    "stop_reason": "end_turn",
    "stop_sequence": null,
    "usage": {"input_tokens": 2095, "output_tokens": 503,
              "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
              "cache_creation": {"ephemeral_5m_input_tokens": 0},
              "service_tier": "standard"}
  })"),
              R"pb(
                id: "msg_013Zva2CMHLNnXjNJJKqJ2EF"
                model: "claude-sonnet-4-5-20250929"
                message {
                  role: ROLE_ASSISTANT
                  parts { text: "Hi! My name is Claude. é 😀" }
                }
                text: "Hi! My name is Claude. é 😀"
                finish_reason: FINISH_REASON_STOP
                usage {
                  prompt_tokens: 2095
                  completion_tokens: 503
                  total_tokens: 2598
                }
              )pb");
}

TEST(ParseMessagesResponseTest, ThinkingTextAndToolUseInOrder) {
  ExpectProto(
      Parse(R"({"id":"msg_01","type":"message","role":"assistant",)"
            R"("model":"claude-sonnet-4-5","content":[)"
            R"({"type":"thinking","thinking":"Need the weather.",)"
            R"("signature":"EqQBCgIYAh=="},)"
            R"({"type":"text","text":"Checking "},)"
            R"({"type":"tool_use","id":"toolu_01","name":"get_weather",)"
            R"("input":{"location": "San Francisco, CA", "n": [1, 2.5]}  },)"
            R"({"type":"text","text":"and"},)"
            R"({"type":"tool_use","id":"toolu_02","name":"get_time","input":{}}],)"
            R"("stop_reason":"tool_use","stop_sequence":null,)"
            R"("usage":{"input_tokens":10,"output_tokens":20}})"),
      R"pb(
        id: "msg_01"
        model: "claude-sonnet-4-5"
        message {
          role: ROLE_ASSISTANT
          parts {
            reasoning { text: "Need the weather." signature: "EqQBCgIYAh==" }
          }
          parts { text: "Checking " }
          parts {
            tool_call {
              id: "toolu_01"
              name: "get_weather"
              arguments: "{\"location\": \"San Francisco, CA\", \"n\": [1, 2.5]}"
            }
          }
          parts { text: "and" }
          parts { tool_call { id: "toolu_02" name: "get_time" arguments: "{}" } }
        }
        text: "Checking and"
        finish_reason: FINISH_REASON_TOOL_CALLS
        usage { prompt_tokens: 10 completion_tokens: 20 total_tokens: 30 }
      )pb");
}

TEST(ParseMessagesResponseTest, RedactedThinking) {
  ExpectProto(Parse(R"({"content":[)"
                    R"({"type":"redacted_thinking","data":"EmwKAhgBEgy3va=="},)"
                    R"({"type":"thinking","thinking":"","signature":"s"},)"
                    R"({"type":"thinking","thinking":""},)"
                    R"({"type":"redacted_thinking","data":""},)"
                    R"({"type":"text","text":"ok"}],"stop_reason":"end_turn"})"),
              R"pb(
                message {
                  role: ROLE_ASSISTANT
                  parts { reasoning { redacted_data: "EmwKAhgBEgy3va==" } }
                  parts { reasoning { signature: "s" } }
                  parts { text: "ok" }
                }
                text: "ok"
                finish_reason: FINISH_REASON_STOP
              )pb");
}

TEST(ParseMessagesResponseTest, CachedPromptTokensArePartOfThePrompt) {
  v1::GenerateResponse r = Parse(
      R"({"content":[],"usage":{"input_tokens":50,"cache_read_input_tokens":)"
      R"(1000,"cache_creation_input_tokens":200,"output_tokens":7}})");
  ExpectProto(r, R"pb(
    message { role: ROLE_ASSISTANT }
    usage {
      prompt_tokens: 1250
      completion_tokens: 7
      total_tokens: 1257
      cached_prompt_tokens: 1000
      cache_write_tokens: 200
    }
  )pb");
}

TEST(ParseMessagesResponseTest, NullCountsAndNoUsage) {
  v1::GenerateResponse r =
      Parse(R"({"content":[],"usage":{"input_tokens":5,"output_tokens":1,)"
            R"("cache_read_input_tokens":null}})");
  EXPECT_EQ(r.usage().prompt_tokens(), 5);
  EXPECT_EQ(r.usage().total_tokens(), 6);
  EXPECT_FALSE(Parse(R"({"content":[]})").has_usage());
  EXPECT_FALSE(Parse(R"({"content":[],"usage":null})").has_usage());
}

TEST(ParseMessagesResponseTest, JsonResponseToolIsText) {
  ExpectProto(
      Parse(R"({"id":"msg_j","model":"m","content":[)"
            R"({"type":"tool_use","id":"toolu_j","name":"llmgateway_json_response",)"
            R"("input":{"name":"Ada","born":1815}}],"stop_reason":"tool_use"})"),
      R"pb(
        id: "msg_j"
        model: "m"
        message {
          role: ROLE_ASSISTANT
          parts { text: "{\"name\":\"Ada\",\"born\":1815}" }
        }
        text: "{\"name\":\"Ada\",\"born\":1815}"
        finish_reason: FINISH_REASON_STOP
      )pb");
  // Beside a real tool call, the call decides the finish reason.
  v1::GenerateResponse r = Parse(
      R"({"content":[{"type":"tool_use","id":"a","name":"f","input":{}},)"
      R"({"type":"tool_use","id":"b","name":"llmgateway_json_response",)"
      R"("input":{}}],"stop_reason":"tool_use"})");
  EXPECT_EQ(r.finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(r.text(), "{}");
  EXPECT_EQ(r.message().parts_size(), 2);
}

TEST(ParseMessagesResponseTest, StopReasons) {
  struct Case {
    const char* json;
    v1::FinishReason want;
  };
  for (const Case& c : {Case{"\"end_turn\"", v1::FINISH_REASON_STOP},
                        Case{"\"stop_sequence\"", v1::FINISH_REASON_STOP},
                        Case{"\"max_tokens\"", v1::FINISH_REASON_LENGTH},
                        Case{"\"model_context_window_exceeded\"",
                             v1::FINISH_REASON_LENGTH},
                        Case{"\"tool_use\"", v1::FINISH_REASON_TOOL_CALLS},
                        Case{"\"refusal\"", v1::FINISH_REASON_CONTENT_FILTER},
                        Case{"\"pause_turn\"", v1::FINISH_REASON_OTHER},
                        Case{"\"something_new\"", v1::FINISH_REASON_OTHER},
                        Case{"null", v1::FINISH_REASON_UNSPECIFIED}}) {
    EXPECT_EQ(Parse(absl::StrCat(R"({"content":[],"stop_reason":)", c.json, "}"))
                  .finish_reason(),
              c.want)
        << c.json;
  }
}

TEST(ParseMessagesResponseTest, UnknownBlocksAndFieldsAreSkipped) {
  ExpectProto(
      Parse(R"({"future":{"a":[1,{"b":null}]},"content":[)"
            R"({"type":"server_tool_use","id":"srvtoolu_1","name":"web_search",)"
            R"("input":{"query":"x"}},)"
            R"({"type":"web_search_tool_result","tool_use_id":"srvtoolu_1",)"
            R"("content":[{"type":"web_search_result","url":"https://x"}]},)"
            R"({"type":"text","text":"Found.","citations":[{"type":"x"}]},)"
            R"({"text":"untyped"}],"container":null})"),
      R"pb(
        message {
          role: ROLE_ASSISTANT
          parts { text: "Found." }
        }
        text: "Found."
      )pb");
}

TEST(ParseMessagesResponseTest, RepeatedKeysLastWins) {
  v1::GenerateResponse r =
      Parse(R"({"content":[{"type":"text","text":"a"}],"id":"1","id":"2",)"
            R"("content":[{"type":"text","text":"b"}]})");
  EXPECT_EQ(r.id(), "2");
  EXPECT_EQ(r.text(), "b");
  EXPECT_EQ(r.message().parts_size(), 1);
}

TEST(ParseMessagesResponseTest, WithoutSpareCapacityTheBodyIsCopied) {
  std::string tight = R"({"content":[{"type":"text","text":"x"}]})";
  tight.shrink_to_fit();
  v1::GenerateResponse r;
  ASSERT_TRUE(ParseMessagesResponse(tight, &r).ok());
  EXPECT_EQ(r.text(), "x");
}

TEST(ParseMessagesResponseTest, MalformedBodies) {
  constexpr absl::string_view kPrefix =
      "upstream returned a malformed Anthropic message: ";
  for (const char* body : {
           "",
           "not json",
           "[]",
           "{}",
           R"({"content":{}})",
           R"({"content":[1]})",
           R"({"content":[{"type":"text","text":5}]})",
           R"({"content":[{"type":"tool_use","name":"f","input":"{}"}]})",
           R"({"content":[{"type":"tool_use","id":"t","input":{}}]})",
           R"({"content":[],"usage":{"input_tokens":"5"}})",
           R"({"content":[],"id":7})",
           R"({"content":[]} {"content":[]})",
           R"({"content":[)",
           R"({"type":"error","error":{"type":"overloaded_error",)"
           R"("message":"Overloaded"}})",
       }) {
    absl::Status s = ParseError(body);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << body;
    EXPECT_THAT(std::string(s.message()), StartsWith(std::string(kPrefix)));
  }
  EXPECT_THAT(std::string(ParseError("{}").message()), HasSubstr("no content"));
  EXPECT_THAT(std::string(ParseError(R"({"type":"error","content":[]})").message()),
              HasSubstr("error object"));
  // Paths, never content: the body may hold the end user's data.
  absl::Status s = ParseError(R"({"content":[{"type":"text","text":["secret"]}]})");
  EXPECT_THAT(std::string(s.message()), HasSubstr("content[0].text"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("secret")));
}

TEST(ParseMessagesResponseTest, FailureLeavesTheOutputUntouched) {
  v1::GenerateResponse r;
  r.set_id("keep");
  r.set_text("keep");
  ASSERT_FALSE(
      ParseMessagesResponse(Padded(R"({"id":"x","content":[{"type":"text","text":"y"},)"),
                            &r)
          .ok());
  EXPECT_EQ(r.id(), "keep");
  EXPECT_EQ(r.text(), "keep");
}

TEST(ParseMessagesResponseTest, LargeBodyUsesItsOwnParser) {
  const std::string text(3 << 20, 'a');
  v1::GenerateResponse r = Parse(absl::StrCat(
      R"({"content":[{"type":"text","text":")", text, R"("}]})"));
  EXPECT_EQ(r.text(), text);
  // The thread's parser still works afterwards.
  EXPECT_EQ(Parse(R"({"content":[{"type":"text","text":"b"}]})").text(), "b");
}

}  // namespace
}  // namespace llmgateway::anthropic
