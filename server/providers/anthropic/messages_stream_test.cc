// Tests MessagesStreamDecoder on event streams in the shapes the Messages
// API documents (text, tool use with an empty first partial_json, extended
// thinking with its signature, redacted thinking, a mid-stream error, UTF-8),
// on the JSON response tool, and on malformed events.
#include "server/providers/anthropic/messages_stream.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"
#include "server/providers/common/adapter_test_util.h"

namespace llmgateway::anthropic {
namespace {

using Result = MessagesStreamDecoder::Result;
using ::llmgateway::providers::test_util::DecodeExact;
using ::llmgateway::providers::test_util::ExpectProto;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kProvider[] = "claude";

// One SSE event as the HTTP layer hands it over.
struct Event {
  std::string type;
  std::string data;
};

// Feeds a whole stream, which must decode without error and end with
// message_stop; returns the deltas sent and, last, Finish's message.
std::vector<v1::GenerateStreamResponse> DecodeStream(
    const std::vector<Event>& events) {
  MessagesStreamDecoder d(kProvider);
  std::vector<v1::GenerateStreamResponse> out;
  for (size_t k = 0; k < events.size(); ++k) {
    v1::GenerateStreamResponse delta;
    absl::StatusOr<Result> r = DecodeExact(d, events[k].type, events[k].data, &delta);
    EXPECT_TRUE(r.ok()) << r.status() << " at event " << k;
    if (!r.ok()) return out;
    if (*r == Result::kDelta) {
      out.push_back(delta);
    } else {
      EXPECT_EQ(delta.ByteSizeLong(), 0u) << "event " << k;
    }
    EXPECT_EQ(*r == Result::kDone, k + 1 == events.size()) << "event " << k;
  }
  EXPECT_TRUE(d.done());
  d.Finish(&out.emplace_back());
  return out;
}

// The documented text stream.
const std::vector<Event>& TextStream() {
  static const auto* events = new std::vector<Event>{
      {"message_start",
       R"({"type":"message_start","message":{"id":"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}})"},
      {"content_block_start",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
      {"ping", R"({"type": "ping"})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"! Caf\u00e9 \ud83d\ude00 — ok"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"message_delta",
       R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}})"},
      {"message_stop", R"({"type":"message_stop"})"},
  };
  return *events;
}

TEST(MessagesStreamDecoderTest, TextStream) {
  const std::vector<v1::GenerateStreamResponse> out = DecodeStream(TextStream());
  ASSERT_EQ(out.size(), 3u);
  ExpectProto(out[0], R"pb(
    id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY"
    model: "claude-sonnet-4-5-20250929"
    provider: "claude"
    text: "Hello"
  )pb");
  ExpectProto(out[1], R"pb(text: "! Café 😀 — ok")pb");
  ExpectProto(out[2], R"pb(
    id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY"
    model: "claude-sonnet-4-5-20250929"
    provider: "claude"
    finish_reason: FINISH_REASON_STOP
    usage { prompt_tokens: 25 completion_tokens: 15 total_tokens: 40 }
  )pb");
}

TEST(MessagesStreamDecoderTest, WithoutEventNamesTheJsonTypeDecides) {
  std::vector<Event> events = TextStream();
  for (Event& e : events) e.type.clear();
  const std::vector<v1::GenerateStreamResponse> out = DecodeStream(events);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].text(), "Hello");
  // A wrong event name does not change what the JSON says.
  MessagesStreamDecoder d(kProvider);
  v1::GenerateStreamResponse delta;
  ASSERT_EQ(*d.Decode("ping", TextStream()[3].data, &delta), Result::kDelta);
  EXPECT_EQ(delta.text(), "Hello");
}

TEST(MessagesStreamDecoderTest, WithoutAJsonTypeTheEventNameDecides) {
  MessagesStreamDecoder d(kProvider);
  v1::GenerateStreamResponse delta;
  ASSERT_EQ(*d.Decode("content_block_delta",
                      R"({"index":0,"delta":{"type":"text_delta","text":"x"}})",
                      &delta),
            Result::kDelta);
  EXPECT_EQ(delta.text(), "x");
  delta.Clear();
  ASSERT_EQ(*d.Decode("message_stop", "{}", &delta), Result::kDone);
}

