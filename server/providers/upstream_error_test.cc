#include "server/providers/upstream_error.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/status_details.h"
#include "server/http/transport.h"

namespace llmgateway {
namespace {

UpstreamHttpFailure Failure(long status) {
  UpstreamHttpFailure failure;
  failure.provider = "openai";
  failure.http_status = status;
  failure.message = "upstream says no";
  return failure;
}

std::string Reason(const absl::Status& status) {
  auto info = GetErrorInfo(status);
  return info.has_value() ? info->reason() : "<none>";
}

struct Row {
  long http_status;
  absl::StatusCode code;
  const char* reason;
};

class HttpStatusTableTest : public ::testing::TestWithParam<Row> {};

TEST_P(HttpStatusTableTest, MapsCodeReasonAndMetadata) {
  const Row& row = GetParam();
  absl::Status status = UpstreamHttpError(Failure(row.http_status));
  EXPECT_EQ(status.code(), row.code);
  EXPECT_EQ(Reason(status), row.reason);
  auto info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->domain(), "llmgateway");
  EXPECT_EQ(info->metadata().at("provider"), "openai");
  EXPECT_EQ(info->metadata().at("upstreamStatus"), std::to_string(row.http_status));
}

INSTANTIATE_TEST_SUITE_P(
    DesignTable, HttpStatusTableTest,
    ::testing::Values(
        Row{400, absl::StatusCode::kInvalidArgument, "UPSTREAM_INVALID_REQUEST"},
        Row{401, absl::StatusCode::kInternal, "UPSTREAM_AUTH_FAILED"},
        Row{403, absl::StatusCode::kInternal, "UPSTREAM_AUTH_FAILED"},
        Row{404, absl::StatusCode::kNotFound, "MODEL_NOT_FOUND"},
        Row{408, absl::StatusCode::kDeadlineExceeded, "UPSTREAM_TIMEOUT"},
        Row{429, absl::StatusCode::kResourceExhausted, "RATE_LIMITED"},
        Row{500, absl::StatusCode::kUnavailable, "UPSTREAM_UNAVAILABLE"},
        Row{503, absl::StatusCode::kUnavailable, "UPSTREAM_UNAVAILABLE"},
        Row{418, absl::StatusCode::kUnknown, "UPSTREAM_ERROR"}));

TEST(UpstreamErrorTest, ContextLengthByCodeOrMessage) {
  UpstreamHttpFailure failure = Failure(400);
  failure.error_code = "context_length_exceeded";
  EXPECT_EQ(Reason(UpstreamHttpError(failure)), "CONTEXT_LENGTH_EXCEEDED");
  failure = Failure(400);
  failure.message = "This model's maximum context length is 8192 tokens";
  EXPECT_EQ(Reason(UpstreamHttpError(failure)), "CONTEXT_LENGTH_EXCEEDED");
}

TEST(UpstreamErrorTest, AzureContentFilterIsItsOwnReason) {
  UpstreamHttpFailure failure = Failure(400);
  failure.error_code = "content_filter";
  failure.message = "The response was filtered due to the prompt triggering content management policy.";
  absl::Status status = UpstreamHttpError(failure);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_EQ(Reason(status), "CONTENT_FILTERED");
}

TEST(UpstreamErrorTest, AuthFailureDropsUpstreamMessage) {
  UpstreamHttpFailure failure = Failure(401);
  failure.message = "Incorrect API key provided: sk-abc***xyz";
  absl::Status status = UpstreamHttpError(failure);
  EXPECT_EQ(status.message().find("sk-"), absl::string_view::npos) << status;
}

TEST(UpstreamErrorTest, KeyRejectedInTheBodyIsAuthFailedWithTheRealStatus) {
  // Google: 400 INVALID_ARGUMENT, ErrorInfo reason API_KEY_INVALID.
  UpstreamHttpFailure failure = Failure(400);
  failure.message = "API key not valid. Please pass a valid API key.";
  failure.key_rejected = true;
  absl::Status status = UpstreamHttpError(failure);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Reason(status), "UPSTREAM_AUTH_FAILED");
  EXPECT_EQ(GetErrorInfo(status)->metadata().at("upstreamStatus"), "400");
  EXPECT_EQ(status.message().find("API key not valid"), absl::string_view::npos) << status;
}

