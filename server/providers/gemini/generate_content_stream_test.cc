// Tests GenerateContentStreamDecoder on Gemini's chunk streams: text,
// thoughts and signatures, function calls, the end at the finishReason
// chunk (and usage after it), the envelope, blocked prompts, error chunks
// and data that is no chunk.
#include "server/providers/gemini/generate_content_stream.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"
#include "server/providers/common/adapter_test_util.h"

namespace llmgateway::gemini {
namespace {

using Result = GenerateContentStreamDecoder::Result;
using ::llmgateway::providers::test_util::DecodeExact;
using ::llmgateway::providers::test_util::ExpectProto;

// One chunk of the first candidate with `parts` (JSON), and `extra` root
// members.
std::string Chunk(const std::string& parts, const std::string& extra = "") {
  return R"({"candidates":[{"content":{"parts":[)" + parts +
         R"(],"role":"model"},"index":0}])" + extra +
         R"(,"modelVersion":"gemini-2.5-flash","responseId":"r9"})";
}

constexpr char kUsage[] =
    R"(,"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":3,"thoughtsTokenCount":2,"totalTokenCount":12})";

TEST(GenerateContentStreamTest, TextStreamEndsAtTheFinishReason) {
  GenerateContentStreamDecoder d("google");
  v1::GenerateStreamResponse m;
  absl::StatusOr<Result> r = DecodeExact(d, "", Chunk(R"({"text":"Hel"})"), &m);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, Result::kDelta);
  ExpectProto(m, R"pb(id: "r9" model: "gemini-2.5-flash" provider: "google" text: "Hel")pb");
  EXPECT_FALSE(d.done());

  m.Clear();
  // The last chunk: more text, the finishReason and the usage at once.
  r = DecodeExact(d, "",
                  R"({"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},)"
                  R"("finishReason":"STOP","index":0}])" +
                      std::string(kUsage) + R"(,"responseId":"r9"})",
                  &m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Result::kDelta) << "content and the end in one chunk";
  ExpectProto(m, R"pb(text: "lo")pb");
  EXPECT_TRUE(d.done());

  v1::GenerateStreamResponse last;
  d.Finish(&last);
  ExpectProto(last, R"pb(id: "r9"
                         model: "gemini-2.5-flash"
                         provider: "google"
                         finish_reason: FINISH_REASON_STOP
                         usage {
                           prompt_tokens: 7
                           completion_tokens: 5
                           total_tokens: 12
                           reasoning_tokens: 2
                         })pb");
}

TEST(GenerateContentStreamTest, EmptyFinalChunkIsDoneAndLaterUsageCounts) {
  GenerateContentStreamDecoder d("google");
  v1::GenerateStreamResponse m;
  ASSERT_TRUE(DecodeExact(d, "", Chunk(R"({"text":"a"})"), &m).ok());
  m.Clear();
  absl::StatusOr<Result> r = DecodeExact(
      d, "", R"({"candidates":[{"content":{"parts":[{"text":""}]},"finishReason":"MAX_TOKENS"}]})",
      &m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Result::kDone);
  EXPECT_EQ(m.ByteSizeLong(), 0u);
  // After the end: nothing to send, whatever comes; usage still counts, and
  // a broken chunk is ignored.
  r = DecodeExact(d, "", std::string(R"({"candidates":[{"content":{"parts":[{"text":"late"}]}}])") +
                             kUsage + "}",
                  &m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Result::kNothing);
  EXPECT_TRUE(DecodeExact(d, "", "{broken", &m).ok());
  EXPECT_EQ(m.ByteSizeLong(), 0u);
  v1::GenerateStreamResponse last;
  d.Finish(&last);
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(last.usage().total_tokens(), 12);
}

TEST(GenerateContentStreamTest, ThoughtsSignaturesAndCalls) {
  GenerateContentStreamDecoder d("google");
  v1::GenerateStreamResponse m;
  ASSERT_TRUE(DecodeExact(d, "", Chunk(R"({"text":"Planning...","thought":true})"), &m).ok());
  ExpectProto(m, R"pb(id: "r9"
                      model: "gemini-2.5-flash"
                      provider: "google"
                      reasoning { text: "Planning..." })pb");
  m.Clear();
  ASSERT_TRUE(DecodeExact(d, "",
                          Chunk(R"({"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"Sig1"},)"
                                R"({"functionCall":{"name":"get_time","args":{}}})"),
                          &m)
                  .ok());
  ExpectProto(m, R"pb(reasoning { signature: "Sig1" }
                      tool_calls {
                        index: 0
                        id: "call_r9_0"
                        name: "get_weather"
                        arguments: "{\"city\":\"Paris\"}"
                      }
                      tool_calls { index: 1 id: "call_r9_1" name: "get_time" arguments: "{}" })pb");
  m.Clear();
  absl::StatusOr<Result> r = DecodeExact(
      d, "",
      R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"third"}}]},"finishReason":"STOP"}]})",
      &m);
  ASSERT_TRUE(r.ok());
  ExpectProto(m, R"pb(tool_calls { index: 2 id: "call_r9_2" name: "third" arguments: "{}" })pb");
  v1::GenerateStreamResponse last;
  d.Finish(&last);
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
}