TEST(MessagesStreamDecoderTest, ToolUseWithAnEmptyFirstFragment) {
  const std::vector<v1::GenerateStreamResponse> out = DecodeStream({
      {"message_start",
       R"({"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}})"},
      {"content_block_start",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay, let's check"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"content_block_start",
       R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"San Francisco, CA\"}"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
      {"content_block_start",
       R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02","name":"get_time","input":{}}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{}"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":2})"},
      {"message_delta",
       R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}})"},
      {"message_stop", R"({"type":"message_stop"})"},
  });
  ASSERT_EQ(out.size(), 7u);
  ExpectProto(out[0], R"pb(
    id: "msg_014p7gG3wDgGV9EUtLvnow3U"
    model: "claude-sonnet-4-5"
    provider: "claude"
    text: "Okay, let's check"
  )pb");
  // The index is the call's ordinal (0, 1), not the block's (1, 2); id and
  // name come in the first fragment only.
  ExpectProto(out[1], R"pb(
    tool_calls {
      index: 0
      id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6"
      name: "get_weather"
    }
  )pb");
  ExpectProto(out[2], R"pb(tool_calls { index: 0 arguments: "{\"location\":" })pb");
  ExpectProto(out[3],
              R"pb(tool_calls { index: 0 arguments: " \"San Francisco, CA\"}" })pb");
  ExpectProto(out[4], R"pb(tool_calls { index: 1 id: "toolu_02" name: "get_time" })pb");
  ExpectProto(out[5], R"pb(tool_calls { index: 1 arguments: "{}" })pb");
  ExpectProto(out[6], R"pb(
    id: "msg_014p7gG3wDgGV9EUtLvnow3U"
    model: "claude-sonnet-4-5"
    provider: "claude"
    finish_reason: FINISH_REASON_TOOL_CALLS
    usage { prompt_tokens: 472 completion_tokens: 89 total_tokens: 561 }
  )pb");
}

TEST(MessagesStreamDecoderTest, ThinkingWithSignature) {
  const std::vector<v1::GenerateStreamResponse> out = DecodeStream({
      {"message_start",
       R"({"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":100,"cache_read_input_tokens":2000,"cache_creation_input_tokens":300,"output_tokens":1}}})"},
      {"content_block_start",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me solve this step by step:\n\n1. First break down 27 * 453"}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"\n2. 453 = 400 + 50 + 3"}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds/+/=="}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"content_block_start",
       R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"27 * 453 = 12,231"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
      {"message_delta",
       R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":200}})"},
      {"message_stop", R"({"type":"message_stop"})"},
  });
  ASSERT_EQ(out.size(), 5u);
  ExpectProto(out[0], R"pb(
    id: "msg_01"
    model: "claude-sonnet-4-5"
    provider: "claude"
    reasoning {
      text: "Let me solve this step by step:\n\n1. First break down 27 * 453"
    }
  )pb");
  ExpectProto(out[1], R"pb(reasoning { text: "\n2. 453 = 400 + 50 + 3" })pb");
  ExpectProto(out[2], R"pb(
    reasoning {
      signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds/+/=="
    }
  )pb");
  ExpectProto(out[3], R"pb(text: "27 * 453 = 12,231")pb");
  ExpectProto(out[4], R"pb(
    id: "msg_01"
    model: "claude-sonnet-4-5"
    provider: "claude"
    finish_reason: FINISH_REASON_STOP
    usage {
      prompt_tokens: 2400
      completion_tokens: 200
      total_tokens: 2600
      cached_prompt_tokens: 2000
      cache_write_tokens: 300
    }
  )pb");
}

// Whether the proto has ReasoningDelta.redacted_data yet (DESIGN.md has it).
template <typename T>
constexpr auto HasRedactedData(int)
    -> decltype(std::declval<T>().redacted_data(), bool()) {
  return true;
}
template <typename T>
constexpr bool HasRedactedData(long) {
  return false;
}

