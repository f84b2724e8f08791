// A Transport for engine tests: no sockets, no threads, a manual clock. The
// test plays the upstream: it sees each request and decides what comes
// back, and when; timers fire only when the test advances the clock.
#ifndef LLM_GATEWAY_SERVER_ROUTING_FAKE_TRANSPORT_H_
#define LLM_GATEWAY_SERVER_ROUTING_FAKE_TRANSPORT_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "server/http/transport.h"

namespace llmgateway::routing::testing {

class FakeTransport final : public http::Transport {
 public:
  struct Transfer {
    TransferId id = 0;
    http::HttpRequest request;
    http::TransferHandler* handler = nullptr;
    bool active = true;
    bool paused = false;
    int resumes = 0;
    bool cancelled = false;
  };

  TransferId Start(http::HttpRequest request, http::TransferHandler* handler) override;
  void Cancel(TransferId id) override;
  void Resume(TransferId id) override;
  TimerId RunAfter(absl::Duration delay, absl::AnyInvocable<void()> fn) override;
  void CancelTimer(TimerId id) override;
  void Post(absl::AnyInvocable<void()> fn) override;
  absl::Time Now() const override { return now_; }

  // Runs posted work (and timers due) until nothing is left to run now.
  void RunUntilIdle();
  // What HttpClient's destructor does: every transfer still running
  // completes CANCELLED, every timer runs early, until nothing is left.
  void Shutdown();
  // Moves the clock forward by `d`, firing due timers in order.
  void Advance(absl::Duration d);
  // Time until the next pending timer (InfiniteDuration if none).
  absl::Duration NextTimer() const;
  size_t pending_timers() const { return timers_.size(); }

  // The upstream's side of transfer `id`. Each runs the handler at once.
  void Head(TransferId id, long status, std::vector<http::HttpHeader> headers = {});
  http::BodyAction Body(TransferId id, absl::string_view chunk);
  void Complete(TransferId id, absl::Status status);
  // Head + Body + Complete(OK).
  void Respond(TransferId id, long status, absl::string_view body,
               std::vector<http::HttpHeader> headers = {});

  // Every transfer started, oldest first.
  const std::vector<Transfer>& transfers() const { return transfers_; }
  Transfer& transfer(TransferId id) { return transfers_.at(id - 1); }
  // Transfers started and not completed.
  std::vector<TransferId> active() const;
  TransferId last() const { return transfers_.size(); }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1'000'000);
  std::vector<Transfer> transfers_;
  std::deque<absl::AnyInvocable<void()>> posted_;
  // (when, id) -> fn: ids grow, so equal deadlines fire in arming order.
  std::map<std::pair<absl::Time, TimerId>, absl::AnyInvocable<void()>> timers_;
  absl::flat_hash_map<TimerId, absl::Time> timer_when_;
  TimerId next_timer_ = 1;
};

}  // namespace llmgateway::routing::testing

#endif  // LLM_GATEWAY_SERVER_ROUTING_FAKE_TRANSPORT_H_
