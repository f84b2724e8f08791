// ListBatchJobResults.
//
// One step at a time: a read from the runner (store thread), then the
// writes of that chunk one by one (gRPC threads), then the next read. Each
// step starts from the end of the one before, so the reactor's state needs
// no lock; only `cancelled_` is set from outside the chain (OnCancel).
//
// Memory: at most one chunk of results is held; a slow caller simply
// delays the next read. A running job's read stops at its first unfinished
// item (the stream ends there; resume from the last index seen + 1).
//
// Lifetime: `new` per call, `delete this` in OnDone, which gRPC runs after
// Finish; Finish is the last step of the chain, so no runner callback or
// write is outstanding then.
#include "server/api/batch_job_results_call.h"

#include <atomic>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "server/api/grpc_status.h"
#include "server/common/status_details.h"
#include "server/metrics/gateway_metrics.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::BatchJobResult;

// Results per store read: large enough to amortize the read, small enough
// to hold (each result is one answer, typically a few KiB).
constexpr int kChunk = 256;

class BatchJobResultsCall final : public grpc::ServerWriteReactor<BatchJobResult> {
 public:
  BatchJobResultsCall(const llmgateway::v1::ListBatchJobResultsRequest* request,
                      batch::JobRunner* runner, CallTracker* tracker, batch::Owner owner,
                      absl::Status authenticated)
      : runner_(runner),
        tracker_(tracker),
        id_(request->id()),
        owner_(std::move(owner)),
        next_(request->start_index()) {
    absl::Status checked = std::move(authenticated);
    if (!checked.ok()) {
      // A caller without a valid key learns nothing about the request.
    } else if (request->id().empty()) {
      checked = InvalidField("id", "is required");
    } else if (request->start_index() < 0) {
      checked = InvalidField("start_index", "must not be negative");
    } else {
      checked = tracker_->Enter();
    }
    if (!checked.ok()) {
      End(checked);
      return;
    }
    entered_ = true;
    Read();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      End(absl::CancelledError("the caller went away"));
      return;
    }
    ++position_;
    WriteOrRead();
  }

  void OnCancel() override { cancelled_ = true; }
  void OnDone() override { delete this; }

 private:
  void Read() {
    runner_->ReadResults(id_, owner_, next_, kChunk, [this](absl::StatusOr<batch::ResultsChunk> chunk) {
      if (!chunk.ok()) {
        End(chunk.status());
        return;
      }
      if (cancelled_) {
        End(absl::CancelledError("cancelled by the caller"));
        return;
      }
      chunk_ = std::move(chunk->results);
      position_ = 0;
      last_chunk_ = static_cast<int>(chunk_.size()) < kChunk;
      WriteOrRead();
    });
  }

  void WriteOrRead() {
    if (position_ < chunk_.size()) {
      StartWrite(&chunk_[position_]);
      return;
    }
    if (last_chunk_ || cancelled_) {
      End(cancelled_ ? absl::CancelledError("cancelled by the caller") : absl::OkStatus());
      return;
    }
    next_ = chunk_.back().index() + 1;
    Read();
  }

  void End(const absl::Status& status) {
    if (entered_) tracker_->Exit();
    metrics::RecordRpc("ListBatchJobResults", "", "", status.code(), absl::Now() - started_);
    Finish(ToGrpcStatus(status));  // last touch of `this`
  }

  const absl::Time started_ = absl::Now();
  batch::JobRunner* const runner_;
  CallTracker* const tracker_;
  const std::string id_;
  const batch::Owner owner_;  // whose jobs this caller may read
  int32_t next_;
  bool entered_ = false;
  std::atomic<bool> cancelled_{false};
  std::vector<BatchJobResult> chunk_;
  size_t position_ = 0;
  bool last_chunk_ = false;
};

}  // namespace

grpc::ServerWriteReactor<BatchJobResult>* StartBatchJobResultsCall(
    grpc::CallbackServerContext* context,
    const llmgateway::v1::ListBatchJobResultsRequest* request, batch::JobRunner* runner,
    CallTracker* tracker, batch::Owner owner, absl::Status authenticated) {
  return new BatchJobResultsCall(request, runner, tracker, std::move(owner),
                                 std::move(authenticated));
}

}  // namespace llmgateway