template <typename T>
std::string RedactedData(const T& r) {
  if constexpr (HasRedactedData<T>(0)) {
    return r.redacted_data();
  } else {
    return "";
  }
}

TEST(MessagesStreamDecoderTest, RedactedThinking) {
  MessagesStreamDecoder d(kProvider);
  v1::GenerateStreamResponse delta;
  absl::StatusOr<Result> r = d.Decode(
      "content_block_start",
      R"({"type":"content_block_start","index":0,"content_block":{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"}})",
      &delta);
  ASSERT_TRUE(r.ok()) << r.status();
  if (HasRedactedData<v1::ReasoningDelta>(0)) {
    ASSERT_EQ(*r, Result::kDelta);
    EXPECT_EQ(RedactedData(delta.reasoning()),
              "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP");
    EXPECT_EQ(delta.provider(), kProvider);
  } else {
    // Nowhere to put it until the proto has the field.
    EXPECT_EQ(*r, Result::kNothing);
    EXPECT_EQ(delta.ByteSizeLong(), 0u);
  }
  // The block's stop and the text after it decode as usual.
  delta.Clear();
  ASSERT_EQ(*d.Decode("content_block_stop",
                      R"({"type":"content_block_stop","index":0})", &delta),
            Result::kNothing);
}

TEST(MessagesStreamDecoderTest, JsonResponseToolStreamsAsText) {
  const std::vector<v1::GenerateStreamResponse> out = DecodeStream({
      {"message_start",
       R"({"type":"message_start","message":{"id":"msg_j","model":"m","usage":{"input_tokens":9,"output_tokens":1}}})"},
      {"content_block_start",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_j","name":"llmgateway_json_response","input":{}}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":""}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"name\": \"Ada\""}})"},
      {"content_block_delta",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":", \"born\": 1815}"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"message_delta",
       R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":12}})"},
      {"message_stop", R"({"type":"message_stop"})"},
  });
  ASSERT_EQ(out.size(), 3u);
  ExpectProto(out[0], R"pb(
    id: "msg_j"
    model: "m"
    provider: "claude"
    text: "{\"name\": \"Ada\""
  )pb");
  ExpectProto(out[1], R"pb(text: ", \"born\": 1815}")pb");
  EXPECT_EQ(out[2].finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(out[2].usage().total_tokens(), 21);
}

TEST(MessagesStreamDecoderTest, JsonToolBesideARealToolCall) {
  // The JSON tool does not take an ordinal: the real call is index 0.
  const std::vector<v1::GenerateStreamResponse> out = DecodeStream({
      {"", R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"j","name":"llmgateway_json_response","input":{}}})"},
      {"", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}})"},
      {"", R"({"type":"message_delta","delta":{"stop_reason":"tool_use"}})"},
      {"", R"({"type":"message_stop"})"},
  });
  ASSERT_EQ(out.size(), 2u);
  ExpectProto(out[0], R"pb(provider: "claude" tool_calls { index: 0 id: "t" name: "f" })pb");
  EXPECT_EQ(out[1].finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
}

TEST(MessagesStreamDecoderTest, ServerToolBlocksAreNotForwarded) {
  const std::vector<v1::GenerateStreamResponse> out = DecodeStream({
      {"", R"({"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}})"},
      {"", R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"query\": \"x\"}"}})"},
      {"", R"({"type":"content_block_start","index":1,"content_block":{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[]}})"},
      {"", R"({"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{"type":"x"}}})"},
      {"", R"({"type":"content_block_start","index":2,"content_block":{"type":"text","text":"Found it."}})"},
      {"", R"({"type":"message_stop"})"},
  });
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].text(), "Found it.");
  EXPECT_EQ(out[1].finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
}