TEST(UpstreamErrorTest, RateLimitCarriesRetryInfoButSpentQuotaDoesNot) {
  UpstreamHttpFailure failure = Failure(429);
  failure.retry_after = absl::Seconds(7);
  absl::Status limited = UpstreamHttpError(failure);
  ASSERT_TRUE(GetRetryInfo(limited).has_value());
  EXPECT_EQ(GetRetryInfo(limited)->retry_delay().seconds(), 7);

  failure.error_code = "insufficient_quota";
  absl::Status spent = UpstreamHttpError(failure);
  EXPECT_EQ(spent.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Reason(spent), "QUOTA_EXHAUSTED");
  EXPECT_FALSE(GetRetryInfo(spent).has_value());
}

TEST(UpstreamErrorTest, TransportErrors) {
  EXPECT_EQ(UpstreamTransportError("p", absl::DeadlineExceededError("t")).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(Reason(UpstreamTransportError("p", absl::DeadlineExceededError("t"))),
            "UPSTREAM_TIMEOUT");
  EXPECT_EQ(UpstreamTransportError("p", absl::UnavailableError("refused")).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(Reason(UpstreamTransportError("p", absl::UnavailableError("refused"))),
            "UPSTREAM_UNREACHABLE");
  EXPECT_EQ(UpstreamTransportError("p", absl::CancelledError("c")).code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(Reason(UpstreamBadResponse("p", absl::UnavailableError("bad json"))),
            "UPSTREAM_BAD_RESPONSE");
}

// curl's specific text names the upstream's address: the log gets it (the
// payload), the caller's status never does.
TEST(UpstreamErrorTest, TransportDetailStaysOutOfTheCallersStatus) {
  const absl::Status refused = http::WithNetworkDetail(
      absl::UnavailableError("Couldn't connect to server"),
      "Failed to connect to 10.1.2.3 port 8443 after 0 ms: Couldn't connect to server");
  ASSERT_EQ(http::NetworkDetail(refused),
            "Failed to connect to 10.1.2.3 port 8443 after 0 ms: Couldn't connect to server");
  const absl::Status mapped = UpstreamTransportError("p", refused);
  EXPECT_EQ(mapped.message(), "provider \"p\" is unreachable: Couldn't connect to server");
  EXPECT_EQ(http::NetworkDetail(mapped), "");
  int payloads = 0;
  mapped.ForEachPayload([&](absl::string_view url, const absl::Cord& value) {
    ++payloads;
    EXPECT_EQ(std::string(value).find("10.1.2.3"), std::string::npos) << url;
  });
  EXPECT_EQ(payloads, 1);  // ErrorInfo only
  EXPECT_EQ(http::NetworkDetail(UpstreamStreamBroken("p", refused)), "");
}

TEST(UpstreamErrorTest, UntrustedCertificateIsTheGatewaysSetupNotAnOutage) {
  const absl::Status untrusted = UpstreamTransportError(
      "p", http::WithNetworkDetail(
               absl::FailedPreconditionError("the upstream's TLS certificate is not trusted"),
               "SSL certificate problem: self-signed certificate"));
  EXPECT_EQ(untrusted.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Reason(untrusted), "UPSTREAM_TLS_UNTRUSTED");
  EXPECT_THAT(std::string(untrusted.message()), ::testing::HasSubstr("ca_file"));
}

TEST(UpstreamErrorTest, BrokenStream) {
  absl::Status cut = UpstreamStreamBroken("p", absl::OkStatus());
  EXPECT_EQ(cut.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Reason(cut), "UPSTREAM_STREAM_BROKEN");
  EXPECT_EQ(Reason(UpstreamStreamBroken("p", absl::UnavailableError("recv failure"))),
            "UPSTREAM_STREAM_BROKEN");
  EXPECT_EQ(UpstreamStreamBroken("p", absl::CancelledError("c")).code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(Reason(UpstreamStreamBroken("p", absl::DeadlineExceededError("t"))),
            "UPSTREAM_TIMEOUT");
}

TEST(UpstreamErrorTest, ShortUpstreamMessagesStayAsTheyAre) {
  EXPECT_EQ(BoundUpstreamMessage("Overloaded"), "Overloaded");
  const std::string exact(kMaxUpstreamMessageBytes, 'a');
  EXPECT_EQ(BoundUpstreamMessage(exact), exact);
}

TEST(UpstreamErrorTest, LongUpstreamMessagesAreCutAtACharacter) {
  EXPECT_EQ(
      BoundUpstreamMessage(std::string(kMaxUpstreamMessageBytes + 1, 'a')),
      std::string(kMaxUpstreamMessageBytes, 'a') + "...");
  // "é" (2 bytes) straddling the limit goes whole.
  std::string s(kMaxUpstreamMessageBytes - 1, 'a');
  s += "\xc3\xa9tail";
  EXPECT_EQ(BoundUpstreamMessage(s),
            std::string(kMaxUpstreamMessageBytes - 1, 'a') + "...");
}

TEST(UpstreamErrorTest, RedactSecretKeepsDetails) {
  UpstreamHttpFailure failure = Failure(400);
  failure.message = "key sk-secret-123 is not allowed to use this model";
  absl::Status status = RedactSecret(UpstreamHttpError(failure), "sk-secret-123");
  EXPECT_EQ(status.message().find("sk-secret-123"), absl::string_view::npos);
  EXPECT_NE(status.message().find("[redacted]"), absl::string_view::npos);
  EXPECT_EQ(Reason(status), "UPSTREAM_INVALID_REQUEST");
}

TEST(UpstreamErrorTest, RedactSecretHidesAKeyCutAtTheMessagesEnd) {
  const std::string key = "sk-live-0123456789abcdef";
  // The message bound cut the key after "sk-live-0123" and marked the cut.
  absl::Status cut = RedactSecret(absl::InvalidArgumentError("bad key sk-live-0123..."), key);
  EXPECT_EQ(cut.message(), "bad key [redacted]...");
  // No marker (the error-body cap cut the JSON text there).
  EXPECT_EQ(RedactSecret(absl::InternalError("key: sk-live-01"), key).message(),
            "key: [redacted]");
  // Whole keys and a cut one in one message.
  EXPECT_EQ(RedactSecret(absl::InternalError(key + " and " + key.substr(0, 10)), key).message(),
            "[redacted] and [redacted]");
  // Three characters say nothing about the key, and text that only
  // resembles it stays.
  EXPECT_EQ(RedactSecret(absl::InternalError("prefix sk-"), key).message(), "prefix sk-");
  EXPECT_EQ(RedactSecret(absl::InternalError("sk-live-9 at the end"), key).message(),
            "sk-live-9 at the end");
  EXPECT_TRUE(RedactSecret(absl::OkStatus(), key).ok());
}

TEST(UpstreamErrorTest, RetryAfterSecondsAndHttpDate) {
  const absl::Time now = absl::FromUnixSeconds(1445412480);  // 2015-10-21 07:28:00 UTC
  EXPECT_EQ(ParseRetryAfter("3", now), absl::Seconds(3));
  EXPECT_EQ(ParseRetryAfter(" 1.5 ", now), absl::Milliseconds(1500));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", now), absl::Seconds(10));
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1", now), std::nullopt);
}

TEST(UpstreamErrorTest, RetryAfterNeverGivesABadWait) {
  const absl::Time now = absl::FromUnixSeconds(1445412480);
  EXPECT_EQ(ParseRetryAfter("inf", now), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("1e300", now), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("nan", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("12abc", now), std::nullopt);
  // A date in the past means "now"; one far ahead is capped.
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("Fri, 21 Oct 2095 07:28:00 GMT", now), kMaxRetryAfter);
}

TEST(UpstreamErrorTest, RetryInfoFromAHugeRetryAfterIsWellFormed) {
  UpstreamHttpFailure failure;
  failure.provider = "p";
  failure.http_status = 429;
  failure.retry_after = ParseRetryAfter("inf", absl::Now());
  const absl::Status status = UpstreamHttpError(failure);
  std::optional<google::rpc::RetryInfo> retry = GetRetryInfo(status);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->retry_delay().seconds(), 86400);
  EXPECT_EQ(retry->retry_delay().nanos(), 0);
  // Even a delay handed in unclamped cannot make a malformed Duration.
  std::optional<google::rpc::RetryInfo> odd =
      GetRetryInfo(WithRetryInfo(absl::UnavailableError("x"), absl::InfiniteDuration()));
  ASSERT_TRUE(odd.has_value());
  EXPECT_GE(odd->retry_delay().nanos(), 0);
  EXPECT_LT(odd->retry_delay().seconds(), int64_t{1} << 40);
  odd = GetRetryInfo(WithRetryInfo(absl::UnavailableError("x"), -absl::Seconds(5)));
  EXPECT_EQ(odd->retry_delay().seconds(), 0);
  EXPECT_EQ(odd->retry_delay().nanos(), 0);
}

}  // namespace
}  // namespace llmgateway
