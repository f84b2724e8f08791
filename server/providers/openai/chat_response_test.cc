// Tests ParseChatResponse on real-shaped chat.completion bodies (OpenAI,
// vLLM, DeepSeek, OpenRouter quirks) and on broken ones, and MapFinishReason.
#include "server/providers/openai/chat_response.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/common/adapter_test_util.h"

namespace llmgateway::openai {
namespace {

using ::llmgateway::providers::test_util::ExpectProto;
using ::llmgateway::providers::test_util::Padded;
using ::testing::HasSubstr;
using ::testing::Not;

v1::GenerateResponse Parse(absl::string_view json) {
  v1::GenerateResponse r;
  absl::Status s = ParseChatResponse(Padded(json), &r);
  EXPECT_TRUE(s.ok()) << s;
  return r;
}

absl::Status ParseError(absl::string_view json) {
  v1::GenerateResponse r;
  absl::Status s = ParseChatResponse(Padded(json), &r);
  EXPECT_FALSE(s.ok()) << r.DebugString();
  return s;
}

constexpr absl::string_view kOpenAI = R"({
  "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  "object": "chat.completion",
  "created": 1741569952,
  "model": "gpt-4.1-2025-04-14",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "Hello! How can I assist you today?",
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": {
    "prompt_tokens": 19,
    "completion_tokens": 10,
    "total_tokens": 29,
    "prompt_tokens_details": {
      "cached_tokens": 0,
      "audio_tokens": 0
    },
    "completion_tokens_details": {
      "reasoning_tokens": 0,
      "audio_tokens": 0,
      "accepted_prediction_tokens": 0,
      "rejected_prediction_tokens": 0
    }
  },
  "service_tier": "default",
  "system_fingerprint": null
})";

TEST(ParseChatResponseTest, OpenAIBody) {
  ExpectProto(Parse(kOpenAI), R"pb(
    id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    model: "gpt-4.1-2025-04-14"
    message {
      role: ROLE_ASSISTANT
      parts { text: "Hello! How can I assist you today?" }
    }
    text: "Hello! How can I assist you today?"
    finish_reason: FINISH_REASON_STOP
    usage { prompt_tokens: 19 completion_tokens: 10 total_tokens: 29 }
  )pb");
}

TEST(ParseChatResponseTest, KeyOrderDoesNotMatter) {
  ExpectProto(
      Parse(R"({"usage":{"completion_tokens_details":{"reasoning_tokens":5},)"
            R"("total_tokens":12,"completion_tokens":9,"prompt_tokens":3,)"
            R"("prompt_tokens_details":{"cached_tokens":2}},)"
            R"("choices":[{"finish_reason":"length","message":{"content":"ab",)"
            R"("role":"assistant"},"index":0}],"model":"m","id":"x"})"),
      R"pb(
        id: "x"
        model: "m"
        message {
          role: ROLE_ASSISTANT
          parts { text: "ab" }
        }
        text: "ab"
        finish_reason: FINISH_REASON_LENGTH
        usage {
          prompt_tokens: 3
          completion_tokens: 9
          total_tokens: 12
          cached_prompt_tokens: 2
          reasoning_tokens: 5
        }
      )pb");
}

TEST(ParseChatResponseTest, EscapedTextIsUnescaped) {
  v1::GenerateResponse r = Parse(
      R"({"choices":[{"message":{"content":"a\"b\\c\n\u00e9\ud83d\ude00"}}]})");
  EXPECT_EQ(r.text(), "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(ParseChatResponseTest, EscapedKeysAreMatched) {
  v1::GenerateResponse r =
      Parse(R"({"choices":[{"message":{"cont\u0065nt":"x"}}]})");
  EXPECT_EQ(r.text(), "x");
}

TEST(ParseChatResponseTest, ToolCallsWithNullContent) {
  ExpectProto(
      Parse(R"({
    "id": "chatcmpl-abc",
    "model": "gpt-4o",
    "choices": [{
      "index": 0,
      "message": {
        "role": "assistant",
        "content": null,
        "tool_calls": [
          {"id": "call_1", "type": "function",
           "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
          {"type": "function", "id": "call_2",
           "function": {"arguments": "{}", "name": "get_time"}}
        ]
      },
      "finish_reason": "tool_calls"
    }],
    "usage": {"prompt_tokens": 80, "completion_tokens": 40, "total_tokens": 120}
  })"),
      R"pb(
        id: "chatcmpl-abc"
        model: "gpt-4o"
        message {
          role: ROLE_ASSISTANT
          parts {
            tool_call {
              id: "call_1"
              name: "get_weather"
              arguments: "{\"city\":\"Paris\"}"
            }
          }
          parts { tool_call { id: "call_2" name: "get_time" arguments: "{}" } }
        }
        finish_reason: FINISH_REASON_TOOL_CALLS
        usage { prompt_tokens: 80 completion_tokens: 40 total_tokens: 120 }
      )pb");
}

