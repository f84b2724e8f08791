// Tests ParseErrorBody on the error shapes OpenAI-compatible servers send,
// and on bodies that are not JSON at all.
#include "server/providers/openai/error_body.h"

#include <string>

#include "gtest/gtest.h"

namespace llmgateway::openai {
namespace {

void ExpectBody(const ErrorBody& got, const std::string& message,
                const std::string& type, const std::string& code,
                const std::string& param) {
  EXPECT_EQ(got.message, message);
  EXPECT_EQ(got.type, type);
  EXPECT_EQ(got.code, code);
  EXPECT_EQ(got.param, param);
}

TEST(ParseErrorBodyTest, OpenAIError) {
  ExpectBody(ParseErrorBody(R"({
    "error": {
      "message": "Incorrect API key provided: sk-abc***.",
      "type": "invalid_request_error",
      "param": null,
      "code": "invalid_api_key"
    }
  })"),
             "Incorrect API key provided: sk-abc***.", "invalid_request_error",
             "invalid_api_key", "");
}

TEST(ParseErrorBodyTest, ContextLengthWithParam) {
  ExpectBody(
      ParseErrorBody(
          R"({"error":{"code":"context_length_exceeded","param":"messages",)"
          R"("type":"invalid_request_error","message":"too long"}})"),
      "too long", "invalid_request_error", "context_length_exceeded",
      "messages");
}

TEST(ParseErrorBodyTest, NumericCode) {
  // vLLM and others send the HTTP status as a number.
  ExpectBody(
      ParseErrorBody(R"({"object":"error","error":{"message":"m","type":)"
                     R"("BadRequestError","param":null,"code":400 }})"),
      "m", "BadRequestError", "400", "");
  EXPECT_EQ(ParseErrorBody(R"({"error":{"code":-1.5e3}})").code, "-1.5e3");
}

TEST(ParseErrorBodyTest, NullCodeAndMissingFields) {
  ExpectBody(ParseErrorBody(R"({"error":{"message":"x","code":null}})"), "x",
             "", "", "");
}

TEST(ParseErrorBodyTest, ErrorAsAString) {
  // Ollama.
  ExpectBody(ParseErrorBody(R"({"error":"model \"llama9\" not found"})"),
             "model \"llama9\" not found", "", "", "");
}

TEST(ParseErrorBodyTest, TopLevelMessageOrDetail) {
  // vLLM's older format and llama.cpp put the fields at the top level.
  ExpectBody(ParseErrorBody(R"({"object":"error","message":"bad model",)"
                            R"("type":"NotFoundError","code":404})"),
             "bad model", "", "", "");
  // FastAPI.
  EXPECT_EQ(ParseErrorBody(R"({"detail":"Not Found"})").message, "Not Found");
  // A non-string detail (FastAPI validation errors) gives nothing.
  EXPECT_EQ(
      ParseErrorBody(R"({"detail":[{"loc":["body"],"msg":"x"}]})").message, "");
}

TEST(ParseErrorBodyTest, ErrorObjectWinsWhateverTheOrder) {
  EXPECT_EQ(ParseErrorBody(R"({"message":"top","detail":"d",)"
                           R"("error":{"message":"inner"}})")
                .message,
            "inner");
  EXPECT_EQ(ParseErrorBody(R"({"error":{"message":"inner"},"message":"top"})")
                .message,
            "inner");
  EXPECT_EQ(ParseErrorBody(R"({"detail":"d","message":"top"})").message, "top");
  EXPECT_EQ(ParseErrorBody(R"({"error":{"message":""},"detail":"d"})").message,
            "d");
}

TEST(ParseErrorBodyTest, GeminiWrapsItInAnArray) {
  ExpectBody(ParseErrorBody(R"([{"error":{"code":429,"message":"Resource )"
                            R"(exhausted","status":"RESOURCE_EXHAUSTED"}}])"),
             "Resource exhausted", "", "429", "");
  ExpectBody(ParseErrorBody("[]"), "", "", "", "");
  ExpectBody(ParseErrorBody("[1]"), "", "", "", "");
}

TEST(ParseErrorBodyTest, EscapesAreDecoded) {
  EXPECT_EQ(ParseErrorBody(R"({"error":{"message":"a\nb \u00e9"}})").message,
            "a\nb \xc3\xa9");
}

TEST(ParseErrorBodyTest, NotJsonGivesEmptyFields) {
  for (const char* body :
       {"", " ", "Bad Gateway", "<html><body>502</body></html>", "null", "42",
        "\"error\"", "{", "}", "[", "{\"error\":", "\xff\xfe", "{\"a\":1}"}) {
    ExpectBody(ParseErrorBody(body), "", "", "", "");
  }
}

TEST(ParseErrorBodyTest, FieldsBeforeABrokenValueAreKept) {
  ErrorBody b = ParseErrorBody(
      R"({"error":{"message":"rate limited","type":"requests","code":tru,)"
      R"("param":"p"}})");
  EXPECT_EQ(b.message, "rate limited");
  EXPECT_EQ(b.type, "requests");
  EXPECT_EQ(b.code, "");
  EXPECT_EQ(b.param, "");
}

TEST(ParseErrorBodyTest, TruncatedBodyGivesEmptyFields) {
  // simdjson checks that the root object is closed before the first field
  // is read, so a body cut anywhere gives nothing.
  for (const char* body :
       {R"({"error":{"message":"rate limited","type":"requests","code":)",
        R"({"error":{"message":"rate limited","code":"rate_)"}) {
    ExpectBody(ParseErrorBody(body), "", "", "", "");
  }
}

TEST(ParseErrorBodyTest, WrongTypesAreSkipped) {
  ExpectBody(ParseErrorBody(R"({"error":{"message":{"text":"x"},"type":["a"],)"
                            R"("code":true,"param":"p"}})"),
             "", "", "true", "p");
}

TEST(ParseErrorBodyTest, EmbeddedNulBytes) {
  EXPECT_EQ(ParseErrorBody(R"({"error":{"message":"a\u0000b"}})").message,
            std::string("a\0b", 3));
  // The view's length counts, not a terminating NUL.
  const std::string body("{\"error\":\"x\"}\0", 14);
  EXPECT_EQ(ParseErrorBody(absl::string_view(body.data(), 13)).message, "x");
}

}  // namespace
}  // namespace llmgateway::openai