TEST(MessagesStreamDecoderTest, MessageDeltaUsageReplacesCountsItHas) {
  const std::vector<v1::GenerateStreamResponse> out = DecodeStream({
      {"", R"({"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}})"},
      {"", R"({"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"input_tokens":12,"output_tokens":30}})"},
      {"", R"({"type":"message_delta","delta":{"stop_reason":null},"usage":{"output_tokens":31}})"},
      {"", R"({"type":"message_stop"})"},
  });
  ASSERT_EQ(out.size(), 1u);
  ExpectProto(out[0], R"pb(
    provider: "claude"
    finish_reason: FINISH_REASON_LENGTH
    usage {
      prompt_tokens: 17
      completion_tokens: 31
      total_tokens: 48
      cached_prompt_tokens: 5
    }
  )pb");
}

TEST(MessagesStreamDecoderTest, KeyOrderDoesNotMatter) {
  MessagesStreamDecoder d(kProvider);
  v1::GenerateStreamResponse delta;
  ASSERT_EQ(*d.Decode("", R"({"content_block":{"input":{},"name":"f","id":"t","type":"tool_use"},"index":3,"type":"content_block_start"})", &delta),
            Result::kDelta);
  ExpectProto(delta, R"pb(provider: "claude" tool_calls { index: 0 id: "t" name: "f" })pb");
  delta.Clear();
  ASSERT_EQ(*d.Decode("", R"({"delta":{"partial_json":"{}","type":"input_json_delta"},"index":3,"type":"content_block_delta"})", &delta),
            Result::kDelta);
  ExpectProto(delta, R"pb(tool_calls { index: 0 arguments: "{}" })pb");
}

TEST(MessagesStreamDecoderTest, NothingToSend) {
  MessagesStreamDecoder d(kProvider);
  for (const Event& e : std::vector<Event>{
           {"ping", R"({"type":"ping"})"},
           {"", "   "},
           {"ping", ""},
           {"", R"({"type":"content_block_stop","index":0})"},
           {"", R"({"type":"some_future_event","x":[1,{}]})"},
           {"", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
           {"", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}})"},
           {"", R"({"type":"content_block_start","index":1,"content_block":{"type":"thinking","thinking":""}})"},
           {"", R"({"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":""}})"},
           {"", R"({"type":"content_block_delta","index":1,"delta":{"type":"signature_delta","signature":""}})"},
           {"", R"({"type":"content_block_delta","index":0,"delta":{"type":"future_delta","x":1}})"},
           {"", R"({"type":"message_start","message":{"id":"m","content":[{"type":"text","text":"ignored"}]}})"},
       }) {
    v1::GenerateStreamResponse delta;
    absl::StatusOr<Result> r = DecodeExact(d, e.type, e.data, &delta);
    ASSERT_TRUE(r.ok()) << r.status() << e.data;
    EXPECT_EQ(*r, Result::kNothing) << e.data;
    EXPECT_EQ(delta.ByteSizeLong(), 0u) << e.data;
  }
}

TEST(MessagesStreamDecoderTest, EventsAfterMessageStopAreIgnored) {
  MessagesStreamDecoder d(kProvider);
  v1::GenerateStreamResponse delta;
  ASSERT_EQ(*d.Decode("message_stop", R"({"type":"message_stop"})", &delta),
            Result::kDone);
  EXPECT_TRUE(d.done());
  for (const char* data :
       {R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"late"}})",
        R"({"type":"error","error":{"type":"api_error","message":"late"}})",
        "not json", R"({"type":"message_stop"})"}) {
    ASSERT_EQ(*d.Decode("", data, &delta), Result::kNothing) << data;
    EXPECT_EQ(delta.ByteSizeLong(), 0u);
  }
  v1::GenerateStreamResponse last;
  d.Finish(&last);
  ExpectProto(last, R"pb(provider: "claude" usage {})pb");
}

TEST(MessagesStreamDecoderTest, FinishAlwaysHasUsageAndFinishReason) {
  MessagesStreamDecoder d(kProvider);
  v1::GenerateStreamResponse last;
  d.Finish(&last);
  EXPECT_TRUE(last.has_usage());
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
  EXPECT_EQ(last.provider(), kProvider);
}

// Errors.

