// The GenerateStream reactor.
//
// Threads: OnMessage/OnComplete come from the HTTP loop thread (the
// upstream), OnWriteDone/OnCancel from gRPC's threads (the caller). All shared
// state is under mu_.
//
// Backpressure: at most one gRPC write is in flight. Messages that arrive
// meanwhile queue behind it (consecutive text/reasoning deltas merge into the
// last queued message, so a fast upstream does not mean many small writes);
// whenever something queues, OnMessage asks the provider to pause the
// upstream after the current network chunk, and the write path resumes it
// once the backlog has gone to gRPC. So a slow reader holds at most one
// network chunk's worth of deltas here, and the upstream waits in its
// socket buffers.
//
// Lifetime: `new` per call, `delete this` in OnDone. Finish is called exactly
// once, only after the upstream has completed (so no upstream callback can
// follow OnDone) and only when no write is in flight, and always outside mu_
// as the very last touch of `this` (OnDone may run on another thread at once).
// A caller that goes away (OnCancel, or a failed write) cancels the upstream
// transfer, whose completion then finishes the call.
#include "server/api/generate_stream_call.h"

#include <deque>
#include <mutex>
#include <optional>

#include "server/api/call_context.h"
#include "server/api/grpc_status.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateStreamResponse;

// Whether `next` only adds to what `last` adds (text to text, reasoning text
// to reasoning text), so appending it to `last` changes nothing the caller
// assembles, order included.
bool CanMerge(const GenerateStreamResponse& last, const GenerateStreamResponse& next) {
  auto plain = [](const GenerateStreamResponse& m) {
    return m.id().empty() && m.tool_calls().empty() && !m.has_usage() &&
           m.finish_reason() == v1::FINISH_REASON_UNSPECIFIED &&
           m.reasoning().signature().empty();
  };
  if (!plain(last) || !plain(next)) return false;
  const bool last_is_text = last.reasoning().text().empty();
  const bool next_is_text = next.reasoning().text().empty();
  if (last_is_text != next_is_text) return false;
  return last_is_text || (last.text().empty() && next.text().empty());
}

class GenerateStreamCall final : public grpc::ServerWriteReactor<GenerateStreamResponse>,
                                 public StreamObserver {
 public:
  GenerateStreamCall(grpc::CallbackServerContext* context, const GenerateRequest* request,
                     const Router* router)
      : call_(context, *request, router) {
    if (!call_.routed()) {
      // No upstream, no writes: finish at once.
      call_.Log("GenerateStream", call_.status(), nullptr, 0);
      Finish(ToGrpcStatus(call_.status()));
      return;
    }
    // The upstream may deliver (and even complete) before GenerateStream
    // returns: gRPC keeps writes and Finish started before the reactor is
    // bound, and a Resume wanted before the id is known is sent from here.
    const Provider::CallId id =
        call_.provider()->GenerateStream(*request, call_.upstream_options(), this);
    std::lock_guard<std::mutex> lock(mu_);
    call_id_ = id;
    if (resume_wanted_) {
      resume_wanted_ = false;
      call_.provider()->Resume(id);
    }
  }

  // Upstream side (HTTP loop thread).

  bool OnMessage(GenerateStreamResponse&& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (caller_gone_) return true;  // the transfer is being cancelled
    if (message.has_usage()) usage_ = message.usage();
    // queue_.back() is not the message in flight when there are two.
    if (queue_.size() >= 2 && CanMerge(queue_.back(), message)) {
      GenerateStreamResponse& last = queue_.back();
      last.mutable_text()->append(message.text());
      if (!message.reasoning().text().empty()) {
        last.mutable_reasoning()->mutable_text()->append(message.reasoning().text());
      }
    } else {
      queue_.push_back(std::move(message));
    }
    if (!writing_) WriteFrontLocked();
    if (queue_.size() > 1) pause_requested_ = true;
    return !pause_requested_;
  }

  void OnComplete(absl::Status status) override {
    std::unique_lock<std::mutex> lock(mu_);
    upstream_status_ = std::move(status);
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
    // Cancel only queues a command for the HTTP loop: fine under the lock.
    if (!ok && call_id_ != 0) call_.provider()->Cancel(call_id_);
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    caller_gone_ = true;
    if (call_id_ != 0 && !upstream_status_.has_value()) call_.provider()->Cancel(call_id_);
  }

  void OnDone() override { delete this; }

 private:
  // Starts writing queue_.front(); resumes the upstream once the backlog it
  // paused for is all in gRPC's hands.
  void WriteFrontLocked() {
    writing_ = true;
    StartWrite(&queue_.front());
    if (pause_requested_ && queue_.size() == 1) {
      pause_requested_ = false;
      // Only queues a command for the HTTP loop: fine under the lock.
      if (call_id_ != 0) {
        call_.provider()->Resume(call_id_);
      } else {
        resume_wanted_ = true;  // GenerateStream has not returned the id yet
      }
    }
  }

  void FinishUnlocked(std::unique_lock<std::mutex> lock) {
    if (finished_) return;
    finished_ = true;
    const absl::Status status = *upstream_status_;
    call_.Log("GenerateStream", status, &usage_, written_);
    lock.unlock();
    Finish(ToGrpcStatus(status));
  }

  CallContext call_;

  std::mutex mu_;
  Provider::CallId call_id_ = 0;
  bool resume_wanted_ = false;
  // Messages not yet written; while writing_, front() is the one in flight.
  // (std::deque keeps element addresses stable as it grows at the back.)
  std::deque<GenerateStreamResponse> queue_;
  bool writing_ = false;
  bool pause_requested_ = false;
  bool caller_gone_ = false;
  bool finished_ = false;
  int written_ = 0;
  v1::Usage usage_;
  std::optional<absl::Status> upstream_status_;
};

}  // namespace

grpc::ServerWriteReactor<GenerateStreamResponse>* StartGenerateStreamCall(
    grpc::CallbackServerContext* context, const GenerateRequest* request,
    const Router* router) {
  return new GenerateStreamCall(context, request, router);
}

}  // namespace llmgateway
