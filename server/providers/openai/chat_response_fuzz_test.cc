// Seeded randomized property test of the two upstream-body parsers
// (ParseChatResponse, ParseErrorBody): mutated, truncated, random and deeply
// nested inputs must never crash, and every outcome must be well-formed.
// Fixed seeds keep it deterministic; run it under --config=asan and ubsan.
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/common/adapter_test_util.h"
#include "server/providers/json/json_mutator.h"
#include "server/providers/openai/chat_response.h"
#include "server/providers/openai/error_body.h"

namespace llmgateway::openai {
namespace {

using ::llmgateway::json::Repeat;
using ::llmgateway::providers::test_util::CheckBodyParse;
using ::llmgateway::providers::test_util::CheckEveryTruncation;
using ::llmgateway::providers::test_util::CheckMutations;
using ::llmgateway::providers::test_util::CheckRandomInputs;

const std::vector<std::string>& Samples() {
  static const auto* samples = new std::vector<std::string>{
      R"({"id":"chatcmpl-1","object":"chat.completion","created":1741569952,)"
      R"("model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant",)"
      R"("content":"Hello! \"Quoted\" \\ \u00e9 \ud83d\ude00\nline","refusal":null,)"
      R"("annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":)"
      R"({"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,)"
      R"("prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},)"
      R"("completion_tokens_details":{"reasoning_tokens":4}},)"
      R"("service_tier":"default","system_fingerprint":null})",

      R"({"id":"chatcmpl-2","model":"gpt-4o","choices":[{"index":0,"message":)"
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_1",)"
      R"("type":"function","function":{"name":"get_weather","arguments":)"
      R"("{\"city\":\"Paris\",\"days\":[1,2]}"}},{"id":"call_2","type":)"
      R"("function","function":{"name":"f","arguments":"{}"}}]},)"
      R"("finish_reason":"tool_calls"}],"usage":{"prompt_tokens":80,)"
      R"("completion_tokens":40,"total_tokens":120}})",

      R"({"choices":[{"message":{"reasoning_content":"Let me think: 2+2.",)"
      R"("reasoning":"dup","content":"4"},"finish_reason":"length"},)"
      R"({"message":{"content":"second"}}],"usage":{"prompt_tokens":1,)"
      R"("completion_tokens":2},"x":[1,2.5e-3,true,false,null,{"y":[[]]}]})",

      R"({"choices":[{"message":{"role":"assistant","content":null,)"
      R"("refusal":"I can't help with that."},"finish_reason":)"
      R"("content_filter"}]})",

      R"({"error":{"message":"Incorrect API key provided","type":)"
      R"("invalid_request_error","param":null,"code":"invalid_api_key"}})",

      R"({"object":"error","message":"bad","type":"BadRequestError",)"
      R"("param":null,"code":400})",

      R"([{"error":{"code":429,"message":"Resource exhausted","status":)"
      R"("RESOURCE_EXHAUSTED"}}])",

      R"({"error":"model not found","detail":"x"})",
  };
  return *samples;
}

constexpr absl::string_view kPrefix =
    "upstream returned a malformed chat.completion: ";

// How many inputs ParseChatResponse accepted: mutations that all fail up
// front would test nothing past simdjson's first stage.
int g_accepted = 0;

// Runs both parsers on `input` and checks what must hold for any input.
void Check(const std::string& input) {
  v1::GenerateResponse a;
  bool accepted = false;
  ASSERT_NO_FATAL_FAILURE(
      CheckBodyParse(ParseChatResponse, kPrefix, input, &a, &accepted));
  if (accepted) ++g_accepted;

  const ErrorBody e = ParseErrorBody(input);
  for (const std::string* field : {&e.message, &e.type, &e.code, &e.param}) {
    ASSERT_LE(field->size(), input.size());
  }
}

TEST(ParserPropertyTest, SamplesParse) {
  int ok = 0;
  for (const std::string& s : Samples()) {
    Check(s);
    v1::GenerateResponse r;
    if (ParseChatResponse(s, &r).ok()) ++ok;
  }
  EXPECT_EQ(ok, 4);  // The chat.completion samples; the rest are errors.
  EXPECT_EQ(ParseErrorBody(Samples()[4]).code, "invalid_api_key");
}

TEST(ParserPropertyTest, EveryTruncation) {
  CheckEveryTruncation(Samples(), Check);
}

TEST(ParserPropertyTest, RandomByteMutations) {
  g_accepted = 0;
  constexpr int kRounds = 50000;
  // A fixed seed: failures must reproduce.
  CheckMutations(Samples(), 0x6c6c6d67, kRounds, Check);
  std::cout << g_accepted << " of " << kRounds << " mutated bodies parsed\n";
  EXPECT_GT(g_accepted, kRounds / 20);
}

TEST(ParserPropertyTest, RandomBytes) { CheckRandomInputs(Check); }

TEST(ParserPropertyTest, DeepNesting) {
  for (int depth : {1, 2, 100, 1000, 1023, 1024, 1025, 5000, 100000}) {
    // At the root, balanced and not.
    ASSERT_NO_FATAL_FAILURE(Check(Repeat("[", depth)));
    ASSERT_NO_FATAL_FAILURE(Check(Repeat("[", depth) + Repeat("]", depth)));
    ASSERT_NO_FATAL_FAILURE(
        Check(Repeat("{\"a\":", depth) + "1" + Repeat("}", depth)));
    // In an unknown field (skipped), and where a string is expected.
    ASSERT_NO_FATAL_FAILURE(
        Check(absl::StrCat(R"({"x":)", Repeat("[", depth), Repeat("]", depth),
                           R"(,"choices":[{"message":{"content":"ok"}}]})")));
    ASSERT_NO_FATAL_FAILURE(
        Check(absl::StrCat(R"({"choices":[{"message":{"content":)",
                           Repeat("[", depth), Repeat("]", depth), "}}]}")));
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(
        R"({"choices":[{"message":{"tool_calls":[{"function":{"name":)",
        Repeat("{\"a\":", depth), "1", Repeat("}", depth), "}}]}}]}")));
    ASSERT_NO_FATAL_FAILURE(
        Check(absl::StrCat(R"({"error":{"message":)", Repeat("[", depth),
                           Repeat("]", depth), "}}")));
  }
  // Skipped nesting within simdjson's depth limit parses.
  v1::GenerateResponse r;
  std::string body =
      absl::StrCat(R"({"x":)", Repeat("[", 1000), Repeat("]", 1000),
                   R"(,"choices":[{"message":{"content":"ok"}}]})");
  ASSERT_TRUE(ParseChatResponse(body, &r).ok());
  EXPECT_EQ(r.text(), "ok");
}

TEST(ParserPropertyTest, ManyChoicesAndToolCalls) {
  std::string body = R"({"choices":[)";
  for (int i = 0; i < 10000; ++i) {
    absl::StrAppend(&body, i ? "," : "", R"({"message":{"tool_calls":[)");
    for (int j = 0; j < (i == 0 ? 1000 : 1); ++j) {
      absl::StrAppend(&body, j ? "," : "",
                      R"({"id":"c","function":{"name":"f","arguments":"{}"}})");
    }
    absl::StrAppend(&body, "]}}");
  }
  body += "]}";
  v1::GenerateResponse r;
  ASSERT_TRUE(ParseChatResponse(body, &r).ok());
  EXPECT_EQ(r.message().parts_size(), 1000);
  ASSERT_NO_FATAL_FAILURE(Check(body));
}

}  // namespace
}  // namespace llmgateway::openai
