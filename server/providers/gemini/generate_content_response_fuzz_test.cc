// Seeded randomized property test of the two Gemini body parsers
// (ParseGenerateContentResponse, ParseErrorBody): mutated, truncated, random
// and deeply nested inputs must never crash, and every outcome must be
// well-formed. Fixed seeds keep it deterministic; run it under
// --config=asan and ubsan.
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"
#include "server/providers/common/adapter_test_util.h"
#include "server/providers/gemini/error_body.h"
#include "server/providers/gemini/generate_content_response.h"
#include "server/providers/json/json_mutator.h"

namespace llmgateway::gemini {
namespace {

using ::llmgateway::json::Repeat;
using ::llmgateway::providers::test_util::CheckBodyParse;
using ::llmgateway::providers::test_util::CheckEveryTruncation;
using ::llmgateway::providers::test_util::CheckMutations;
using ::llmgateway::providers::test_util::CheckRandomInputs;

// Bodies in the documented shapes, then error bodies.
const std::vector<std::string>& Samples() {
  static const auto* samples = new std::vector<std::string>{
      R"({"candidates": [{"content": {"parts": [{"text": "Hi! \"Quoted\" \\ \u00e9 \ud83d\ude00\nline"}],)"
      R"("role": "model"},"finishReason": "STOP","index": 0,"safetyRatings": [{"category": )"
      R"("HARM_CATEGORY_HATE_SPEECH","probability": "NEGLIGIBLE"}]}],"usageMetadata": {)"
      R"("promptTokenCount": 8,"candidatesTokenCount": 12,"totalTokenCount": 20,)"
      R"("promptTokensDetails": [{"modality": "TEXT","tokenCount": 8}]},)"
      R"("modelVersion": "gemini-2.5-flash","responseId": "mB3PaLqHIuW4nsEP-_qqmAk"})",

      R"({"candidates":[{"content":{"parts":[{"text":"**Weighing**\nNeed the weather.","thought":true},)"
      R"({"functionCall":{"name":"get_weather","args":{"location":"San Francisco, CA","d":[1,2.5e-3,)"
      R"(true,false,null,{"y":[[]]}]}},"thoughtSignature":"CiQB0e2Kb0sigAAA"},)"
      R"({"functionCall":{"name":"get_time","args":{}}}],"role":"model"},"finishReason":"STOP"}],)"
      R"("usageMetadata":{"promptTokenCount":472,"candidatesTokenCount":89,"thoughtsTokenCount":120,)"
      R"("cachedContentTokenCount":100,"toolUsePromptTokenCount":3,"totalTokenCount":684},)"
      R"("modelVersion":"gemini-3-pro-preview","responseId":"r2"})",

      R"({"candidates":[{"content":{"parts":[{"text":"a","thoughtSignature":"S"},{"text":"b"},)"
      R"({"text":"","thoughtSignature":"End"},{"inlineData":{"mimeType":"image/png","data":"iVBO"}},)"
      R"({"functionCall":{"name":"f","id":"own-id","args":null}}]},"finishReason":"MAX_TOKENS",)"
      R"("index":0},{"index":1,"content":{"parts":[{"text":"other"}]}}],"usageMetadata":null,"x":[1,{"y":null}]})",

      R"({"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[{"category":)"
      R"("HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH","blocked":true}]}],)"
      R"("usageMetadata":{"promptTokenCount":9,"totalTokenCount":9},"modelVersion":"gemini-2.0-flash"})",

      R"({"candidates":[{"content":{"parts":[{"executableCode":{"language":"PYTHON","code":"print 1"}},)"
      R"({"codeExecutionResult":{"outcome":"OUTCOME_OK","output":"1\n"}},{"text":"1"}]},)"
      R"("finishReason":"MALFORMED_FUNCTION_CALL","citationMetadata":{"citationSources":[]}}]})",

      R"({"promptFeedback":{"blockReason":"PROHIBITED_CONTENT","safetyRatings":[]},)"
      R"("usageMetadata":{"promptTokenCount":5,"totalTokenCount":5},"responseId":"blk"})",

      R"({"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).",)"
      R"("status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo",)"
      R"("retryDelay":"30s"},{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}})",

      R"([{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}])",

      R"({"message":"Internal server error"})",
  };
  return *samples;
}

constexpr absl::string_view kPrefix =
    "upstream returned a malformed Gemini response: ";

// How many inputs the parser accepted, and how many were blocked prompts:
// mutations that all fail up front would test nothing past simdjson's first
// stage.
int g_accepted = 0;
int g_blocked = 0;

// The parser, with a blocked prompt (the one refusal that is not
// UNAVAILABLE) checked here and then reported as CheckBodyParse expects a
// refusal.
absl::Status ParseForCheck(const std::string& body, v1::GenerateResponse* out) {
  absl::Status s = ParseGenerateContentResponse(body, "fuzz", out);
  auto info = GetErrorInfo(s);
  if (info.has_value()) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(info->reason(), "CONTENT_FILTERED") << s;
    EXPECT_EQ(info->metadata().at("provider"), "fuzz");
    EXPECT_LE(s.message().size(), 80u + 1024u) << s;
    ++g_blocked;
    return absl::UnavailableError(absl::StrCat(kPrefix, "blocked"));
  }
  return s;
}