TEST(ParseChatResponseTest, ReasoningComesBeforeTextAndToolCalls) {
  // Key order here puts tool_calls and content before the reasoning.
  ExpectProto(Parse(R"({"choices":[{"message":{
      "tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}],
      "content":"answer",
      "reasoning_content":"thinking..."}}]})"),
              R"pb(
                message {
                  role: ROLE_ASSISTANT
                  parts { reasoning { text: "thinking..." } }
                  parts { text: "answer" }
                  parts { tool_call { id: "c" name: "f" arguments: "{}" } }
                }
                text: "answer"
              )pb");
}

TEST(ParseChatResponseTest, ReasoningFieldOfOpenRouterAndOllama) {
  v1::GenerateResponse r =
      Parse(R"({"choices":[{"message":{"content":"4","reasoning":"2+2"}}]})");
  ASSERT_EQ(r.message().parts_size(), 2);
  EXPECT_EQ(r.message().parts(0).reasoning().text(), "2+2");
  EXPECT_EQ(r.text(), "4");
}

TEST(ParseChatResponseTest, ReasoningContentWinsOverReasoningInAnyOrder) {
  for (
      const char* json :
      {R"({"choices":[{"message":{"reasoning":"b","reasoning_content":"a"}}]})",
       R"({"choices":[{"message":{"reasoning_content":"a","reasoning":"b"}}]})"}) {
    v1::GenerateResponse r = Parse(json);
    ASSERT_EQ(r.message().parts_size(), 1) << json;
    EXPECT_EQ(r.message().parts(0).reasoning().text(), "a") << json;
  }
}

TEST(ParseChatResponseTest, RefusalIsAText) {
  ExpectProto(Parse(R"({"choices":[{"message":{"role":"assistant",)"
                    R"("content":null,"refusal":"I can't help with that."},)"
                    R"("finish_reason":"stop"}]})"),
              R"pb(
                message {
                  role: ROLE_ASSISTANT
                  parts { text: "I can't help with that." }
                }
                text: "I can't help with that."
                finish_reason: FINISH_REASON_STOP
              )pb");
}

TEST(ParseChatResponseTest, EmptyContentMakesNoPart) {
  v1::GenerateResponse r = Parse(
      R"({"choices":[{"message":{"content":""},"finish_reason":"length"}]})");
  EXPECT_EQ(r.message().role(), v1::ROLE_ASSISTANT);
  EXPECT_EQ(r.message().parts_size(), 0);
  EXPECT_EQ(r.text(), "");
}

TEST(ParseChatResponseTest, OnlyTheFirstChoiceIsRead) {
  v1::GenerateResponse r = Parse(R"({"choices":[
      {"message":{"content":"one"},"finish_reason":"stop"},
      {"message":{"content":"two"},"finish_reason":"length"},
      {"whatever":[1,2,{"deep":[[[]]]}]}]})");
  EXPECT_EQ(r.text(), "one");
  EXPECT_EQ(r.finish_reason(), v1::FINISH_REASON_STOP);
}

TEST(ParseChatResponseTest, UnknownFieldsOfEveryShapeAreSkipped) {
  v1::GenerateResponse r = Parse(R"({
    "x1": {"a": [1, 2.5e10, -0, true, false, null, "s", {"b": {}}]},
    "choices": [{"logprobs": {"content": [{"token": "x", "logprob": -0.1}]},
                 "message": {"annotations": [{"type": "url_citation"}],
                             "audio": null, "content": "ok",
                             "function_call": null}}],
    "x2": [], "x3": "", "x4": 1e400, "x5": 123456789012345678901234567890
  })");
  EXPECT_EQ(r.text(), "ok");
}

TEST(ParseChatResponseTest, NullsAreAbsent) {
  ExpectProto(
      Parse(R"({"id":null,"model":null,"usage":null,)"
            R"("choices":[{"message":{"content":null,"tool_calls":null,)"
            R"("reasoning_content":null},"finish_reason":null}]})"),
      R"pb(message { role: ROLE_ASSISTANT })pb");
  ExpectProto(
      Parse(R"({"choices":[{"message":null}],"usage":{"prompt_tokens":1,)"
            R"("completion_tokens":null,"total_tokens":null,)"
            R"("prompt_tokens_details":null,"completion_tokens_details":)"
            R"({"reasoning_tokens":null}}})"),
      R"pb(
        message { role: ROLE_ASSISTANT }
        usage { prompt_tokens: 1 total_tokens: 1 }
      )pb");
}

