// Tests AnthropicAdapter: the HTTP request it asks for (URL, headers, body
// options from the provider's config), and the error table applied to the
// Messages API's error bodies.
#include "server/providers/anthropic/anthropic_adapter.h"

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

namespace llmgateway::anthropic {
namespace {

using ::llmgateway::providers::test_util::ParseRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKey[] = "sk-ant-api03-SECRET";

config::Provider Config(const std::string& textproto = "") {
  config::Provider c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      absl::StrCat(R"pb(name: "claude" kind: "anthropic"
                        base_url: "https://api.anthropic.com/v1")pb",
                   textproto),
      &c));
  return c;
}

AttemptOptions Attempt(bool stream = false) {
  AttemptOptions o;
  o.upstream_model = "claude-sonnet-4-5";
  o.stream = stream;
  return o;
}

TEST(AnthropicAdapterTest, Identity) {
  AnthropicAdapter a(Config(), kKey);
  EXPECT_EQ(a.name(), "claude");
  EXPECT_EQ(a.kind(), "anthropic");
  EXPECT_EQ(a.secrets(), std::vector<absl::string_view>{kKey});
}

TEST(AnthropicAdapterTest, UnaryRequest) {
  AnthropicAdapter a(Config(), kKey);
  AttemptOptions o = Attempt();
  o.request_id = "req-1";
  absl::StatusOr<AdapterRequest> r =
      a.BuildRequest(ParseRequest(R"pb(prompt: "Hi")pb"), o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->url, "https://api.anthropic.com/v1/messages");
  EXPECT_THAT(r->headers,
              ElementsAre("Content-Type: application/json",
                          "Accept: application/json",
                          "anthropic-version: 2023-06-01",
                          "x-api-key: sk-ant-api03-SECRET", "X-Request-Id: req-1"));
  EXPECT_EQ(r->body,
            R"({"model":"claude-sonnet-4-5","max_tokens":4096,"messages":[)"
            R"({"role":"user","content":"Hi"}]})");
}

TEST(AnthropicAdapterTest, StreamedRequestWithoutKey) {
  AnthropicAdapter a(Config(), "");
  absl::StatusOr<AdapterRequest> r =
      a.BuildRequest(ParseRequest(R"pb(prompt: "Hi")pb"),
                     Attempt(/*stream=*/true));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->headers,
              ElementsAre("Content-Type: application/json",
                          "Accept: text/event-stream",
                          "anthropic-version: 2023-06-01"));
  EXPECT_THAT(r->body, HasSubstr(R"("stream":true)"));
  EXPECT_TRUE(a.secrets().empty());
}

TEST(AnthropicAdapterTest, ConfigShapesTheBody) {
  AnthropicAdapter a(Config(R"pb(default_max_tokens: 1000
                                 capabilities {
                                   unsupported_fields: "config.top_k"
                                   media_types: "image/png"
                                 })pb"),
                     kKey);
  absl::StatusOr<AdapterRequest> r =
      a.BuildRequest(ParseRequest(R"pb(prompt: "p")pb"), Attempt());
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->body, HasSubstr(R"("max_tokens":1000)"));

  absl::Status s =
      a.BuildRequest(ParseRequest(R"pb(prompt: "p" config { top_k: 3 })pb"),
                     Attempt())
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "UNSUPPORTED_FIELD");
  EXPECT_EQ(info->metadata().at("provider"), "claude");

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
  EXPECT_EQ(info->metadata().at("provider"), "claude");
  EXPECT_EQ(info->metadata().at("field"), "messages[0].parts[0].media.mime_type");
}

TEST(AnthropicAdapterTest, DropUnsupportedFromConfig) {
  AnthropicAdapter a(Config(R"pb(capabilities { drop_unsupported: true })pb"), kKey);
  absl::StatusOr<AdapterRequest> r =
      a.BuildRequest(
          ParseRequest(R"pb(prompt: "p" config { seed: 1 top_k: 2 })pb"),
          Attempt());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->body, HasSubstr(R"("top_k":2)"));
  EXPECT_THAT(r->body, Not(HasSubstr("seed")));
}

TEST(AnthropicAdapterTest, ParsesAndDecodes) {
  AnthropicAdapter a(Config(), kKey);
  std::string body = R"({"id":"msg_1","model":"m","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn"})";
  v1::GenerateResponse out;
  ASSERT_TRUE(a.ParseResponse(body, &out).ok());
  EXPECT_EQ(out.text(), "ok");
  EXPECT_EQ(a.ParseResponse("nope", &out).code(), absl::StatusCode::kUnavailable);

  std::unique_ptr<StreamDecoder> d = a.NewStreamDecoder();
  v1::GenerateStreamResponse delta;
  absl::StatusOr<StreamDecoder::Result> r = d->Decode(
      "content_block_delta",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}})",
      &delta);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, StreamDecoder::Result::kDelta);
  EXPECT_EQ(delta.provider(), "claude");
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
  AnthropicAdapter a(Config(), kKey);
  HttpErrorResponse response;
  response.status = status;
  response.body = body;
  response.retry_after = retry_after;
  return a.MapHttpError(response);
}

