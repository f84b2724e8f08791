// Tests ParseErrorBody on the error shapes Google's APIs send (status,
// RetryInfo and ErrorInfo details, the array wrapping), what proxies send,
// and bodies that are not JSON at all; and the helpers that read meaning
// out of it.
#include "server/providers/gemini/error_body.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace llmgateway::gemini {
namespace {

TEST(ParseErrorBodyTest, RateLimitWithRetryInfo) {
  const ErrorBody e = ParseErrorBody(R"({
    "error": {
      "code": 429,
      "message": "You exceeded your current quota, please check your plan and billing details.",
      "status": "RESOURCE_EXHAUSTED",
      "details": [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
         "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                         "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
        {"@type": "type.googleapis.com/google.rpc.Help",
         "links": [{"description": "Learn more", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "31s"}
      ]
    }
  })");
  EXPECT_EQ(e.code, 429);
  EXPECT_EQ(e.status, "RESOURCE_EXHAUSTED");
  EXPECT_EQ(e.message,
            "You exceeded your current quota, please check your plan and billing details.");
  ASSERT_TRUE(e.retry_delay.has_value());
  EXPECT_EQ(*e.retry_delay, absl::Seconds(31));
  EXPECT_TRUE(e.reason.empty());
}

TEST(ParseErrorBodyTest, RetryDelayForms) {
  auto delay = [](const std::string& value) {
    return ParseErrorBody(
               R"({"error":{"details":[{"retryDelay":")" + value +
               R"(","@type":"type.googleapis.com/google.rpc.RetryInfo"}]}})")
        .retry_delay;
  };
  EXPECT_EQ(delay("1.5s"), absl::Milliseconds(1500));
  EXPECT_EQ(delay("0s"), absl::ZeroDuration());
  EXPECT_EQ(delay("999999999s"), absl::Hours(24));  // Clamped.
  EXPECT_FALSE(delay("30").has_value());  // Not a Duration's JSON form.
  EXPECT_FALSE(delay("-3s").has_value());
  EXPECT_FALSE(delay("s").has_value());
  EXPECT_FALSE(delay("Wed, 21 Oct 2015 07:28:00 GMTs").has_value());
}

TEST(ParseErrorBodyTest, BadKeyIsErrorInfoApiKeyInvalid) {
  const ErrorBody e = ParseErrorBody(R"({"error": {"code": 400,
    "message": "API key not valid. Please pass a valid API key.",
    "status": "INVALID_ARGUMENT",
    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                 "reason": "API_KEY_INVALID", "domain": "googleapis.com",
                 "metadata": {"service": "generativelanguage.googleapis.com"}},
                {"@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                 "locale": "en-US", "message": "API key not valid."}]}})");
  EXPECT_EQ(e.status, "INVALID_ARGUMENT");
  EXPECT_EQ(e.reason, "API_KEY_INVALID");
  EXPECT_TRUE(SaysKeyRejected(e));
  EXPECT_FALSE(e.retry_delay.has_value());
}

TEST(ParseErrorBodyTest, ArrayWrapped) {
  const ErrorBody e = ParseErrorBody(
      R"([{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}])");
  EXPECT_EQ(e.code, 503);
  EXPECT_EQ(e.status, "UNAVAILABLE");
  EXPECT_EQ(e.message, "The model is overloaded. Please try again later.");
}

TEST(ParseErrorBodyTest, ProxiesAndGarbage) {
  EXPECT_EQ(ParseErrorBody(R"({"error":"upstream connect error"})").message,
            "upstream connect error");
  EXPECT_EQ(ParseErrorBody(R"({"message":"Internal server error"})").message,
            "Internal server error");
  for (const char* body : {"", "not json", "[]", "[1]", "null", "{", R"({"error":{"code":)",
                           R"({"error":{"code":"429","status":5,"details":{}}})"}) {
    const ErrorBody e = ParseErrorBody(body);
    EXPECT_EQ(e.code, 0) << body;
    EXPECT_TRUE(e.status.empty()) << body;
  }
  // What was read before a broken value is kept.
  const ErrorBody cut = ParseErrorBody(R"({"error":{"status":"INTERNAL","message":tru}})");
  EXPECT_EQ(cut.status, "INTERNAL");
}

TEST(ErrorBodyHelpersTest, ContextLength) {
  ErrorBody e;
  e.message = "The input token count (1200000) exceeds the maximum number of tokens "
              "allowed (1048576).";
  EXPECT_TRUE(SaysContextLengthExceeded(e));
  e.message = "Invalid value at 'contents[0]'";
  EXPECT_FALSE(SaysContextLengthExceeded(e));
}

TEST(ErrorBodyHelpersTest, CodeForGoogleStatus) {
  EXPECT_EQ(CodeForGoogleStatus("INVALID_ARGUMENT"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeForGoogleStatus("FAILED_PRECONDITION"), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeForGoogleStatus("PERMISSION_DENIED"), absl::StatusCode::kInternal);
  EXPECT_EQ(CodeForGoogleStatus("UNAUTHENTICATED"), absl::StatusCode::kInternal);
  EXPECT_EQ(CodeForGoogleStatus("NOT_FOUND"), absl::StatusCode::kNotFound);
  EXPECT_EQ(CodeForGoogleStatus("RESOURCE_EXHAUSTED"), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(CodeForGoogleStatus("INTERNAL"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeForGoogleStatus("UNAVAILABLE"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeForGoogleStatus("DEADLINE_EXCEEDED"), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CodeForGoogleStatus(""), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace llmgateway::gemini