TEST(ParseChatResponseTest, MissingTotalIsTheSum) {
  v1::GenerateResponse r =
      Parse(R"({"choices":[{"message":{}}],)"
            R"("usage":{"prompt_tokens":7,"completion_tokens":5}})");
  EXPECT_EQ(r.usage().total_tokens(), 12);
}

TEST(ParseChatResponseTest, HugeTokenCountsDoNotOverflow) {
  v1::GenerateResponse r =
      Parse(R"({"choices":[{}],"usage":{"prompt_tokens":9223372036854775807,)"
            R"("completion_tokens":9223372036854775807}})");
  EXPECT_EQ(r.usage().prompt_tokens(), 9223372036854775807);
  EXPECT_EQ(r.usage().total_tokens(), 0);
}

TEST(ParseChatResponseTest, BodyWithoutSparCapacityIsCopied) {
  std::string tight(kOpenAI);
  tight.shrink_to_fit();
  ASSERT_LT(tight.capacity() - tight.size(), 64u);
  v1::GenerateResponse r;
  ASSERT_TRUE(ParseChatResponse(tight, &r).ok());
  EXPECT_EQ(r.text(), "Hello! How can I assist you today?");
  // Short strings live inside std::string (15 bytes of capacity).
  std::string tiny = R"({"choices":[{}]})";
  ASSERT_TRUE(ParseChatResponse(tiny, &r).ok());
}

TEST(ParseChatResponseTest, KeepsProviderAndReplacesTheRest) {
  v1::GenerateResponse r;
  r.set_provider("openai-eu");
  r.set_text("stale");
  r.mutable_usage()->set_prompt_tokens(99);
  r.mutable_message()->add_parts()->set_text("stale");
  ASSERT_TRUE(ParseChatResponse(Padded(R"({"id":"n","choices":[{"message":)"
                                       R"({"content":"new"}}]})"),
                                &r)
                  .ok());
  ExpectProto(r, R"pb(
    id: "n"
    provider: "openai-eu"
    message {
      role: ROLE_ASSISTANT
      parts { text: "new" }
    }
    text: "new"
  )pb");
}

TEST(ParseChatResponseTest, FailureLeavesOutputAlone) {
  v1::GenerateResponse r;
  r.set_text("before");
  EXPECT_FALSE(ParseChatResponse(Padded(R"({"id":"x","choices":[{"message":)"
                                        R"({"content":5}}]})"),
                                 &r)
                   .ok());
  EXPECT_EQ(r.text(), "before");
  EXPECT_EQ(r.id(), "");
}

TEST(ParseChatResponseTest, LargeBodyUsesAParserOfItsOwn) {
  const std::string text(3 << 20, 'x');
  v1::GenerateResponse r = Parse(
      absl::StrCat(R"({"choices":[{"message":{"content":")", text, R"("}}]})"));
  EXPECT_EQ(r.text().size(), text.size());
  // The thread's parser still works afterwards.
  EXPECT_EQ(Parse(R"({"choices":[{"message":{"content":"y"}}]})").text(), "y");
}

TEST(ParseChatResponseTest, ThreadsParseAtTheSameTime) {
  // Each thread has its own parser; run under --config=tsan too.
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &good] {
      for (int i = 0; i < 500; ++i) {
        const std::string text = absl::StrCat("t", t, "i", i);
        v1::GenerateResponse r;
        const absl::Status s = ParseChatResponse(
            Padded(absl::StrCat(R"({"choices":[{"message":{"content":")", text,
                                R"("}}]})")),
            &r);
        if (s.ok() && r.text() == text) good.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(good.load(), 2000);
}

// Errors.

TEST(ParseChatResponseErrorTest, NotJson) {
  for (absl::string_view body :
       {"", "   ", "<html>502 Bad Gateway</html>", "{", "{\"choices\":[",
        "{\"choices\":[{\"message\":{\"content\":\"abc", "[]", "\"chat\"", "42",
        "null"}) {
    absl::Status s = ParseError(body);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << body;
    EXPECT_THAT(s.message(),
                HasSubstr("upstream returned a malformed chat.completion: "))
        << body;
    EXPECT_THAT(s.message(), HasSubstr("(simdjson: ")) << body;
  }
}

TEST(ParseChatResponseErrorTest, NoChoices) {
  for (absl::string_view body :
       {R"({"id":"x"})", R"({"choices":[]})", R"({"choices":null})"}) {
    absl::Status s = ParseError(body);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(std::string(s.message()),
              "upstream returned a malformed chat.completion: no choices");
  }
}

