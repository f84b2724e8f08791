// Tests GeminiAdapter: the HTTP request it asks for (URL with the model as a
// path segment, alt=sse, x-goog-api-key, body options from the provider's
// config), and the error table applied to Google's error bodies.
#include "server/providers/gemini/gemini_adapter.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"
#include "server/config/config.pb.h"
#include "server/providers/adapter.h"
#include "server/providers/common/adapter_test_util.h"

namespace llmgateway::gemini {
namespace {

using ::llmgateway::providers::test_util::ParseRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKey[] = "AIzaSyD-SECRET-0123456789";
constexpr char kBase[] = "https://generativelanguage.googleapis.com/v1beta";

config::Provider Config(const std::string& textproto = "") {
  config::Provider c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      absl::StrCat(R"pb(name: "google" kind: "gemini"
                        base_url: "https://generativelanguage.googleapis.com/v1beta")pb",
                   textproto),
      &c));
  return c;
}

AttemptOptions Attempt(bool stream = false, absl::string_view model = "gemini-2.5-flash") {
  AttemptOptions o;
  o.upstream_model = model;
  o.stream = stream;
  return o;
}

TEST(GeminiAdapterTest, Identity) {
  GeminiAdapter a(Config(), kKey);
  EXPECT_EQ(a.name(), "google");
  EXPECT_EQ(a.kind(), "gemini");
  EXPECT_EQ(a.secrets(), std::vector<absl::string_view>{kKey});
}

TEST(GeminiAdapterTest, UnaryRequest) {
  GeminiAdapter a(Config(), kKey);
  AttemptOptions o = Attempt();
  o.request_id = "req-1";
  absl::StatusOr<AdapterRequest> r = a.BuildRequest(ParseRequest(R"pb(prompt: "Hi")pb"), o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->url, absl::StrCat(kBase, "/models/gemini-2.5-flash:generateContent"));
  EXPECT_THAT(r->headers, ElementsAre("Content-Type: application/json", "Accept: application/json",
                                      absl::StrCat("x-goog-api-key: ", kKey),
                                      "X-Request-Id: req-1"));
  EXPECT_EQ(r->body, R"({"contents":[{"role":"user","parts":[{"text":"Hi"}]}]})");
}

TEST(GeminiAdapterTest, StreamedRequestWithoutKey) {
  GeminiAdapter a(Config(), "");
  absl::StatusOr<AdapterRequest> r =
      a.BuildRequest(ParseRequest(R"pb(prompt: "Hi")pb"), Attempt(/*stream=*/true));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->url, absl::StrCat(kBase, "/models/gemini-2.5-flash:streamGenerateContent?alt=sse"));
  EXPECT_THAT(r->headers,
              ElementsAre("Content-Type: application/json", "Accept: text/event-stream"));
  EXPECT_THAT(r->body, Not(HasSubstr("stream")));
  EXPECT_TRUE(a.secrets().empty());
}

TEST(GeminiAdapterTest, ModelIsOnePathSegment) {
  EXPECT_EQ(ModelMethodPath("gemini-2.5-flash", "generateContent"),
            "models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(ModelMethodPath("models/gemini-2.5-pro", "generateContent"),
            "models/gemini-2.5-pro:generateContent");
  // fakellm's directives ride in the model name; nothing in it can reach
  // the query or another path segment.
  EXPECT_EQ(ModelMethodPath("fake-model?status=429&retry_after=2", "streamGenerateContent"),
            "models/fake-model%3Fstatus%3D429%26retry_after%3D2:streamGenerateContent");
  EXPECT_EQ(ModelMethodPath("a/b c:d~e_f.g", "m"), "models/a%2Fb%20c%3Ad~e_f.g:m");
  EXPECT_EQ(ModelMethodPath("é", "m"), "models/%C3%A9:m");
}

