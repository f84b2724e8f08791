// The per-deployment circuit breaker (see the header).
#include "server/routing/target_health.h"

#include <algorithm>

namespace llmgateway::routing {

bool TargetHealth::Available(absl::Time now) const {
  if (now < cooling_until_) return false;
  return !(half_open_ && probe_out_);
}

absl::Time TargetHealth::RecoversAt(absl::Time now) const {
  return std::max(now, cooling_until_);
}

void TargetHealth::OnAttemptStart(absl::Time now) {
  ++in_flight_;
  // The first attempt after a cooldown (or a last-resort attempt during
  // one) is the probe: others stay away until it reports.
  if (half_open_ || now < cooling_until_) {
    half_open_ = true;
    probe_out_ = true;
  }
}

void TargetHealth::EndAttempt() { in_flight_ = std::max(0, in_flight_ - 1); }

void TargetHealth::OnSuccess() {
  EndAttempt();
  consecutive_failures_ = 0;
  half_open_ = false;
  probe_out_ = false;
  cooling_until_ = absl::InfinitePast();
}

void TargetHealth::OnFailure(absl::Time now) {
  EndAttempt();
  ++consecutive_failures_;
  // A failed probe re-opens the breaker at once; otherwise N in a row do.
  if (half_open_ || consecutive_failures_ >= policy_.failures) {
    cooling_until_ = now + policy_.period;
    half_open_ = true;  // after this period, one probe decides
    probe_out_ = false;
    consecutive_failures_ = 0;
  }
}

void TargetHealth::OnNeutral() {
  EndAttempt();
  probe_out_ = false;
}

}  // namespace llmgateway::routing
