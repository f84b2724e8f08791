// Tests the GenerateContentResponse reader and the mappings the unary
// parser and the stream decoder share: candidate choice, part fields in any
// order, usage, finish reasons, tool call ids and the blocked prompt.
#include "server/providers/gemini/content_fields.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"
#include "simdjson.h"

namespace llmgateway::gemini {
namespace {

// Reads `json` and hands the view to `check` while the parser holds it.
template <typename Check>
absl::Status Read(const std::string& json, Check&& check) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  std::vector<PartView> parts;
  ResponseView view;
  view.parts = &parts;
  absl::Status s = ReadResponse(parser, padded, &view);
  if (s.ok()) check(view);
  return s;
}

TEST(ReadResponseTest, FirstCandidatePartsInOrderAnyKeyOrder) {
  const absl::Status s = Read(
      R"({"candidates":[{"finishReason":"STOP","index":0,"content":{"role":"model","parts":[
           {"thought":true,"text":"hmm"},
           {"text":"Hi","thoughtSignature":"c2ln"},
           {"functionCall":{"args":{"a":[1,{"b":null}]},"name":"f","id":"fc_1"}},
           {"inlineData":{"mimeType":"image/png","data":"iVBO"}}]},
           "safetyRatings":[]},
         {"index":1,"content":{"parts":[{"text":"second"}]},"finishReason":"MAX_TOKENS"}],
         "usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,
           "totalTokenCount":20,"thoughtsTokenCount":4,"cachedContentTokenCount":3,
           "toolUsePromptTokenCount":1,"promptTokensDetails":[{"modality":"TEXT","tokenCount":10}]},
         "modelVersion":"gemini-2.5-flash","responseId":"resp-1"})",
      [](const ResponseView& v) {
        EXPECT_EQ(v.response_id, "resp-1");
        EXPECT_EQ(v.model_version, "gemini-2.5-flash");
        EXPECT_EQ(v.candidates, 2);
        EXPECT_EQ(v.finish_reason, "STOP");
        ASSERT_EQ(v.parts->size(), 4u);
        EXPECT_TRUE((*v.parts)[0].thought);
        EXPECT_EQ((*v.parts)[0].text, "hmm");
        EXPECT_EQ((*v.parts)[1].text, "Hi");
        EXPECT_EQ((*v.parts)[1].thought_signature, "c2ln");
        EXPECT_FALSE((*v.parts)[1].thought);
        EXPECT_TRUE((*v.parts)[2].function_call);
        EXPECT_EQ((*v.parts)[2].call_name, "f");
        EXPECT_EQ((*v.parts)[2].call_id, "fc_1");
        EXPECT_EQ((*v.parts)[2].call_args, R"({"a":[1,{"b":null}]})");
        EXPECT_FALSE((*v.parts)[3].function_call);
        EXPECT_TRUE((*v.parts)[3].text.empty());
        ASSERT_TRUE(v.has_usage);
        v1::Usage u;
        ToV1Usage(v.usage, &u);
        EXPECT_EQ(u.prompt_tokens(), 11);
        EXPECT_EQ(u.completion_tokens(), 9);
        EXPECT_EQ(u.total_tokens(), 20);
        EXPECT_EQ(u.cached_prompt_tokens(), 3);
        EXPECT_EQ(u.reasoning_tokens(), 4);
      });
  EXPECT_TRUE(s.ok()) << s;
}

TEST(ReadResponseTest, CandidateWithoutIndexIsTheFirst) {
  const absl::Status s = Read(
      R"({"candidates":[{"content":{"parts":[{"text":"a"}]}},{"index":0,"content":{"parts":[{"text":"dup"}]}}]})",
      [](const ResponseView& v) {
        ASSERT_EQ(v.parts->size(), 1u);
        EXPECT_EQ((*v.parts)[0].text, "a");
        EXPECT_FALSE(v.has_usage);
      });
  EXPECT_TRUE(s.ok()) << s;
}

TEST(ReadResponseTest, BlockedPromptAndErrorObject) {
  EXPECT_TRUE(Read(R"({"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},
                       "usageMetadata":{"promptTokenCount":7,"totalTokenCount":7}})",
                   [](const ResponseView& v) {
                     EXPECT_EQ(v.block_reason, "SAFETY");
                     EXPECT_EQ(v.candidates, 0);
                   })
                  .ok());
  // The walk stops at the error object: what follows it is not read.
  EXPECT_TRUE(Read(R"({"error":{"code":500},"candidates":5})",
                   [](const ResponseView& v) { EXPECT_TRUE(v.error); })
                  .ok());
}