void ExpectStreamError(const absl::StatusOr<Result>& r,
                       absl::StatusCode code, absl::string_view message) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status();
  EXPECT_EQ(std::string(r.status().message()), std::string(message));
  auto info = GetErrorInfo(r.status());
  ASSERT_TRUE(info.has_value()) << r.status();
  EXPECT_EQ(info->reason(), "UPSTREAM_STREAM_ERROR");
  EXPECT_EQ(info->domain(), "llmgateway");
  EXPECT_EQ(info->metadata().at("provider"), kProvider);
}

TEST(MessagesStreamDecoderTest, OverloadedMidStream) {
  MessagesStreamDecoder d(kProvider);
  v1::GenerateStreamResponse delta;
  ASSERT_EQ(*d.Decode("", TextStream()[0].data, &delta), Result::kNothing);
  ASSERT_EQ(*d.Decode("", TextStream()[1].data, &delta), Result::kNothing);
  ASSERT_EQ(*d.Decode("", TextStream()[3].data, &delta), Result::kDelta);
  delta.Clear();
  ExpectStreamError(
      DecodeExact(d, "error",
                  R"({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})",
                  &delta),
      absl::StatusCode::kUnavailable,
      "provider \"claude\" reported an error mid-stream: Overloaded");
  EXPECT_EQ(delta.ByteSizeLong(), 0u);
  EXPECT_FALSE(d.done());
}

TEST(MessagesStreamDecoderTest, ErrorTypesMapLikeTheirHttpStatus) {
  struct Case {
    const char* type;
    absl::StatusCode code;
  };
  for (const Case& c : std::vector<Case>{
           {"invalid_request_error", absl::StatusCode::kInvalidArgument},
           {"request_too_large", absl::StatusCode::kInvalidArgument},
           {"not_found_error", absl::StatusCode::kNotFound},
           {"rate_limit_error", absl::StatusCode::kResourceExhausted},
           {"api_error", absl::StatusCode::kUnavailable},
           {"overloaded_error", absl::StatusCode::kUnavailable},
           {"brand_new_error", absl::StatusCode::kUnavailable},
       }) {
    MessagesStreamDecoder d(kProvider);
    v1::GenerateStreamResponse delta;
    ExpectStreamError(
        d.Decode("", absl::StrCat(R"({"type":"error","error":{"type":")", c.type,
                                  R"(","message":"m"}})"),
                 &delta),
        c.code, "provider \"claude\" reported an error mid-stream: m");
  }
  // The gateway's own key refused: the upstream's words may quote it.
  MessagesStreamDecoder d(kProvider);
  v1::GenerateStreamResponse delta;
  ExpectStreamError(
      d.Decode("", R"({"type":"error","error":{"type":"authentication_error","message":"bad key sk-ant-123"}})",
               &delta),
      absl::StatusCode::kInternal,
      "provider \"claude\" reported an error mid-stream: the gateway's "
      "credentials were rejected");
}

TEST(MessagesStreamDecoderTest, ErrorEventsWithoutDetails) {
  MessagesStreamDecoder d(kProvider);
  v1::GenerateStreamResponse delta;
  ExpectStreamError(d.Decode("error", "upstream went away", &delta),
                    absl::StatusCode::kUnavailable,
                    "provider \"claude\" reported an error mid-stream: no details");
  ExpectStreamError(d.Decode("error", "", &delta), absl::StatusCode::kUnavailable,
                    "provider \"claude\" reported an error mid-stream: no details");
  ExpectStreamError(d.Decode("", R"({"type":"error","error":{"type":"api_error"}})", &delta),
                    absl::StatusCode::kUnavailable,
                    "provider \"claude\" reported an error mid-stream: api_error");
  // No JSON type: the event name says it is an error.
  ExpectStreamError(d.Decode("error", R"({"error":{"message":"m"}})", &delta),
                    absl::StatusCode::kUnavailable,
                    "provider \"claude\" reported an error mid-stream: m");
}

