// Counts the generation calls in flight so that SIGTERM can drain them:
// once draining, new calls are refused (UNAVAILABLE, reason DRAINING) while
// those already running finish. Thread-safe.
#ifndef LLM_GATEWAY_SERVER_API_CALL_TRACKER_H_
#define LLM_GATEWAY_SERVER_API_CALL_TRACKER_H_

#include <condition_variable>
#include <mutex>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace llmgateway {

class CallTracker {
 public:
  // OK: the call is counted until Exit. UNAVAILABLE once draining.
  absl::Status Enter();
  void Exit();

  // Refuses new calls from now on.
  void StartDraining();
  // Waits until no call is in flight or `timeout` has passed; true if idle.
  bool WaitIdle(absl::Duration timeout);

  int in_flight() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable idle_;
  int in_flight_ = 0;
  bool draining_ = false;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_CALL_TRACKER_H_
