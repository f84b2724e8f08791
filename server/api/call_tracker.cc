// In-flight call accounting for graceful drain (see the header).
#include "server/api/call_tracker.h"

#include "server/common/status_details.h"

namespace llmgateway {

absl::Status CallTracker::Enter() {
  std::lock_guard<std::mutex> lock(mu_);
  if (draining_) {
    return WithErrorInfo(
        absl::UnavailableError("the gateway is shutting down; retry on another replica"),
        "DRAINING");
  }
  ++in_flight_;
  return absl::OkStatus();
}

void CallTracker::Exit() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--in_flight_ == 0) idle_.notify_all();
}

void CallTracker::StartDraining() {
  std::lock_guard<std::mutex> lock(mu_);
  draining_ = true;
}

bool CallTracker::WaitIdle(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                        [this] { return in_flight_ == 0; });
}

int CallTracker::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

}  // namespace llmgateway