TEST(ReadResponseTest, WrongTypesNameThePath) {
  auto error = [](const std::string& json) {
    return std::string(Read(json, [](const ResponseView&) {}).message());
  };
  EXPECT_EQ(error(R"({"candidates":[{"content":{"parts":[{"text":5}]}}]})"),
            "candidates[0].content.parts[0].text (simdjson: INCORRECT_TYPE)");
  EXPECT_EQ(error(R"({"candidates":[{"content":{"parts":[{"functionCall":{"args":{}}}]}}]})"),
            "candidates[0].content.parts[0].functionCall.name: missing "
            "(simdjson: NO_SUCH_FIELD)");
  EXPECT_EQ(error(R"({"candidates":[{"content":{"parts":[{"thought":"yes"}]}}]})"),
            "candidates[0].content.parts[0].thought (simdjson: INCORRECT_TYPE)");
  EXPECT_EQ(error(R"({"usageMetadata":{"totalTokenCount":"9"}})"),
            "usageMetadata.totalTokenCount (simdjson: INCORRECT_TYPE)");
  EXPECT_EQ(error(R"({"candidates":{}})"),
            "candidates: expected an array (simdjson: INCORRECT_TYPE)");
  EXPECT_EQ(error(R"({"responseId":"a"} {"responseId":"b"})"),
            "trailing content after the JSON object (simdjson: TRAILING_CONTENT)");
}

TEST(ReadResponseTest, NullsAreAbsent) {
  EXPECT_TRUE(Read(R"({"candidates":[{"content":{"parts":[{"text":null,"thought":null,
                       "functionCall":null,"thoughtSignature":null}]},"finishReason":null,
                       "index":null}],"usageMetadata":null,"responseId":null})",
                   [](const ResponseView& v) {
                     ASSERT_EQ(v.parts->size(), 1u);
                     EXPECT_FALSE((*v.parts)[0].function_call);
                     EXPECT_FALSE(v.has_usage);
                     EXPECT_TRUE(v.finish_reason.empty());
                   })
                  .ok());
}

TEST(FinishReasonTest, Mapping) {
  EXPECT_EQ(MapFinishReason("STOP"), v1::FINISH_REASON_STOP);
  EXPECT_EQ(MapFinishReason("MAX_TOKENS"), v1::FINISH_REASON_LENGTH);
  for (const char* r : {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
                        "IMAGE_SAFETY"}) {
    EXPECT_EQ(MapFinishReason(r), v1::FINISH_REASON_CONTENT_FILTER) << r;
  }
  for (const char* r : {"MALFORMED_FUNCTION_CALL", "OTHER", "LANGUAGE", "SOMETHING_NEW"}) {
    EXPECT_EQ(MapFinishReason(r), v1::FINISH_REASON_OTHER) << r;
  }
  EXPECT_EQ(MapFinishReason(""), v1::FINISH_REASON_UNSPECIFIED);
  EXPECT_EQ(MapFinishReason("FINISH_REASON_UNSPECIFIED"), v1::FINISH_REASON_UNSPECIFIED);
  EXPECT_FALSE(EndsCandidate("FINISH_REASON_UNSPECIFIED"));
  EXPECT_TRUE(EndsCandidate("OTHER"));
  EXPECT_EQ(AnswerFinishReason("STOP", 1), v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(AnswerFinishReason("STOP", 0), v1::FINISH_REASON_STOP);
  EXPECT_EQ(AnswerFinishReason("MAX_TOKENS", 2), v1::FINISH_REASON_LENGTH);
}

TEST(UsageTest, SumsWithoutTotalAndSaturates) {
  TokenUsage u;
  u.prompt = 5;
  u.candidates = 3;
  v1::Usage out;
  ToV1Usage(u, &out);
  EXPECT_EQ(out.total_tokens(), 8);
  u.prompt = INT64_MAX;
  ToV1Usage(u, &out);
  EXPECT_EQ(out.total_tokens(), INT64_MAX);
}

TEST(ToolCallIdTest, GeminisOwnElseResponseAndOrdinal) {
  EXPECT_EQ(ToolCallId("fc_9", "resp", 2), "fc_9");
  EXPECT_EQ(ToolCallId("", "resp", 2), "call_resp_2");
  EXPECT_EQ(ToolCallId("", "", 0), "call_0");
}

TEST(PromptBlockedTest, InvalidArgumentContentFiltered) {
  const absl::Status s = PromptBlocked("google", "PROHIBITED_CONTENT");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "provider \"google\" blocked the prompt (promptFeedback.blockReason "
            "PROHIBITED_CONTENT)");
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "CONTENT_FILTERED");
  EXPECT_EQ(info->metadata().at("provider"), "google");
  EXPECT_EQ(info->metadata().at("blockReason"), "PROHIBITED_CONTENT");
}

}  // namespace
}  // namespace llmgateway::gemini