TEST(AnthropicAdapterTest, HttpErrorTable) {
  for (const HttpCase& c : {
           HttpCase{400,
                    R"({"type":"error","error":{"type":"invalid_request_error",)"
                    R"("message":"max_tokens: Field required"}})",
                    absl::StatusCode::kInvalidArgument, "UPSTREAM_INVALID_REQUEST"},
           HttpCase{400,
                    R"({"type":"error","error":{"type":"invalid_request_error",)"
                    R"("message":"prompt is too long: 208310 tokens > 200000 maximum"}})",
                    absl::StatusCode::kInvalidArgument, "CONTEXT_LENGTH_EXCEEDED"},
           HttpCase{400,
                    R"({"type":"error","error":{"type":"invalid_request_error",)"
                    R"("message":"input length and `max_tokens` exceed context )"
                    R"(limit: 197000 + 8192 > 200000"}})",
                    absl::StatusCode::kInvalidArgument, "CONTEXT_LENGTH_EXCEEDED"},
           HttpCase{401,
                    R"({"type":"error","error":{"type":"authentication_error",)"
                    R"("message":"invalid x-api-key"}})",
                    absl::StatusCode::kInternal, "UPSTREAM_AUTH_FAILED"},
           HttpCase{403,
                    R"({"type":"error","error":{"type":"permission_error",)"
                    R"("message":"no access"}})",
                    absl::StatusCode::kInternal, "UPSTREAM_AUTH_FAILED"},
           HttpCase{404,
                    R"({"type":"error","error":{"type":"not_found_error",)"
                    R"("message":"model: claude-9"}})",
                    absl::StatusCode::kNotFound, "MODEL_NOT_FOUND"},
           HttpCase{413,
                    R"({"type":"error","error":{"type":"request_too_large",)"
                    R"("message":"Request exceeds the maximum allowed size"}})",
                    absl::StatusCode::kInvalidArgument, "UPSTREAM_INVALID_REQUEST"},
           HttpCase{500,
                    R"({"type":"error","error":{"type":"api_error",)"
                    R"("message":"Internal server error"}})",
                    absl::StatusCode::kUnavailable, "UPSTREAM_UNAVAILABLE"},
           HttpCase{529,
                    R"({"type":"error","error":{"type":"overloaded_error",)"
                    R"("message":"Overloaded"}})",
                    absl::StatusCode::kUnavailable, "UPSTREAM_UNAVAILABLE"},
           HttpCase{502, "<html>Bad Gateway</html>", absl::StatusCode::kUnavailable,
                    "UPSTREAM_UNAVAILABLE"},
       }) {
    absl::Status s = MapError(c.status, c.body);
    EXPECT_EQ(s.code(), c.code) << c.status << " " << s;
    auto info = GetErrorInfo(s);
    ASSERT_TRUE(info.has_value()) << s;
    EXPECT_EQ(info->reason(), c.reason) << c.body;
    EXPECT_EQ(info->metadata().at("provider"), "claude");
    EXPECT_EQ(info->metadata().at("upstreamStatus"), absl::StrCat(c.status));
  }
}

TEST(AnthropicAdapterTest, ErrorMessagesCarryTheUpstreamsWords) {
  EXPECT_EQ(std::string(MapError(529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})")
                            .message()),
            "provider \"claude\" failed (HTTP 529): Overloaded");
}

TEST(AnthropicAdapterTest, ALongUpstreamMessageIsBounded) {
  // Status messages travel in a trailer: a few KiB of upstream text would
  // break the caller's connection.
  const std::string words(20000, 'w');
  const absl::Status status = MapError(
      400, absl::StrCat(R"({"type":"error","error":{"type":"invalid_request_error","message":")",
                        words, R"("}})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(status.message().size(), 1200u);
  EXPECT_TRUE(absl::EndsWith(status.message(), "www...")) << status.message().substr(0, 80);
}

TEST(AnthropicAdapterTest, RateLimitCarriesRetryInfo) {
  absl::Status s = MapError(
      429,
      R"({"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}})",
      absl::Seconds(17));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(GetErrorInfo(s)->reason(), "RATE_LIMITED");
  auto retry = GetRetryInfo(s);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->retry_delay().seconds(), 17);
  EXPECT_FALSE(GetRetryInfo(MapError(429, "{}")).has_value());
}

TEST(AnthropicAdapterTest, TheKeyNeverAppearsInErrors) {
  for (long status : {400L, 401L, 403L, 404L, 429L, 500L}) {
    absl::Status s = MapError(
        status, absl::StrCat(R"({"type":"error","error":{"type":"x","message":"key )",
                             kKey, R"( is bad"}})"));
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(kKey))) << status;
  }
}

}  // namespace
}  // namespace llmgateway::anthropic
