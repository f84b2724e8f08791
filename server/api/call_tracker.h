// Counts the calls in flight so that SIGTERM can drain them: once
// draining, new calls are refused (UNAVAILABLE, reason DRAINING) while
// those already running finish. Also the gateway-wide admission limits
// (config.limits): calls in flight and the request bytes they hold; beyond
// either, a call is refused at once (RESOURCE_EXHAUSTED). Thread-safe.
#ifndef LLM_GATEWAY_SERVER_API_CALL_TRACKER_H_
#define LLM_GATEWAY_SERVER_API_CALL_TRACKER_H_

#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace llmgateway {

class CallTracker {
 public:
  // limits.max_calls_in_flight and limits.max_request_bytes_in_flight; set
  // before the server starts. Default: no limit.
  void SetLimits(int max_calls, int64_t max_request_bytes);

  // OK: the call (holding a request of `request_bytes`) is counted until
  // Exit(request_bytes). UNAVAILABLE once draining; RESOURCE_EXHAUSTED
  // (with RetryInfo) when the limits are reached: CALLS_IN_FLIGHT_LIMIT, or
  // REQUEST_MEMORY_LIMIT when this request's bytes do not fit.
  absl::Status Enter(int64_t request_bytes = 0);
  void Exit(int64_t request_bytes = 0);

  // Refuses new calls from now on.
  void StartDraining();
  // Waits until no call is in flight or `timeout` has passed; true if idle.
  bool WaitIdle(absl::Duration timeout);

  int in_flight() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable idle_;
  int in_flight_ = 0;
  int64_t bytes_in_flight_ = 0;
  bool draining_ = false;
  int max_calls_ = std::numeric_limits<int>::max();
  int64_t max_bytes_ = std::numeric_limits<int64_t>::max();
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_CALL_TRACKER_H_
