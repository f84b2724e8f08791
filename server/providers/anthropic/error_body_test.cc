// Tests ParseErrorBody on the error shapes the Messages API sends, what
// proxies in front of it send, and bodies that are not JSON at all.
#include "server/providers/anthropic/error_body.h"

#include <string>

#include "gtest/gtest.h"

namespace llmgateway::anthropic {
namespace {

void ExpectBody(const ErrorBody& got, const std::string& type,
                const std::string& message) {
  EXPECT_EQ(got.type, type);
  EXPECT_EQ(got.message, message);
}

TEST(ParseErrorBodyTest, AnthropicError) {
  ExpectBody(ParseErrorBody(R"({
    "type": "error",
    "error": {"type": "not_found_error", "message": "model: claude-9"},
    "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"
  })"),
             "not_found_error", "model: claude-9");
}

TEST(ParseErrorBodyTest, EveryDocumentedType) {
  for (const char* type :
       {"invalid_request_error", "authentication_error", "permission_error",
        "not_found_error", "request_too_large", "rate_limit_error", "api_error",
        "overloaded_error"}) {
    const std::string body = std::string(R"({"type":"error","error":{"type":")") +
                             type + R"(","message":"m"}})";
    ExpectBody(ParseErrorBody(body), type, "m");
  }
}

TEST(ParseErrorBodyTest, KeyOrderAndUnknownFields) {
  ExpectBody(ParseErrorBody(R"({"error":{"details":{"a":[1]},"message":"x",)"
                            R"("type":"api_error"},"type":"error"})"),
             "api_error", "x");
}

TEST(ParseErrorBodyTest, ProxyShapes) {
  ExpectBody(ParseErrorBody(R"({"error":"upstream connect error"})"), "",
             "upstream connect error");
  ExpectBody(ParseErrorBody(R"({"message":"Internal server error"})"), "",
             "Internal server error");
  // The error object's message wins over a top-level one.
  ExpectBody(ParseErrorBody(R"({"message":"top","error":{"message":"inner"}})"),
             "", "inner");
}

TEST(ParseErrorBodyTest, NonStringsAreIgnored) {
  ExpectBody(ParseErrorBody(R"({"error":{"type":529,"message":null}})"), "", "");
  ExpectBody(ParseErrorBody(R"({"error":null})"), "", "");
}

TEST(ParseErrorBodyTest, NotJsonGivesEmptyFields) {
  for (const char* body :
       {"", "<html>502 Bad Gateway</html>", "[]", "\"error\"", "{", "null",
        R"({"error":{"type":"api_error","message":)"}) {
    ExpectBody(ParseErrorBody(body), "", "");
  }
}

TEST(ParseErrorBodyTest, BrokenTailKeepsWhatWasRead) {
  ExpectBody(ParseErrorBody(R"({"error":{"type":"api_error","message":"m"},"message":tru})"),
             "api_error", "m");
}

}  // namespace
}  // namespace llmgateway::anthropic
