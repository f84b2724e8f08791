// Per-provider admission (see the header).
#include "server/routing/admission.h"

#include <utility>

namespace llmgateway::routing {

bool Admission::TryAcquire() {
  // FIFO: a newcomer never overtakes a waiter.
  if (max_in_flight_ > 0 && (in_flight_ >= max_in_flight_ || !waiting_.empty())) {
    return false;
  }
  ++in_flight_;
  return true;
}

bool Admission::Enqueue(Ready ready, Ticket* ticket) {
  if (!budget_->TryTake()) return false;
  *ticket = waiting_.insert(waiting_.end(), std::move(ready));
  return true;
}

void Admission::Leave(Ticket ticket) {
  waiting_.erase(ticket);
  budget_->Give();
}

void Admission::Release() {
  if (waiting_.empty()) {
    --in_flight_;
    return;
  }
  // The slot passes straight to the longest waiter: in_flight_ is unchanged.
  Ready ready = std::move(waiting_.front());
  waiting_.pop_front();
  budget_->Give();
  ready();
}

}  // namespace llmgateway::routing
