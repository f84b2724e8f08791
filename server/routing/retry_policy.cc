// Failure classes and backoff (see the header).
#include "server/routing/retry_policy.h"

#include <algorithm>
#include <cmath>

#include "server/common/status_details.h"

namespace llmgateway::routing {
namespace {

std::string Reason(const absl::Status& status) {
  std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(status);
  return info.has_value() ? info->reason() : std::string();
}

}  // namespace

RetryPolicy MergePolicy(const RetryPolicy& base, const config::RetryPolicy& config) {
  RetryPolicy merged = base;
  if (config.has_max_retries()) merged.max_retries = config.max_retries();
  if (config.has_initial_backoff()) merged.initial_backoff = FromProto(config.initial_backoff());
  if (config.has_max_backoff()) merged.max_backoff = FromProto(config.max_backoff());
  return merged;
}

FailureClass Classify(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      return FailureClass::kRetry;
    case absl::StatusCode::kDeadlineExceeded:
      // The caller's own deadline never reaches here as retryable: the
      // engine checks it before any retry. An upstream 408 or an attempt
      // timeout is the target's slowness.
      return Reason(status) == "UPSTREAM_TIMEOUT" ? FailureClass::kRetry : FailureClass::kFatal;
    case absl::StatusCode::kResourceExhausted:
      // A spent quota stays spent: another target, not the same one again.
      return Reason(status) == "RATE_LIMITED" ? FailureClass::kRetry
                                              : FailureClass::kNextTarget;
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return FailureClass::kNextTarget;
    default:
      // INVALID_ARGUMENT (the caller's request), CANCELLED, and anything the
      // upstream table never produces.
      return FailureClass::kFatal;
  }
}

bool CountsAgainstTarget(const absl::Status& status) {
  if (status.ok()) return false;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kCancelled:
      return false;
    case absl::StatusCode::kDeadlineExceeded:
      return Reason(status) == "UPSTREAM_TIMEOUT";
    default:
      return true;
  }
}

absl::Duration RetryDelay(const absl::Status& status, const RetryPolicy& policy, int retry,
                          double uniform01) {
  const absl::Duration cap = std::max(absl::ZeroDuration(), policy.max_backoff);
  if (std::optional<google::rpc::RetryInfo> info = GetRetryInfo(status)) {
    const absl::Duration wanted = absl::Seconds(info->retry_delay().seconds()) +
                                  absl::Nanoseconds(info->retry_delay().nanos());
    return std::clamp(wanted, absl::ZeroDuration(), cap);
  }
  // 2^retry overflows nothing: the product saturates at the cap long before.
  absl::Duration ceiling = policy.initial_backoff;
  for (int i = 0; i < retry && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::clamp(ceiling, absl::ZeroDuration(), cap);
  const double fraction = std::clamp(uniform01, 0.0, 1.0);
  return absl::Nanoseconds(
      std::floor(absl::ToDoubleNanoseconds(ceiling) * fraction));
}

}  // namespace llmgateway::routing