TEST(MessagesStreamDecoderTest, LongErrorMessagesAreBoundedAtACharacter) {
  // 1023 ASCII bytes, then 2-byte characters: the cut at 1024 would split one.
  std::string text(1023, 'a');
  for (int i = 0; i < 50; ++i) text += "é";
  MessagesStreamDecoder d(kProvider);
  v1::GenerateStreamResponse delta;
  absl::StatusOr<Result> r = d.Decode(
      "", absl::StrCat(R"({"type":"error","error":{"type":"api_error","message":")",
                       text, R"("}})"),
      &delta);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(std::string(r.status().message()),
            absl::StrCat("provider \"claude\" reported an error mid-stream: ",
                         std::string(1023, 'a'), "..."));
}

TEST(MessagesStreamDecoderTest, MalformedEventsAreBadResponses) {
  constexpr absl::string_view kPrefix =
      "provider \"claude\" sent a response the gateway could not read: "
      "malformed Anthropic stream event: ";
  for (const char* data : {
           "not json",
           "[]",
           R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}})",
           R"({"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}})",
           R"({"type":"content_block_start","index":"0","content_block":{"type":"text"}})",
           R"({"type":"content_block_delta","index":7,"delta":{"type":"input_json_delta","partial_json":"{}"}})",
           R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","name":"f","input":"{}"}})",
           R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","input":{}}})",
           R"({"type":"message_start","message":{"usage":{"input_tokens":"many"}}})",
           R"({"type":"message_delta","delta":{"stop_reason":1}})",
           R"({"type":"message_stop"} {"type":"message_stop"})",
           R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"secret)",
       }) {
    MessagesStreamDecoder d(kProvider);
    v1::GenerateStreamResponse delta;
    absl::StatusOr<Result> r = DecodeExact(d, "", data, &delta);
    ASSERT_FALSE(r.ok()) << data;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(std::string(r.status().message()), StartsWith(std::string(kPrefix)));
    EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr("secret")));
    auto info = GetErrorInfo(r.status());
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->reason(), "UPSTREAM_BAD_RESPONSE");
    EXPECT_EQ(info->metadata().at("provider"), kProvider);
    EXPECT_EQ(delta.ByteSizeLong(), 0u);
    EXPECT_FALSE(d.done());
  }
}

TEST(MessagesStreamDecoderTest, UnicodeSplitAcrossDeltasArrivesWhole) {
  // Each delta is whole JSON, so escapes and multi-byte characters never
  // split: what arrives concatenates to the text.
  const std::vector<v1::GenerateStreamResponse> out = DecodeStream({
      {"", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":"日本"}})"},
      {"", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"語\u306e"}})"},
      {"", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\ud83c\udf63 \"quoted\" \\ \n"}})"},
      {"", R"({"type":"message_stop"})"},
  });
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].text() + out[1].text() + out[2].text(),
            "日本語の🍣 \"quoted\" \\ \n");
}

TEST(MessagesStreamDecoderTest, LargeEventsDecode) {
  const std::string text(3 << 20, 'x');
  MessagesStreamDecoder d(kProvider);
  v1::GenerateStreamResponse delta;
  ASSERT_EQ(*d.Decode("", absl::StrCat(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")",
                                       text, R"("}})"),
                      &delta),
            Result::kDelta);
  EXPECT_EQ(delta.text(), text);
  delta.Clear();
  ASSERT_EQ(*d.Decode("", TextStream()[3].data, &delta), Result::kDelta);
  EXPECT_EQ(delta.text(), "Hello");
}

TEST(MessagesStreamDecoderTest, DecodersAreIndependent) {
  // Two streams interleaved on one thread share its parser, never state.
  MessagesStreamDecoder a(kProvider), b("other");
  v1::GenerateStreamResponse da, db;
  ASSERT_TRUE(a.Decode("", TextStream()[0].data, &da).ok());
  ASSERT_EQ(*b.Decode("", R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}})", &db),
            Result::kDelta);
  ASSERT_EQ(*a.Decode("", R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"u","name":"g","input":{}}})", &da),
            Result::kDelta);
  EXPECT_EQ(da.tool_calls(0).index(), 0);
  EXPECT_EQ(da.id(), "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY");
  EXPECT_EQ(db.provider(), "other");
  EXPECT_TRUE(db.id().empty());
}

}  // namespace
}  // namespace llmgateway::anthropic