// Runs both parsers on `input` and checks what must hold for any input.
void Check(const std::string& input) {
  v1::GenerateResponse a;
  bool accepted = false;
  ASSERT_NO_FATAL_FAILURE(CheckBodyParse(ParseForCheck, kPrefix, input, &a, &accepted));
  if (accepted) {
    ++g_accepted;
    // What CheckBodyParse does not know of this format's answers.
    size_t bytes = 0;
    for (const v1::Part& p : a.message().parts()) {
      ASSERT_FALSE(p.has_media() || p.has_tool_result());
      if (p.has_reasoning()) {
        ASSERT_TRUE(p.reasoning().ByteSizeLong() > 0);
        ASSERT_TRUE(p.reasoning().redacted_data().empty());
      }
      if (p.has_tool_call()) {
        ASSERT_FALSE(p.tool_call().id().empty());
        ASSERT_FALSE(p.tool_call().name().empty());
        ASSERT_FALSE(p.tool_call().arguments().empty());
      }
      bytes += p.ByteSizeLong();
    }
    // Everything came from the input (escapes only shrink; each part's
    // framing, and a made call id's "call_" and ordinal, are a few bytes).
    ASSERT_LE(bytes, 2 * input.size() + 32 * a.message().parts_size());
  }

  const ErrorBody e = ParseErrorBody(input);
  ASSERT_LE(e.status.size(), input.size());
  ASSERT_LE(e.message.size(), input.size());
  ASSERT_LE(e.reason.size(), input.size());
  if (e.retry_delay.has_value()) {
    ASSERT_GE(*e.retry_delay, absl::ZeroDuration());
    ASSERT_LE(*e.retry_delay, absl::Hours(24));
  }
}

TEST(GenerateContentResponsePropertyTest, SamplesParse) {
  int ok = 0;
  for (const std::string& s : Samples()) {
    ASSERT_NO_FATAL_FAILURE(Check(s));
    v1::GenerateResponse r;
    if (ParseGenerateContentResponse(s, "fuzz", &r).ok()) ++ok;
  }
  EXPECT_EQ(ok, 5);  // The answers; then a blocked prompt and errors.
  EXPECT_EQ(ParseErrorBody(Samples()[6]).status, "RESOURCE_EXHAUSTED");
}

TEST(GenerateContentResponsePropertyTest, EveryTruncation) {
  CheckEveryTruncation(Samples(), Check);
}

TEST(GenerateContentResponsePropertyTest, RandomByteMutations) {
  g_accepted = 0;
  g_blocked = 0;
  constexpr int kRounds = 50000;
  // A fixed seed: failures must reproduce.
  CheckMutations(Samples(), 0x67656d69, kRounds, Check);
  std::cout << g_accepted << " of " << kRounds << " mutated bodies parsed, "
            << g_blocked / 2 << " blocked prompts\n";
  EXPECT_GT(g_accepted, kRounds / 20);
  EXPECT_GT(g_blocked, 0);
}

TEST(GenerateContentResponsePropertyTest, RandomBytes) { CheckRandomInputs(Check); }

TEST(GenerateContentResponsePropertyTest, DeepNesting) {
  for (int depth : {1, 2, 100, 1000, 1023, 1024, 1025, 5000, 100000}) {
    const std::string open = Repeat("[", depth), close = Repeat("]", depth);
    const std::string obj = Repeat("{\"a\":", depth) + "1" + Repeat("}", depth);
    // At the root, balanced and not.
    ASSERT_NO_FATAL_FAILURE(Check(open));
    ASSERT_NO_FATAL_FAILURE(Check(open + close));
    ASSERT_NO_FATAL_FAILURE(Check(obj));
    // In an unknown field (skipped), and wherever a value is read.
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(
        R"({"x":)", open, close, R"(,"candidates":[{"content":{"parts":[{"text":"ok"}]}}]})")));
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(
        R"({"candidates":[{"content":{"parts":[{"text":)", open, close, "}]}}]}")));
    // A call's args are kept as text, however deep.
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(
        R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":)", obj,
        "}}]}}]}")));
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(R"({"candidates":[],"usageMetadata":)", obj, "}")));
    ASSERT_NO_FATAL_FAILURE(
        Check(absl::StrCat(R"({"error":{"details":)", open, close, "}}")));
  }
  // Nesting within simdjson's depth limit parses, and the args are verbatim.
  v1::GenerateResponse r;
  const std::string input = Repeat("{\"a\":", 1000) + "1" + Repeat("}", 1000);
  ASSERT_TRUE(ParseGenerateContentResponse(
                  absl::StrCat(R"({"candidates":[{"content":{"parts":[{"functionCall":{)"
                               R"("name":"f","args":)",
                               input, "}}]}}]}"),
                  "fuzz", &r)
                  .ok());
  EXPECT_EQ(r.message().parts(0).tool_call().arguments(), input);
}

TEST(GenerateContentResponsePropertyTest, ManyParts) {
  std::string body = R"({"candidates":[{"content":{"parts":[)";
  for (int i = 0; i < 20000; ++i) {
    absl::StrAppend(&body, i ? "," : "",
                    i % 2 ? R"({"text":"t"})" : R"({"functionCall":{"name":"f","args":{}}})");
  }
  body += R"(]},"finishReason":"STOP"}],"responseId":"many"})";
  v1::GenerateResponse r;
  ASSERT_TRUE(ParseGenerateContentResponse(body, "fuzz", &r).ok());
  EXPECT_EQ(r.message().parts_size(), 20000);
  EXPECT_EQ(r.text(), std::string(10000, 't'));
  EXPECT_EQ(r.message().parts(19998).tool_call().id(), "call_many_9999");
  ASSERT_NO_FATAL_FAILURE(Check(body));
}

}  // namespace
}  // namespace llmgateway::gemini
