#include "server/routing/retry_policy.h"

#include "gtest/gtest.h"
#include "server/common/status_details.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::routing {
namespace {

absl::Status Http(long status, absl::string_view code = "") {
  UpstreamHttpFailure failure;
  failure.provider = "p";
  failure.http_status = status;
  failure.error_code = code;
  return UpstreamHttpError(failure);
}

TEST(RetryPolicyTest, ClassesFollowTheRoutingRules) {
  EXPECT_EQ(Classify(Http(500)), FailureClass::kRetry);
  EXPECT_EQ(Classify(Http(503)), FailureClass::kRetry);
  EXPECT_EQ(Classify(Http(529)), FailureClass::kRetry);
  EXPECT_EQ(Classify(Http(408)), FailureClass::kRetry);
  EXPECT_EQ(Classify(Http(429)), FailureClass::kRetry);
  EXPECT_EQ(Classify(Http(429, "insufficient_quota")), FailureClass::kNextTarget);
  EXPECT_EQ(Classify(Http(401)), FailureClass::kNextTarget);
  EXPECT_EQ(Classify(Http(403)), FailureClass::kNextTarget);
  EXPECT_EQ(Classify(Http(404)), FailureClass::kNextTarget);
  EXPECT_EQ(Classify(Http(418)), FailureClass::kNextTarget);
  EXPECT_EQ(Classify(Http(400)), FailureClass::kFatal);
  EXPECT_EQ(Classify(Http(413)), FailureClass::kFatal);
  EXPECT_EQ(Classify(Http(400, "context_length_exceeded")), FailureClass::kFatal);
  EXPECT_EQ(Classify(UpstreamTransportError("p", absl::UnavailableError("refused"))),
            FailureClass::kRetry);
  EXPECT_EQ(Classify(UpstreamTransportError("p", absl::DeadlineExceededError("slow"))),
            FailureClass::kRetry);
  EXPECT_EQ(Classify(UpstreamStreamBroken("p", absl::OkStatus())), FailureClass::kRetry);
  EXPECT_EQ(Classify(UpstreamBadResponse("p", absl::InvalidArgumentError("x"))),
            FailureClass::kRetry);
  EXPECT_EQ(Classify(UpstreamTransportError("p", absl::CancelledError("x"))),
            FailureClass::kFatal);
  // An untrusted certificate stays untrusted: the next target, not a retry.
  EXPECT_EQ(Classify(UpstreamTransportError("p", absl::FailedPreconditionError("untrusted"))),
            FailureClass::kNextTarget);
  EXPECT_EQ(Classify(InvalidField("config.top_k", "unsupported")), FailureClass::kFatal);
}

TEST(RetryPolicyTest, OnlyTheTargetsOwnFailuresCountAgainstIt) {
  EXPECT_TRUE(CountsAgainstTarget(Http(503)));
  EXPECT_TRUE(CountsAgainstTarget(Http(401)));
  EXPECT_TRUE(CountsAgainstTarget(Http(429)));
  EXPECT_FALSE(CountsAgainstTarget(Http(400)));
  EXPECT_FALSE(CountsAgainstTarget(UpstreamTransportError("p", absl::CancelledError("x"))));
  EXPECT_FALSE(CountsAgainstTarget(absl::OkStatus()));
}

TEST(RetryPolicyTest, FullJitterStaysUnderTheDoublingCeiling) {
  RetryPolicy policy;  // 200ms, cap 10s
  const absl::Status failure = Http(503);
  EXPECT_EQ(RetryDelay(failure, policy, 0, 0.0), absl::ZeroDuration());
  EXPECT_EQ(RetryDelay(failure, policy, 0, 0.5), absl::Milliseconds(100));
  EXPECT_LT(RetryDelay(failure, policy, 0, 0.999999), absl::Milliseconds(200));
  EXPECT_EQ(RetryDelay(failure, policy, 3, 0.5), absl::Milliseconds(800));
  EXPECT_EQ(RetryDelay(failure, policy, 10, 0.5), absl::Seconds(5)) << "capped at 10s";
  EXPECT_EQ(RetryDelay(failure, policy, 1000000, 0.5), absl::Seconds(5));
  EXPECT_EQ(RetryDelay(failure, policy, 2, -3.0), absl::ZeroDuration());
}

TEST(RetryPolicyTest, RetryInfoWinsClamped) {
  RetryPolicy policy;
  policy.max_backoff = absl::Seconds(10);
  EXPECT_EQ(RetryDelay(WithRetryInfo(Http(429), absl::Seconds(3)), policy, 0, 0.5),
            absl::Seconds(3));
  EXPECT_EQ(RetryDelay(WithRetryInfo(Http(429), absl::Hours(24)), policy, 0, 0.5),
            absl::Seconds(10));
  EXPECT_EQ(RetryDelay(WithRetryInfo(Http(429), absl::ZeroDuration()), policy, 0, 0.5),
            absl::ZeroDuration());
}

TEST(RetryPolicyTest, AliasPolicyOverridesFieldByField) {
  RetryPolicy base;
  config::RetryPolicy config;
  config.set_max_retries(0);
  RetryPolicy merged = MergePolicy(base, config);
  EXPECT_EQ(merged.max_retries, 0);
  EXPECT_EQ(merged.initial_backoff, absl::Milliseconds(200));
  config.mutable_max_backoff()->set_seconds(2);
  merged = MergePolicy(base, config);
  EXPECT_EQ(merged.max_backoff, absl::Seconds(2));
}

}  // namespace
}  // namespace llmgateway::routing
