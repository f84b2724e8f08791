// Tests the usage and stop_reason mapping shared by the body and stream
// parsers.
#include "server/providers/anthropic/message_fields.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "simdjson.h"

namespace llmgateway::anthropic {
namespace {

namespace od = ::simdjson::ondemand;

// `json` as the value of a member, where the parsers meet a usage object.
absl::Status ParseUsageJson(const std::string& json, TokenUsage* usage) {
  const simdjson::padded_string padded("{\"usage\":" + json + "}");
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc)) return absl::UnknownError("not JSON");
  od::value v;
  if (doc.find_field("usage").get(v)) return absl::UnknownError("no value");
  return ParseUsage(v, "usage", usage);
}

TEST(ParseUsageTest, ReadsTheFourCounts) {
  TokenUsage u;
  ASSERT_TRUE(ParseUsageJson(R"({"input_tokens":1,"output_tokens":2,)"
                             R"("cache_read_input_tokens":3,)"
                             R"("cache_creation_input_tokens":4,)"
                             R"("cache_creation":{"ephemeral_1h_input_tokens":4},)"
                             R"("server_tool_use":{"web_search_requests":1}})",
                             &u)
                  .ok());
  EXPECT_EQ(u.input_tokens, 1);
  EXPECT_EQ(u.output_tokens, 2);
  EXPECT_EQ(u.cache_read_input_tokens, 3);
  EXPECT_EQ(u.cache_creation_input_tokens, 4);
}

TEST(ParseUsageTest, KeepsCountsNotSent) {
  // message_delta repeats only output_tokens after message_start.
  TokenUsage u;
  u.input_tokens = 100;
  u.cache_read_input_tokens = 7;
  u.output_tokens = 1;
  ASSERT_TRUE(ParseUsageJson(R"({"output_tokens":42,"input_tokens":null})", &u).ok());
  EXPECT_EQ(u.input_tokens, 100);
  EXPECT_EQ(u.cache_read_input_tokens, 7);
  EXPECT_EQ(u.output_tokens, 42);
  ASSERT_TRUE(ParseUsageJson("null", &u).ok());
  EXPECT_EQ(u.output_tokens, 42);
}

TEST(ParseUsageTest, ErrorsNameTheField) {
  TokenUsage u;
  absl::Status s = ParseUsageJson(R"({"output_tokens":"many"})", &u);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(s.message()),
            "usage.output_tokens (simdjson: INCORRECT_TYPE)");
  EXPECT_FALSE(ParseUsageJson("[]", &u).ok());
  EXPECT_FALSE(ParseUsageJson(R"({"input_tokens":1.5})", &u).ok());
}

TEST(ToV1UsageTest, PromptCountsCachedTokens) {
  TokenUsage u;
  u.input_tokens = 10;
  u.cache_read_input_tokens = 1000;
  u.cache_creation_input_tokens = 200;
  u.output_tokens = 5;
  v1::Usage out;
  ToV1Usage(u, &out);
  EXPECT_EQ(out.prompt_tokens(), 1210);
  EXPECT_EQ(out.completion_tokens(), 5);
  EXPECT_EQ(out.total_tokens(), 1215);
  EXPECT_EQ(out.cached_prompt_tokens(), 1000);
  EXPECT_EQ(out.cache_write_tokens(), 200);
  EXPECT_EQ(out.reasoning_tokens(), 0);
}

TEST(ToV1UsageTest, SumsSaturate) {
  TokenUsage u;
  u.input_tokens = std::numeric_limits<int64_t>::max();
  u.cache_read_input_tokens = 1;
  u.output_tokens = 1;
  v1::Usage out;
  ToV1Usage(u, &out);
  EXPECT_EQ(out.prompt_tokens(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(out.total_tokens(), std::numeric_limits<int64_t>::max());
  u = TokenUsage();
  u.input_tokens = std::numeric_limits<int64_t>::min();
  u.output_tokens = -1;
  ToV1Usage(u, &out);
  EXPECT_EQ(out.total_tokens(), std::numeric_limits<int64_t>::min());
}

TEST(MapStopReasonTest, EveryDocumentedValue) {
  EXPECT_EQ(MapStopReason("end_turn"), v1::FINISH_REASON_STOP);
  EXPECT_EQ(MapStopReason("stop_sequence"), v1::FINISH_REASON_STOP);
  EXPECT_EQ(MapStopReason("max_tokens"), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(MapStopReason("model_context_window_exceeded"),
            v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(MapStopReason("tool_use"), v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(MapStopReason("refusal"), v1::FINISH_REASON_CONTENT_FILTER);
  EXPECT_EQ(MapStopReason("pause_turn"), v1::FINISH_REASON_OTHER);
  EXPECT_EQ(MapStopReason("new_reason"), v1::FINISH_REASON_OTHER);
  EXPECT_EQ(MapStopReason(""), v1::FINISH_REASON_UNSPECIFIED);
}

TEST(AnswerFinishReasonTest, TheJsonToolAloneIsAnAnswer) {
  EXPECT_EQ(AnswerFinishReason("tool_use", 0, true), v1::FINISH_REASON_STOP);
  EXPECT_EQ(AnswerFinishReason("tool_use", 1, true),
            v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(AnswerFinishReason("tool_use", 0, false),
            v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(AnswerFinishReason("max_tokens", 0, true),
            v1::FINISH_REASON_LENGTH);
}

}  // namespace
}  // namespace llmgateway::anthropic
