// Seeded randomized property test of the two Messages API body parsers
// (ParseMessagesResponse, ParseErrorBody): mutated, truncated, random and
// deeply nested inputs must never crash, and every outcome must be
// well-formed. Fixed seeds keep it deterministic; run it under --config=asan
// and ubsan.
#include <cstdint>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/anthropic/error_body.h"
#include "server/providers/anthropic/messages_response.h"
#include "server/providers/common/adapter_test_util.h"
#include "server/providers/json/json_mutator.h"

namespace llmgateway::anthropic {
namespace {

using ::llmgateway::json::Repeat;
using ::llmgateway::providers::test_util::CheckBodyParse;
using ::llmgateway::providers::test_util::CheckEveryTruncation;
using ::llmgateway::providers::test_util::CheckMutations;
using ::llmgateway::providers::test_util::CheckRandomInputs;

// Bodies in the documented shapes, then error bodies.
const std::vector<std::string>& Samples() {
  static const auto* samples = new std::vector<std::string>{
      R"({"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"message","role":"assistant",)"
      R"("model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":)"
      R"("Hi! \"Quoted\" \\ \u00e9 \ud83d\ude00\nline"}],"stop_reason":"end_turn",)"
      R"("stop_sequence":null,"usage":{"input_tokens":2095,"output_tokens":503,)"
      R"("cache_creation_input_tokens":0,"cache_read_input_tokens":0,)"
      R"("cache_creation":{"ephemeral_5m_input_tokens":0,)"
      R"("ephemeral_1h_input_tokens":0},"service_tier":"standard"}})",

      R"({"id":"msg_01","type":"message","role":"assistant","model":"claude-opus-4-1",)"
      R"("content":[{"type":"thinking","thinking":"Need the weather.",)"
      R"("signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},)"
      R"({"type":"text","text":"Checking."},{"type":"tool_use",)"
      R"("id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather",)"
      R"("input":{"location":"San Francisco, CA","unit":"celsius","d":[1,2.5e-3,)"
      R"(true,false,null,{"y":[[]]}]}}],"stop_reason":"tool_use",)"
      R"("stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":89,)"
      R"("cache_read_input_tokens":1000,"cache_creation_input_tokens":20}})",

      R"({"content":[{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix"},)"
      R"({"type":"text","text":"a"},{"type":"text","text":"b"}],)"
      R"("stop_reason":"max_tokens","usage":null,"x":[1,{"y":null}]})",

      R"({"id":"msg_j","content":[{"type":"tool_use","id":"toolu_j",)"
      R"("name":"llmgateway_json_response","input":{"name":"Ada","born":1815}}],)"
      R"("stop_reason":"tool_use"})",

      R"({"content":[{"type":"server_tool_use","id":"srvtoolu_1","name":)"
      R"("web_search","input":{"query":"x"}},{"type":"web_search_tool_result",)"
      R"("tool_use_id":"srvtoolu_1","content":[]},{"type":"text","text":"r",)"
      R"("citations":[{"type":"web_search_result_location","url":"https://x"}]}],)"
      R"("stop_reason":"refusal"})",

      R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},)"
      R"("request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"})",

      R"({"error":"upstream connect error"})",

      R"({"message":"Internal server error"})",
  };
  return *samples;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<int64_t>::max()
               : std::numeric_limits<int64_t>::min();
}

constexpr absl::string_view kPrefix =
    "upstream returned a malformed Anthropic message: ";

// How many inputs ParseMessagesResponse accepted: mutations that all fail up
// front would test nothing past simdjson's first stage.
int g_accepted = 0;

// Runs both parsers on `input` and checks what must hold for any input.
void Check(const std::string& input) {
  v1::GenerateResponse a;
  bool accepted = false;
  ASSERT_NO_FATAL_FAILURE(
      CheckBodyParse(ParseMessagesResponse, kPrefix, input, &a, &accepted));
  if (accepted) {
    ++g_accepted;
    // What CheckBodyParse does not know of this format's answers.
    size_t bytes = 0;
    for (const v1::Part& p : a.message().parts()) {
      ASSERT_FALSE(p.has_media() || p.has_tool_result());
      if (p.has_reasoning()) {
        ASSERT_TRUE(p.reasoning().ByteSizeLong() > 0);
      }
      bytes += p.ByteSizeLong();
    }
    // Everything came from the input (escapes only shrink; each part's
    // framing is a few bytes).
    ASSERT_LE(bytes, input.size() + 8 * a.message().parts_size());
    if (a.has_usage()) {
      const v1::Usage& u = a.usage();
      ASSERT_EQ(u.total_tokens(),
                SaturatingAdd(u.prompt_tokens(), u.completion_tokens()));
    }
  }

  const ErrorBody e = ParseErrorBody(input);
  ASSERT_LE(e.type.size(), input.size());
  ASSERT_LE(e.message.size(), input.size());
}

