// What the call engine does after a failed upstream attempt: the failure's
// class (retry the same target, move to the next, or give up) and how long
// to wait first. Pure functions of the status and the policy, so every rule
// in DESIGN.md's "Routing rules" is unit-tested here.
#ifndef LLM_GATEWAY_SERVER_ROUTING_RETRY_POLICY_H_
#define LLM_GATEWAY_SERVER_ROUTING_RETRY_POLICY_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/config/config.pb.h"

namespace llmgateway::routing {

// A config or request duration as absl's.
inline absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

struct RetryPolicy {
  // Retries on the same target after its first attempt.
  int max_retries = 2;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
};

// `base` with the fields `config` sets replaced (alias over global over the
// built-in defaults).
RetryPolicy MergePolicy(const RetryPolicy& base, const config::RetryPolicy& config);

enum class FailureClass {
  // Worth trying the same target again after a backoff: connect errors,
  // 408, 429 (not a spent quota), 5xx, a malformed answer, a stream broken
  // before its first delta, an attempt that timed out.
  kRetry,
  // This target cannot serve the call but another may: the gateway's own
  // key rejected (401/403), model not found, quota spent, any other
  // upstream answer the table does not know.
  kNextTarget,
  // No other attempt can help: the caller's own bad request, a cancel, the
  // caller's deadline.
  kFatal,
};

// `status` is an attempt's non-OK outcome, as upstream_error.h makes them
// (code + ErrorInfo reason).
FailureClass Classify(const absl::Status& status);

// Whether a failure says something about the target's health (for
// cooldown): everything but the caller's own doing.
bool CountsAgainstTarget(const absl::Status& status);

// The wait before retry number `retry` (0 for the first retry). A
// RetryInfo on `status` (the upstream's Retry-After) wins, clamped to
// [0, max_backoff]; otherwise "full jitter": uniform in
// [0, min(max_backoff, initial_backoff * 2^retry)], `uniform01` in [0, 1).
absl::Duration RetryDelay(const absl::Status& status, const RetryPolicy& policy,
                          int retry, double uniform01);

}  // namespace llmgateway::routing

#endif  // LLM_GATEWAY_SERVER_ROUTING_RETRY_POLICY_H_
