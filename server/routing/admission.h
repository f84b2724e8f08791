// Provider.max_connections: at most N upstream requests in flight per
// provider; more wait, in arrival order, in a queue on the HTTP loop (never
// in a thread), and one shared budget bounds how many wait in all. Loop
// thread only: no locks.
#ifndef LLM_GATEWAY_SERVER_ROUTING_ADMISSION_H_
#define LLM_GATEWAY_SERVER_ROUTING_ADMISSION_H_

#include <cstddef>
#include <list>

#include "absl/functional/any_invocable.h"

namespace llmgateway::routing {

// The cap on queued requests across every provider.
class QueueBudget {
 public:
  explicit QueueBudget(size_t max_queued) : max_queued_(max_queued) {}
  bool TryTake() {
    if (queued_ >= max_queued_) return false;
    ++queued_;
    return true;
  }
  void Give() { --queued_; }
  size_t queued() const { return queued_; }

 private:
  const size_t max_queued_;
  size_t queued_ = 0;
};

class Admission {
 public:
  using Ready = absl::AnyInvocable<void()>;
  // A place in the queue, to leave it early (cancel, deadline).
  using Ticket = std::list<Ready>::iterator;

  // `max_in_flight` 0: no limit. `budget` must outlive this.
  Admission(int max_in_flight, QueueBudget* budget)
      : max_in_flight_(max_in_flight), budget_(budget) {}

  // Takes a slot now (true), or false when the caller must Enqueue.
  bool TryAcquire();
  // Queues `ready`, run (loop thread) once a slot has been handed to it.
  // false: the shared budget is spent (nothing queued).
  bool Enqueue(Ready ready, Ticket* ticket);
  // Leaves the queue without a slot (`ready` is destroyed, not run).
  void Leave(Ticket ticket);
  // Gives a slot back: the longest waiter gets it, or it is freed.
  void Release();

  int in_flight() const { return in_flight_; }
  size_t waiting() const { return waiting_.size(); }

 private:
  const int max_in_flight_;
  QueueBudget* const budget_;
  int in_flight_ = 0;
  std::list<Ready> waiting_;
};

}  // namespace llmgateway::routing

#endif  // LLM_GATEWAY_SERVER_ROUTING_ADMISSION_H_
