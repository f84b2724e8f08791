// One deployment's circuit breaker and load, as the call engine sees it:
// closed (in rotation) -> after N failures in a row, cooling (out of
// rotation for a period) -> half-open (one probe call decides) -> closed or
// cooling again. Loop thread only: no locks.
#ifndef LLM_GATEWAY_SERVER_ROUTING_TARGET_HEALTH_H_
#define LLM_GATEWAY_SERVER_ROUTING_TARGET_HEALTH_H_

#include "absl/time/time.h"

namespace llmgateway::routing {

struct CooldownPolicy {
  int failures = 3;
  absl::Duration period = absl::Seconds(30);
};

class TargetHealth {
 public:
  explicit TargetHealth(CooldownPolicy policy) : policy_(policy) {}

  // Whether a new attempt may go here now: closed, or half-open with no
  // probe out yet.
  bool Available(absl::Time now) const;
  // When it is (or was) available again: now for a closed target.
  absl::Time RecoversAt(absl::Time now) const;

  // An attempt starts here (after Available, or as the last resort when
  // every target is cooling). While half-open it becomes the probe.
  void OnAttemptStart(absl::Time now);
  // The attempt's verdict. `counted` false: it says nothing of the target
  // (the caller's bad request, a cancel); a probe's slot is freed.
  void OnSuccess();
  void OnFailure(absl::Time now);
  void OnNeutral();

  int in_flight() const { return in_flight_; }
  bool cooling(absl::Time now) const { return now < cooling_until_; }

 private:
  void EndAttempt();

  const CooldownPolicy policy_;
  int in_flight_ = 0;
  int consecutive_failures_ = 0;
  absl::Time cooling_until_ = absl::InfinitePast();
  // A cooldown has run out and nothing has yet shown the target healthy.
  bool half_open_ = false;
  bool probe_out_ = false;
};

}  // namespace llmgateway::routing

#endif  // LLM_GATEWAY_SERVER_ROUTING_TARGET_HEALTH_H_
