// The engine tests' transport (see the header).
#include "server/routing/fake_transport.h"

#include <algorithm>

namespace llmgateway::routing::testing {

http::Transport::TransferId FakeTransport::Start(http::HttpRequest request,
                                                 http::TransferHandler* handler) {
  Transfer& t = transfers_.emplace_back();
  t.id = transfers_.size();
  t.request = std::move(request);
  t.handler = handler;
  return t.id;
}

void FakeTransport::Cancel(TransferId id) {
  Transfer& t = transfer(id);
  if (!t.active) return;
  t.cancelled = true;
  // Like the real loop: the cancel completes the transfer a little later,
  // and no more body reaches the handler meanwhile.
  Post([this, id] {
    if (transfer(id).active) Complete(id, absl::CancelledError("transfer cancelled"));
  });
}

void FakeTransport::Resume(TransferId id) {
  Transfer& t = transfer(id);
  ++t.resumes;
  t.paused = false;
}

http::Transport::TimerId FakeTransport::RunAfter(absl::Duration delay,
                                                 absl::AnyInvocable<void()> fn) {
  const TimerId id = next_timer_++;
  const absl::Time when = now_ + std::max(delay, absl::ZeroDuration());
  timers_.emplace(std::make_pair(when, id), std::move(fn));
  timer_when_[id] = when;
  return id;
}

void FakeTransport::CancelTimer(TimerId id) {
  auto it = timer_when_.find(id);
  if (it == timer_when_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  timer_when_.erase(it);
}

void FakeTransport::Post(absl::AnyInvocable<void()> fn) { posted_.push_back(std::move(fn)); }

void FakeTransport::RunUntilIdle() {
  for (;;) {
    if (!posted_.empty()) {
      absl::AnyInvocable<void()> fn = std::move(posted_.front());
      posted_.pop_front();
      fn();
      continue;
    }
    if (!timers_.empty() && timers_.begin()->first.first <= now_) {
      auto node = timers_.extract(timers_.begin());
      timer_when_.erase(node.key().second);
      node.mapped()();
      continue;
    }
    return;
  }
}

void FakeTransport::Shutdown() {
  for (;;) {
    RunUntilIdle();
    bool progressed = false;
    for (TransferId id : active()) {
      Complete(id, absl::CancelledError("transport shutting down"));
      progressed = true;
    }
    if (!timers_.empty()) {
      auto node = timers_.extract(timers_.begin());
      timer_when_.erase(node.key().second);
      node.mapped()();
      progressed = true;
    }
    if (!progressed && posted_.empty()) return;
  }
}

void FakeTransport::Advance(absl::Duration d) {
  const absl::Time until = now_ + d;
  RunUntilIdle();
  while (!timers_.empty() && timers_.begin()->first.first <= until) {
    now_ = std::max(now_, timers_.begin()->first.first);
    RunUntilIdle();
  }
  now_ = until;
  RunUntilIdle();
}

absl::Duration FakeTransport::NextTimer() const {
  if (timers_.empty()) return absl::InfiniteDuration();
  return timers_.begin()->first.first - now_;
}

void FakeTransport::Head(TransferId id, long status, std::vector<http::HttpHeader> headers) {
  http::ResponseHead head;
  head.status = status;
  head.headers = std::move(headers);
  transfer(id).handler->OnHead(head);
}

http::BodyAction FakeTransport::Body(TransferId id, absl::string_view chunk) {
  Transfer& t = transfer(id);
  if (t.cancelled || !t.active) return http::BodyAction::kAbort;
  const http::BodyAction action = t.handler->OnBody(chunk);
  if (action == http::BodyAction::kPause) t.paused = true;
  return action;
}

void FakeTransport::Complete(TransferId id, absl::Status status) {
  Transfer& t = transfer(id);
  t.active = false;
  t.handler->OnComplete(std::move(status));
}

void FakeTransport::Respond(TransferId id, long status, absl::string_view body,
                            std::vector<http::HttpHeader> headers) {
  Head(id, status, std::move(headers));
  if (!body.empty() && Body(id, body) == http::BodyAction::kAbort) {
    Complete(id, absl::CancelledError("transfer aborted"));
    return;
  }
  Complete(id, absl::OkStatus());
}

std::vector<http::Transport::TransferId> FakeTransport::active() const {
  std::vector<TransferId> ids;
  for (const Transfer& t : transfers_) {
    if (t.active) ids.push_back(t.id);
  }
  return ids;
}

}  // namespace llmgateway::routing::testing