TEST(GeminiAdapterTest, ConfigShapesTheBody) {
  GeminiAdapter a(Config(R"pb(capabilities {
                               unsupported_fields: "config.top_k"
                               media_types: "image/png"
                             })pb"),
                  kKey);
  absl::Status s =
      a.BuildRequest(ParseRequest(R"pb(prompt: "p" config { top_k: 3 })pb"), Attempt()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "UNSUPPORTED_FIELD");
  EXPECT_EQ(info->metadata().at("provider"), "google");

  s = a.BuildRequest(ParseRequest(R"pb(messages {
                                         role: ROLE_USER
                                         parts { media { mime_type: "image/gif" data: "G" } }
                                       })pb"),
                     Attempt())
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  // Every build error names the provider, as the engine reports it.
  info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->metadata().at("provider"), "google");
  EXPECT_EQ(info->metadata().at("field"), "messages[0].parts[0].media.mime_type");
}

TEST(GeminiAdapterTest, ParsesAndDecodes) {
  GeminiAdapter a(Config(), kKey);
  std::string body =
      R"({"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}],"responseId":"r"})";
  v1::GenerateResponse out;
  ASSERT_TRUE(a.ParseResponse(body, &out).ok());
  EXPECT_EQ(out.text(), "ok");
  EXPECT_EQ(a.ParseResponse("nope", &out).code(), absl::StatusCode::kUnavailable);
  const absl::Status blocked =
      a.ParseResponse(R"({"promptFeedback":{"blockReason":"SAFETY"}})", &out);
  EXPECT_EQ(blocked.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetErrorInfo(blocked)->metadata().at("provider"), "google");

  std::unique_ptr<StreamDecoder> d = a.NewStreamDecoder();
  v1::GenerateStreamResponse delta;
  absl::StatusOr<StreamDecoder::Result> r =
      d->Decode("", R"({"candidates":[{"content":{"parts":[{"text":"hi"}]}}]})", &delta);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, StreamDecoder::Result::kDelta);
  EXPECT_EQ(delta.provider(), "google");
  EXPECT_FALSE(d->done());
}

struct HttpCase {
  long status;
  const char* body;
  absl::StatusCode code;
  const char* reason;
};

absl::Status MapError(long status, absl::string_view body,
                      std::optional<absl::Duration> retry_after = std::nullopt) {
  GeminiAdapter a(Config(), kKey);
  HttpErrorResponse response;
  response.status = status;
  response.body = body;
  response.retry_after = retry_after;
  return a.MapHttpError(response);
}

std::string GoogleError(int code, const std::string& status, const std::string& message,
                        const std::string& details = "") {
  return absl::StrCat(R"({"error":{"code":)", code, R"(,"message":")", message,
                      R"(","status":")", status, R"(")",
                      details.empty() ? "" : absl::StrCat(R"(,"details":[)", details, "]"),
                      "}}");
}

TEST(GeminiAdapterTest, HttpErrorTable) {
  for (const HttpCase& c : {
           HttpCase{400, "",
                    absl::StatusCode::kInvalidArgument, "UPSTREAM_INVALID_REQUEST"},
           HttpCase{401, "", absl::StatusCode::kInternal, "UPSTREAM_AUTH_FAILED"},
           HttpCase{403, "", absl::StatusCode::kInternal, "UPSTREAM_AUTH_FAILED"},
           HttpCase{404, "", absl::StatusCode::kNotFound, "MODEL_NOT_FOUND"},
           HttpCase{429, "", absl::StatusCode::kResourceExhausted, "RATE_LIMITED"},
           HttpCase{500, "", absl::StatusCode::kUnavailable, "UPSTREAM_UNAVAILABLE"},
           HttpCase{503, "", absl::StatusCode::kUnavailable, "UPSTREAM_UNAVAILABLE"},
           HttpCase{504, "", absl::StatusCode::kUnavailable, "UPSTREAM_UNAVAILABLE"},
       }) {
    static const auto* const kStatuses = new std::map<long, std::string>{
        {400, "INVALID_ARGUMENT"}, {401, "UNAUTHENTICATED"}, {403, "PERMISSION_DENIED"},
        {404, "NOT_FOUND"}, {429, "RESOURCE_EXHAUSTED"}, {500, "INTERNAL"},
        {503, "UNAVAILABLE"}, {504, "DEADLINE_EXCEEDED"}};
    const absl::Status s = MapError(c.status, GoogleError(c.status, kStatuses->at(c.status), "m"));
    EXPECT_EQ(s.code(), c.code) << c.status << " " << s;
    auto info = GetErrorInfo(s);
    ASSERT_TRUE(info.has_value()) << s;
    EXPECT_EQ(info->reason(), c.reason) << c.status;
    EXPECT_EQ(info->metadata().at("provider"), "google");
    EXPECT_EQ(info->metadata().at("upstreamStatus"), absl::StrCat(c.status));
  }
}