TEST(GenerateContentStreamTest, OneSignaturePerMessage) {
  GenerateContentStreamDecoder d("google");
  v1::GenerateStreamResponse m;
  ASSERT_TRUE(DecodeExact(d, "",
                          Chunk(R"({"text":"a","thoughtSignature":"S1"},{"text":"b","thoughtSignature":"S2"})"),
                          &m)
                  .ok());
  EXPECT_EQ(m.reasoning().signature(), "S1");
  EXPECT_EQ(m.text(), "ab");
}

TEST(GenerateContentStreamTest, KeepAlivesAndChunksWithNothing) {
  GenerateContentStreamDecoder d("google");
  v1::GenerateStreamResponse m;
  for (const char* data : {"", "  \n", R"({"usageMetadata":{"promptTokenCount":3}})",
                           R"({"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"iVBO"}}]}}]})"}) {
    absl::StatusOr<Result> r = DecodeExact(d, "", data, &m);
    ASSERT_TRUE(r.ok()) << data;
    EXPECT_EQ(*r, Result::kNothing) << data;
    EXPECT_EQ(m.ByteSizeLong(), 0u);
  }
  EXPECT_FALSE(d.done());
  // The envelope still goes on the first delta.
  ASSERT_TRUE(DecodeExact(d, "", Chunk(R"({"text":"x"})"), &m).ok());
  EXPECT_EQ(m.provider(), "google");
}

TEST(GenerateContentStreamTest, BlockedPrompt) {
  GenerateContentStreamDecoder d("google");
  v1::GenerateStreamResponse m;
  absl::StatusOr<Result> r =
      DecodeExact(d, "", R"({"promptFeedback":{"blockReason":"OTHER"},"responseId":"x"})", &m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetErrorInfo(r.status())->reason(), "CONTENT_FILTERED");
  EXPECT_EQ(m.ByteSizeLong(), 0u);
}

TEST(GenerateContentStreamTest, ErrorChunks) {
  struct Case {
    const char* data;
    absl::StatusCode code;
    const char* message;
  };
  for (const Case& c : {
           Case{R"({"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}})",
                absl::StatusCode::kUnavailable, "The model is overloaded."},
           Case{R"({"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}})",
                absl::StatusCode::kResourceExhausted, "slow down"},
           Case{R"({"error":{"code":400,"message":"API key not valid","status":"INVALID_ARGUMENT",)"
                R"("details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}})",
                absl::StatusCode::kInternal, "the gateway's credentials were rejected"},
           Case{R"({"error":{"code":404}})", absl::StatusCode::kNotFound, "no details"},
           Case{R"({"error":"text"})", absl::StatusCode::kUnavailable, "text"},
       }) {
    GenerateContentStreamDecoder d("google");
    v1::GenerateStreamResponse m;
    absl::StatusOr<Result> r = DecodeExact(d, "", c.data, &m);
    ASSERT_FALSE(r.ok()) << c.data;
    EXPECT_EQ(r.status().code(), c.code) << c.data;
    EXPECT_EQ(r.status().message(),
              std::string("provider \"google\" reported an error mid-stream: ") + c.message);
    auto info = GetErrorInfo(r.status());
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->reason(), "UPSTREAM_STREAM_ERROR");
    EXPECT_EQ(m.ByteSizeLong(), 0u);
  }
}

TEST(GenerateContentStreamTest, MalformedChunkNeverQuotesIt) {
  for (const char* data : {"{\"candidates\": [", "[1,2]", "data", R"({"candidates":[{"content":{"parts":[{"text":"secret", "thought": 3}]}}]})"}) {
    GenerateContentStreamDecoder d("google");
    v1::GenerateStreamResponse m;
    absl::StatusOr<Result> r = DecodeExact(d, "", data, &m);
    ASSERT_FALSE(r.ok()) << data;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(GetErrorInfo(r.status())->reason(), "UPSTREAM_BAD_RESPONSE");
    EXPECT_TRUE(absl::StrContains(r.status().message(), "malformed Gemini stream chunk: "))
        << r.status();
    EXPECT_FALSE(absl::StrContains(r.status().message(), "secret"));
    EXPECT_EQ(m.ByteSizeLong(), 0u);
  }
}

TEST(GenerateContentStreamTest, FinishWithoutAnything) {
  GenerateContentStreamDecoder d("google");
  v1::GenerateStreamResponse last;
  d.Finish(&last);
  ExpectProto(last, R"pb(provider: "google" usage {})pb");
  EXPECT_FALSE(d.done()) << "EOF without a finishReason is a broken stream";
}

}  // namespace
}  // namespace llmgateway::gemini