TEST(ParseChatResponseErrorTest, ErrorObjectInA200) {
  absl::Status s = ParseError(
      R"({"error":{"message":"secret user text","type":"server_error"}})");
  EXPECT_EQ(std::string(s.message()),
            "upstream returned a malformed chat.completion: no choices (the "
            "body is an error object)");
}

TEST(ParseChatResponseErrorTest, WrongTypesNameTheField) {
  struct Case {
    const char* body;
    const char* what;
  } cases[] = {
      {R"({"id":7,"choices":[{}]})", "id (simdjson: INCORRECT_TYPE)"},
      {R"({"choices":{}})",
       "choices: expected an array (simdjson: INCORRECT_TYPE)"},
      {R"({"choices":[5]})",
       "choices[0]: expected an object (simdjson: INCORRECT_TYPE)"},
      {R"({"choices":[{"message":{"content":["x"]}}]})",
       "choices[0].message.content (simdjson: INCORRECT_TYPE)"},
      {R"({"choices":[{"message":{"tool_calls":[{"function":{"arguments":{}}}]}}]})",
       "choices[0].message.tool_calls[0].function.arguments (simdjson: "
       "INCORRECT_TYPE)"},
      {R"({"choices":[{"finish_reason":1}]})",
       "choices[0].finish_reason (simdjson: INCORRECT_TYPE)"},
      {R"({"choices":[{}],"usage":{"prompt_tokens":1.5}})",
       "usage.prompt_tokens (simdjson: INCORRECT_TYPE)"},
      {R"({"choices":[{}],"usage":{"prompt_tokens":"3"}})",
       "usage.prompt_tokens (simdjson: INCORRECT_TYPE)"},
      {R"({"choices":[{}],"usage":{"total_tokens":99999999999999999999}})",
       "usage.total_tokens (simdjson: INCORRECT_TYPE)"},
      {R"({"choices":[{}],"usage":{"prompt_tokens_details":{"cached_tokens":true}}})",
       "usage.prompt_tokens_details.cached_tokens (simdjson: INCORRECT_TYPE)"},
      {R"({"choices":[{"message":{"content":nul}}]})",
       "choices[0].message.content (simdjson: INCORRECT_TYPE)"},
  };
  for (const Case& c : cases) {
    absl::Status s = ParseError(c.body);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << c.body;
    EXPECT_EQ(
        std::string(s.message()),
        absl::StrCat("upstream returned a malformed chat.completion: ", c.what))
        << c.body;
  }
}

TEST(ParseChatResponseErrorTest, TrailingContent) {
  absl::Status s = ParseError(R"({"choices":[{}]} {"choices":[{}]})");
  EXPECT_THAT(s.message(), HasSubstr("trailing content"));
  s = ParseError(R"({"choices":[{}]}])");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
}

TEST(ParseChatResponseErrorTest, NeverEchoesTheBody) {
  const std::string secret = "SECRET-4c1f";
  for (const std::string& body :
       {absl::StrCat(R"({"choices":[{"message":{"content":")", secret,
                     "\\x\"}}]}"),
        absl::StrCat(R"({"choices":[{"message":{"content":")", secret),
        absl::StrCat(R"({")", secret, R"(":)"),
        absl::StrCat(R"({"id":")", secret, R"(","choices":7})"),
        absl::StrCat(secret)}) {
    absl::Status s = ParseError(body);
    EXPECT_THAT(s.message(), Not(HasSubstr(secret))) << s;
  }
}

TEST(ParseChatResponseErrorTest, InvalidUtf8) {
  absl::Status s =
      ParseError("{\"choices\":[{\"message\":{\"content\":\"\xff\"}}]}");
  EXPECT_THAT(s.message(), HasSubstr("UTF8_ERROR"));
}

TEST(MapFinishReasonTest, AllKnownValues) {
  EXPECT_EQ(MapFinishReason(""), v1::FINISH_REASON_UNSPECIFIED);
  EXPECT_EQ(MapFinishReason("stop"), v1::FINISH_REASON_STOP);
  EXPECT_EQ(MapFinishReason("length"), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(MapFinishReason("content_filter"),
            v1::FINISH_REASON_CONTENT_FILTER);
  EXPECT_EQ(MapFinishReason("tool_calls"), v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(MapFinishReason("function_call"), v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(MapFinishReason("eos"), v1::FINISH_REASON_OTHER);
  EXPECT_EQ(MapFinishReason("STOP"), v1::FINISH_REASON_OTHER);
}

}  // namespace
}  // namespace llmgateway::openai
