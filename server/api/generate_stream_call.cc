// The GenerateStream reactor.
//
// gRPC concerns only: the call engine owns the upstream side (attempts,
// retries, fallbacks, the commit point at the first delta).
//
// Threads: OnDelta/OnComplete come from the HTTP loop thread (the engine),
// OnWriteDone/OnCancel from gRPC's threads (the caller). All shared state is
// under mu_.
//
// Backpressure: at most one gRPC write is in flight. Messages that arrive
// meanwhile queue behind it (consecutive text/reasoning deltas merge into the
// last queued message, so a fast upstream does not mean many small writes);
// once the queued ones reach kMaxWaitingBytes (or kMaxWaitingMessages),
// OnDelta asks the engine to pause the upstream after the current network
// chunk, and the write path resumes it once the backlog has gone to gRPC. So
// a slow reader holds at most that much plus one network chunk here, and the
// upstream waits in its socket buffers; a reader that merely lags (a busy
// machine) does not pause and resume the upstream at every delta.
//
// Lifetime: `new` per call, `delete this` in OnDone. Finish is called exactly
// once, only after the upstream has completed (so no upstream callback can
// follow OnDone) and only when no write is in flight, and always outside mu_
// as the very last touch of `this` (OnDone may run on another thread at once).
// A caller that goes away (OnCancel, or a failed write) cancels the engine
// call, whose completion then finishes the call.
#include "server/api/generate_stream_call.h"

#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "server/api/grpc_status.h"
#include "server/api/stream_messages.h"
#include "server/metrics/gateway_metrics.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateStreamResponse;

// What may wait behind the write in flight before the upstream is paused.
// Pausing at the first queued delta cost a pause, a Resume hop to the HTTP
// loop and two epoll_ctl calls for every few deltas once gRPC lagged: about
// ten per stream at 10,000 streams.
constexpr size_t kMaxWaitingBytes = 16 * 1024;
constexpr size_t kMaxWaitingMessages = 16;