TEST(MessagesResponsePropertyTest, SamplesParse) {
  int ok = 0;
  for (const std::string& s : Samples()) {
    ASSERT_NO_FATAL_FAILURE(Check(s));
    v1::GenerateResponse r;
    if (ParseMessagesResponse(s, &r).ok()) ++ok;
  }
  EXPECT_EQ(ok, 5);  // The message samples; the rest are errors.
  EXPECT_EQ(ParseErrorBody(Samples()[5]).type, "overloaded_error");
}

TEST(MessagesResponsePropertyTest, EveryTruncation) {
  CheckEveryTruncation(Samples(), Check);
}

TEST(MessagesResponsePropertyTest, RandomByteMutations) {
  g_accepted = 0;
  constexpr int kRounds = 50000;
  // A fixed seed: failures must reproduce.
  CheckMutations(Samples(), 0x616e7468, kRounds, Check);
  std::cout << g_accepted << " of " << kRounds << " mutated bodies parsed\n";
  EXPECT_GT(g_accepted, kRounds / 20);
}

TEST(MessagesResponsePropertyTest, RandomBytes) { CheckRandomInputs(Check); }

TEST(MessagesResponsePropertyTest, DeepNesting) {
  for (int depth : {1, 2, 100, 1000, 1023, 1024, 1025, 5000, 100000}) {
    const std::string open = Repeat("[", depth), close = Repeat("]", depth);
    const std::string obj = Repeat("{\"a\":", depth) + "1" + Repeat("}", depth);
    // At the root, balanced and not.
    ASSERT_NO_FATAL_FAILURE(Check(open));
    ASSERT_NO_FATAL_FAILURE(Check(open + close));
    ASSERT_NO_FATAL_FAILURE(Check(obj));
    // In an unknown field (skipped), and wherever a value is read.
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(
        R"({"x":)", open, close, R"(,"content":[{"type":"text","text":"ok"}]})")));
    ASSERT_NO_FATAL_FAILURE(Check(
        absl::StrCat(R"({"content":[{"type":"text","text":)", open, close, "}]}")));
    // A tool call's input is kept as text, however deep.
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(
        R"({"content":[{"type":"tool_use","id":"t","name":"f","input":)", obj,
        "}]}")));
    ASSERT_NO_FATAL_FAILURE(
        Check(absl::StrCat(R"({"content":[],"usage":)", obj, "}")));
    ASSERT_NO_FATAL_FAILURE(Check(
        absl::StrCat(R"({"error":{"message":)", open, close, "}}")));
  }
  // Nesting within simdjson's depth limit parses, and the input is verbatim.
  v1::GenerateResponse r;
  const std::string input = Repeat("{\"a\":", 1000) + "1" + Repeat("}", 1000);
  ASSERT_TRUE(ParseMessagesResponse(
                  absl::StrCat(R"({"content":[{"type":"tool_use","id":"t",)"
                               R"("name":"f","input":)",
                               input, "}]}"),
                  &r)
                  .ok());
  EXPECT_EQ(r.message().parts(0).tool_call().arguments(), input);
}

TEST(MessagesResponsePropertyTest, ManyBlocks) {
  std::string body = R"({"content":[)";
  for (int i = 0; i < 20000; ++i) {
    absl::StrAppend(&body, i ? "," : "",
                    i % 2 ? R"({"type":"text","text":"t"})"
                          : R"({"type":"tool_use","id":"c","name":"f","input":{}})");
  }
  body += R"(],"stop_reason":"tool_use"})";
  v1::GenerateResponse r;
  ASSERT_TRUE(ParseMessagesResponse(body, &r).ok());
  EXPECT_EQ(r.message().parts_size(), 20000);
  EXPECT_EQ(r.text(), std::string(10000, 't'));
  ASSERT_NO_FATAL_FAILURE(Check(body));
}

}  // namespace
}  // namespace llmgateway::anthropic