TEST(GeminiAdapterTest, BadKeyIs400ButAuthFailed) {
  const absl::Status s = MapError(
      400, GoogleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                       R"({"@type":"type.googleapis.com/google.rpc.ErrorInfo",)"
                       R"("reason":"API_KEY_INVALID","domain":"googleapis.com"})"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_EQ(GetErrorInfo(s)->reason(), "UPSTREAM_AUTH_FAILED");
  EXPECT_EQ(GetErrorInfo(s)->metadata().at("upstreamStatus"), "400");
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("API key not valid")));
}

TEST(GeminiAdapterTest, ContextLengthFromTheMessage) {
  const absl::Status s = MapError(
      400, GoogleError(400, "INVALID_ARGUMENT",
                       "The input token count (1200000) exceeds the maximum number of tokens "
                       "allowed (1048576)."));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetErrorInfo(s)->reason(), "CONTEXT_LENGTH_EXCEEDED");
}

TEST(GeminiAdapterTest, RetryInfoFromTheHeaderElseTheBody) {
  const std::string body =
      GoogleError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
                  R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"30s"})");
  absl::Status s = MapError(429, body);
  EXPECT_EQ(GetErrorInfo(s)->reason(), "RATE_LIMITED");
  ASSERT_TRUE(GetRetryInfo(s).has_value());
  EXPECT_EQ(GetRetryInfo(s)->retry_delay().seconds(), 30);
  s = MapError(429, body, absl::Seconds(7));
  EXPECT_EQ(GetRetryInfo(s)->retry_delay().seconds(), 7);
  // 503 with a RetryInfo detail: UNAVAILABLE with RetryInfo.
  s = MapError(503, GoogleError(503, "UNAVAILABLE", "The model is overloaded.",
                                R"({"@type":"type.googleapis.com/google.rpc.RetryInfo",)"
                                R"("retryDelay":"2.5s"})"));
  ASSERT_TRUE(GetRetryInfo(s).has_value());
  EXPECT_EQ(GetRetryInfo(s)->retry_delay().seconds(), 2);
  EXPECT_EQ(GetRetryInfo(s)->retry_delay().nanos(), 500000000);
  EXPECT_FALSE(GetRetryInfo(MapError(429, "{}")).has_value());
}

TEST(GeminiAdapterTest, ErrorMessagesCarryTheUpstreamsWords) {
  EXPECT_EQ(std::string(MapError(503, GoogleError(503, "UNAVAILABLE",
                                                  "The model is overloaded. Please try again "
                                                  "later."))
                            .message()),
            "provider \"google\" failed (HTTP 503): The model is overloaded. Please try again "
            "later.");
}

TEST(GeminiAdapterTest, TheKeyNeverAppearsInErrors) {
  for (long status : {400L, 401L, 403L, 404L, 429L, 500L}) {
    absl::Status s = MapError(
        status, GoogleError(status, "X", absl::StrCat("key ", kKey, " is bad")));
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(kKey))) << status;
  }
}

}  // namespace
}  // namespace llmgateway::gemini