class GenerateStreamCall final : public grpc::ServerWriteReactor<GenerateStreamResponse>,
                                 public routing::CallObserver {
 public:
  GenerateStreamCall(grpc::CallbackServerContext* context, const GenerateRequest* request,
                     const GenerationDeps& deps)
      : call_(context, *request, /*stream=*/true, deps) {
    if (!call_.ok()) {
      // No upstream, no writes: finish at once.
      call_.Report("GenerateStream", call_.status(), nullptr, 0, routing::CallSummary());
      Finish(ToGrpcStatus(call_.status()));
      return;
    }
    // The engine may deliver (and even complete) before Start returns: gRPC
    // keeps writes and Finish started before the reactor is bound, and a
    // Resume wanted before the handle is known is sent from here.
    metrics::Metrics().open_streams->Add({}, 1);
    std::shared_ptr<routing::CallHandle> handle =
        deps.engine->Start(request, call_.engine_options(), this);
    std::lock_guard<std::mutex> lock(mu_);
    handle_ = std::move(handle);
    if (resume_wanted_) {
      resume_wanted_ = false;
      handle_->Resume();
    }
  }

  // Engine side (HTTP loop thread).

  bool OnDelta(GenerateStreamResponse&& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (caller_gone_) return true;  // the transfer is being cancelled
    if (!first_delta_) {
      first_delta_ = true;
      metrics::Metrics().time_to_first_token->Observe({}, absl::ToDoubleSeconds(call_.elapsed()));
    }
    if (message.has_usage()) usage_ = message.usage();
    if (IsLargeDelta(message)) {
      // Larger than a default client takes in one message: in pieces.
      for (GenerateStreamResponse& piece : SplitLargeDelta(std::move(message))) {
        queue_.push_back(std::move(piece));
      }
    } else if (queue_.size() >= 2 && CanMerge(queue_.back(), message)) {
      // queue_.back() is not the message in flight when there are two.
      GenerateStreamResponse& last = queue_.back();
      last.mutable_text()->append(message.text());
      if (!message.reasoning().text().empty()) {
        last.mutable_reasoning()->mutable_text()->append(message.reasoning().text());
      }
    } else {
      queue_.push_back(std::move(message));
    }
    if (!writing_) WriteFrontLocked();
    if (WaitingBacklogFullLocked()) pause_requested_ = true;
    return !pause_requested_;
  }

  void OnComplete(absl::Status status, routing::CallSummary summary) override {
    std::unique_lock<std::mutex> lock(mu_);
    upstream_status_ = std::move(status);
    summary_ = std::move(summary);
    if (writing_) return;  // OnWriteDone finishes once the queue drains
    FinishUnlocked(std::move(lock));
  }

  // Caller side (gRPC threads).

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    queue_.pop_front();
    if (ok) ++written_;
    if (!ok) {
      // The caller is gone (cancelled, disconnected, deadline): stop writing
      // and stop the upstream, whose completion finishes the call.
      caller_gone_ = true;
      queue_.clear();
    }
    if (!queue_.empty()) {
      WriteFrontLocked();
      return;
    }
    writing_ = false;
    if (upstream_status_.has_value()) {
      FinishUnlocked(std::move(lock));
      return;
    }
    // Cancel only posts to the HTTP loop: fine under the lock.
    if (!ok && handle_ != nullptr) handle_->Cancel();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    caller_gone_ = true;
    if (handle_ != nullptr && !upstream_status_.has_value()) handle_->Cancel();
  }

  void OnDone() override { delete this; }

 private:
  // The messages behind the one in flight: enough to pause the upstream?
  bool WaitingBacklogFullLocked() const {
    if (queue_.size() <= 1) return false;
    if (queue_.size() > kMaxWaitingMessages) return true;
    size_t bytes = 0;
    for (size_t i = 1; i < queue_.size(); ++i) bytes += queue_[i].ByteSizeLong();
    return bytes >= kMaxWaitingBytes;
  }

  // Starts writing queue_.front(); resumes the upstream once the backlog it
  // paused for is all in gRPC's hands.
  void WriteFrontLocked() {
    writing_ = true;
    StartWrite(&queue_.front());
    if (pause_requested_ && queue_.size() == 1) {
      pause_requested_ = false;
      // Only posts to the HTTP loop: fine under the lock.
      if (handle_ != nullptr) {
        handle_->Resume();
      } else {
        resume_wanted_ = true;  // Start has not returned the handle yet
      }
    }
  }

  void FinishUnlocked(std::unique_lock<std::mutex> lock) {
    if (finished_) return;
    finished_ = true;
    const absl::Status status = *upstream_status_;
    // Logged outside mu_ (a write(2)): once finished, nothing else changes
    // what the line reads.
    lock.unlock();
    metrics::Metrics().open_streams->Add({}, -1);
    call_.Report("GenerateStream", status, &usage_, written_, summary_);
    Finish(ToGrpcStatus(status));
  }

  CallContext call_;

  std::mutex mu_;
  std::shared_ptr<routing::CallHandle> handle_;
  bool resume_wanted_ = false;
  // Messages not yet written; while writing_, front() is the one in flight.
  // (std::deque keeps element addresses stable as it grows at the back.)
  std::deque<GenerateStreamResponse> queue_;
  bool writing_ = false;
  bool pause_requested_ = false;
  bool caller_gone_ = false;
  bool finished_ = false;
  bool first_delta_ = false;
  int written_ = 0;
  v1::Usage usage_;
  std::optional<absl::Status> upstream_status_;
  routing::CallSummary summary_;
};

}  // namespace

grpc::ServerWriteReactor<GenerateStreamResponse>* StartGenerateStreamCall(
    grpc::CallbackServerContext* context, const GenerateRequest* request,
    const GenerationDeps& deps) {
  return new GenerateStreamCall(context, request, deps);
}

}  // namespace llmgateway
