// Tests ParseGenerateContentResponse on Gemini's documented answers: text,
// thoughts and signatures in place, function calls with made and kept ids,
// usage, finish reasons, the blocked prompt, and bodies that are no answer.
#include "server/providers/gemini/generate_content_response.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"
#include "server/providers/common/adapter_test_util.h"

namespace llmgateway::gemini {
namespace {

using ::llmgateway::providers::test_util::ExpectProto;
using ::llmgateway::providers::test_util::Padded;

absl::Status Parse(const std::string& json, v1::GenerateResponse* out) {
  return ParseGenerateContentResponse(Padded(json), "google", out);
}

v1::GenerateResponse MustParse(const std::string& json) {
  v1::GenerateResponse out;
  const absl::Status s = Parse(json, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(GenerateContentResponseTest, Text) {
  ExpectProto(MustParse(R"({
    "candidates": [{"content": {"parts": [{"text": "Hello"}, {"text": " world"}], "role": "model"},
                    "finishReason": "STOP", "index": 0}],
    "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "totalTokenCount": 6,
                      "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 4}]},
    "modelVersion": "gemini-2.5-flash",
    "responseId": "mB3PaLqHIuW4nsEP-_qqmAk"
  })"),
              R"pb(id: "mB3PaLqHIuW4nsEP-_qqmAk"
                   model: "gemini-2.5-flash"
                   message {
                     role: ROLE_ASSISTANT
                     parts { text: "Hello" }
                     parts { text: " world" }
                   }
                   text: "Hello world"
                   finish_reason: FINISH_REASON_STOP
                   usage { prompt_tokens: 4 completion_tokens: 2 total_tokens: 6 })pb");
}

TEST(GenerateContentResponseTest, ThoughtsAndSignaturesInPlace) {
  ExpectProto(MustParse(R"({
    "candidates": [{"content": {"parts": [
        {"text": "**Planning**\nLet me think.", "thought": true},
        {"text": "The answer is 4.", "thoughtSignature": "CiQB0e2Kb0sig"},
        {"text": "", "thoughtSignature": "EndSig"}], "role": "model"},
      "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 6,
                      "thoughtsTokenCount": 120, "totalTokenCount": 136},
    "responseId": "r1"
  })"),
              R"pb(id: "r1"
                   message {
                     role: ROLE_ASSISTANT
                     parts { reasoning { text: "**Planning**\nLet me think." } }
                     parts { reasoning { signature: "CiQB0e2Kb0sig" } }
                     parts { text: "The answer is 4." }
                     parts { reasoning { signature: "EndSig" } }
                   }
                   text: "The answer is 4."
                   finish_reason: FINISH_REASON_STOP
                   usage {
                     prompt_tokens: 10
                     completion_tokens: 126
                     total_tokens: 136
                     reasoning_tokens: 120
                   })pb");
}

TEST(GenerateContentResponseTest, FunctionCallsGetStableIds) {
  const std::string body = R"({
    "candidates": [{"content": {"parts": [
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
         "thoughtSignature": "FcSig"},
        {"functionCall": {"name": "get_time", "args": {"tz": "CET"}}},
        {"functionCall": {"name": "no_args"}},
        {"functionCall": {"name": "own_id", "id": "gemini-id-7", "args": {}}}],
      "role": "model"}, "finishReason": "STOP"}],
    "modelVersion": "gemini-3-pro-preview",
    "responseId": "resp42"
  })";
  const v1::GenerateResponse r = MustParse(body);
  ExpectProto(r, R"pb(id: "resp42"
                      model: "gemini-3-pro-preview"
                      message {
                        role: ROLE_ASSISTANT
                        parts { reasoning { signature: "FcSig" } }
                        parts {
                          tool_call {
                            id: "call_resp42_0"
                            name: "get_weather"
                            arguments: "{\"city\": \"Paris\"}"
                          }
                        }
                        parts {
                          tool_call {
                            id: "call_resp42_1"
                            name: "get_time"
                            arguments: "{\"tz\": \"CET\"}"
                          }
                        }
                        parts { tool_call { id: "call_resp42_2" name: "no_args" arguments: "{}" } }
                        parts { tool_call { id: "gemini-id-7" name: "own_id" arguments: "{}" } }
                      }
                      finish_reason: FINISH_REASON_TOOL_CALLS)pb");
  // The same body, the same ids.
  EXPECT_EQ(MustParse(body).SerializeAsString(), r.SerializeAsString());
}

TEST(GenerateContentResponseTest, FinishReasons) {
  auto finish = [](const std::string& reason) {
    return MustParse(R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":")" +
                     reason + R"("}]})")
        .finish_reason();
  };
  EXPECT_EQ(finish("MAX_TOKENS"), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(finish("SAFETY"), v1::FINISH_REASON_CONTENT_FILTER);
  EXPECT_EQ(finish("RECITATION"), v1::FINISH_REASON_CONTENT_FILTER);
  EXPECT_EQ(finish("MALFORMED_FUNCTION_CALL"), v1::FINISH_REASON_OTHER);
  // A candidate stopped by the safety filter may have no content at all.
  const v1::GenerateResponse r = MustParse(
      R"({"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[]}]})");
  EXPECT_EQ(r.finish_reason(), v1::FINISH_REASON_CONTENT_FILTER);
  EXPECT_EQ(r.message().parts_size(), 0);
  EXPECT_EQ(r.message().role(), v1::ROLE_ASSISTANT);
}

TEST(GenerateContentResponseTest, BlockedPromptIsContentFiltered) {
  v1::GenerateResponse out;
  out.set_provider("kept");
  const absl::Status s = Parse(R"({"promptFeedback": {"blockReason": "SAFETY",
      "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH"}]},
      "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8},
      "modelVersion": "gemini-2.5-flash", "responseId": "blk"})",
                               &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "CONTENT_FILTERED");
  EXPECT_EQ(info->metadata().at("blockReason"), "SAFETY");
  EXPECT_EQ(info->metadata().at("provider"), "google");
  EXPECT_EQ(out.provider(), "kept");
  EXPECT_TRUE(out.id().empty()) << "untouched on failure";
}

TEST(GenerateContentResponseTest, NotAnAnswer) {
  for (const char* body : {
           "", "not json", "[]", R"({"candidates":[)",
           R"({"error":{"code":500,"message":"boom","status":"INTERNAL"}})",
           R"({"usageMetadata":{"promptTokenCount":1}})",
           R"({"candidates":[]})",
           R"({"candidates":[{"content":{"parts":[{"text":1}]}}]})",
           R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}]} {"x":1})",
       }) {
    v1::GenerateResponse out;
    const absl::Status s = Parse(body, &out);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << body;
    EXPECT_TRUE(absl::StartsWith(s.message(),
                                 "upstream returned a malformed Gemini response: "))
        << s;
    EXPECT_FALSE(GetErrorInfo(s).has_value()) << "the engine classifies it";
    EXPECT_EQ(out.ByteSizeLong(), 0u) << body;
  }
}

TEST(GenerateContentResponseTest, WithoutSpareCapacityTheSame) {
  const std::string json =
      R"({"candidates":[{"content":{"parts":[{"text":"é😀"}]},"finishReason":"STOP"}]})";
  std::string tight = json;
  tight.shrink_to_fit();
  v1::GenerateResponse a, b;
  ASSERT_TRUE(ParseGenerateContentResponse(tight, "g", &a).ok());
  ASSERT_TRUE(Parse(json, &b).ok());
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(a.text(), "é😀");
}

}  // namespace
}  // namespace llmgateway::gemini
