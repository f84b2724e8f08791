// The BatchGenerate reactor.
//
// gRPC concerns and the fan-out only: each item is an ordinary unary call of
// the call engine, with its own attempts, retries and fallbacks, its own
// X-Request-Id (the RPC's id plus "-<index>") and the RPC's deadline.
//
// Threads: items report (OnResponse, OnComplete) on the HTTP loop thread;
// OnWriteDone, OnCancel and OnDone come from gRPC's threads. All shared
// state is under mu_. Engine calls are started and cancelled under mu_:
// both only post to the HTTP loop, which never calls an observer inline.
// Items start from the constructor, from an item's completion (an upstream
// slot is free) and from OnWriteDone (a buffer slot is free).
//
// Backpressure: an item starts only while fewer than max_concurrency items
// run and fewer than max_concurrency results wait to be written. A result
// waits from its completion until gRPC reports its write done, and at most
// one write is in flight. So the upstream never sees more than
// max_concurrency calls of this RPC; a caller that reads at speed never
// holds a slot back (a completed item's slot starts the next item at once,
// while its result queues); and a caller that stops reading holds at most
// 2 x max_concurrency results here (plus what its HTTP/2 window took) while
// the rest of the batch waits unstarted, costing nothing but the request
// gRPC already holds.
//
// Lifetime: `new` per call, `delete this` in OnDone. The reactor owns each
// running item's observer (Item) and frees it in that item's OnComplete,
// after which the engine never touches it (the engine keeps its own call
// alive through the callback). Finish is called exactly once, only when no
// item is running (so no engine callback can follow OnDone, and the
// requests the items point into, which gRPC owns until OnDone, outlive every
// engine call) and no write is in flight, and always outside mu_ as the
// very last touch of `this` (OnDone may run on another thread at once).
// The constructor starts the first items under mu_ before gRPC has bound the
// reactor: they may complete on the loop thread at once, but wait for mu_,
// and gRPC holds a write started before binding until it binds.
//
// Cancellation: OnCancel, or a failed write (caller gone, deadline passed),
// cancels every running item and starts no more; their results are
// dropped, and the last of them to complete finishes the RPC (CANCELLED).
#include "server/api/batch_generate_call.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/api/grpc_status.h"
#include "server/api/request_validation.h"
#include "server/common/call_log.h"
#include "server/common/log.h"
#include "server/common/rpc_status.h"
#include "server/common/status_details.h"
#include "server/metrics/gateway_metrics.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::BatchGenerateRequest;
using ::llmgateway::v1::BatchGenerateResponse;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;

// What makes the whole RPC fail; anything wrong with one item is its own.
absl::Status ValidateBatch(const BatchGenerateRequest& request) {
  if (request.requests().empty()) return InvalidField("requests", "must not be empty");
  if (request.max_concurrency() < 0) {
    return InvalidField("max_concurrency", "must not be negative");
  }
  return absl::OkStatus();
}

// Calls at once: the request's, else the default, never above the cap
// (clamped rather than refused) and never below 1, whatever the config.
int EffectiveConcurrency(int requested, const GenerationDeps& deps) {
  const int cap = std::max(1, deps.batch_max_concurrency);
  const int wanted = requested > 0 ? requested : deps.batch_default_concurrency;
  return std::clamp(wanted, 1, cap);
}

class BatchGenerateCall final : public grpc::ServerWriteReactor<BatchGenerateResponse> {
 public:
  BatchGenerateCall(grpc::CallbackServerContext* context, const BatchGenerateRequest* request,
                    const GenerationDeps& deps)
      : scope_(context, deps.tracker, deps.authorizer,
               static_cast<int64_t>(request->ByteSizeLong())),
        batch_(*request),
        engine_(deps.engine),
        concurrency_(EffectiveConcurrency(request->max_concurrency(), deps)) {
    absl::Status status = scope_.admission();
    if (status.ok()) status = ValidateBatch(*request);
    if (!status.ok()) {
      // No items, no writes: finish at once.
      finished_ = true;
      Report(status);
      Finish(ToGrpcStatus(status));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    StartItemsLocked();
  }

  // Caller side (gRPC threads).

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    queue_.pop_front();
    if (!ok) CallerGoneLocked();
    StartItemsLocked();
    MaybeFinishUnlocked(std::move(lock));
  }

  void OnCancel() override {
    std::unique_lock<std::mutex> lock(mu_);
    CallerGoneLocked();
    MaybeFinishUnlocked(std::move(lock));
  }

  void OnDone() override { delete this; }

 private:
  // One request's engine call: the observer the engine reports to, owned by
  // the reactor while the call runs.
  struct Item final : routing::CallObserver {
    Item(BatchGenerateCall* call, int index, const std::string& model)
        : call(call), index(index), model(model) {}

    void OnResponse(GenerateResponse&& answer) override {
      // Pointer swaps: the parsed answer becomes the result, no copy.
      response.Swap(&answer);
    }

    void OnComplete(absl::Status status, routing::CallSummary summary) override {
      for (const routing::AttemptRecord& a : summary.attempts) {
        metrics::RecordAttempt(a.provider, a.code);
      }
      if (status.ok()) {
        const int64_t prompt = response.usage().prompt_tokens();
        const int64_t completion = response.usage().completion_tokens();
        metrics::RecordTokens(model, summary.provider, prompt, completion);
        if (auth::Caller* caller = call->scope_.caller(); caller != nullptr) {
          caller->Charge(prompt + completion, absl::Now());
          metrics::RecordKeyTokens(caller->id(), prompt, completion);
        }
      }
      // Frees `this`: nothing may follow.
      call->OnItemComplete(index, std::move(status));
    }

    BatchGenerateCall* const call;
    const int index;
    const std::string& model;  // the request's, which gRPC keeps
    // Loop thread only, until OnComplete hands it over under mu_.
    GenerateResponse response;
    // Under call->mu_.
    std::shared_ptr<routing::CallHandle> handle;
  };

  // Engine side (HTTP loop thread).
  void OnItemComplete(int index, absl::Status status) {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = running_.find(index);
    std::unique_ptr<Item> item = std::move(it->second);
    running_.erase(it);
    if (status.ok()) {
      ++ok_;
    } else {
      ++failed_;
    }
    if (!caller_gone_) {
      metrics::RecordBatchItem(status.ok());
      BatchGenerateResponse& result = queue_.emplace_back();
      result.set_index(index);
      if (status.ok()) {
        result.mutable_response()->Swap(&item->response);
      } else {
        *result.mutable_error() = ToRpcStatus(status);
      }
    }
    item.reset();
    StartItemsLocked();
    MaybeFinishUnlocked(std::move(lock));
  }

  // Starts items while the backpressure rule allows, then a write if none
  // is in flight.
  void StartItemsLocked() {
    while (!caller_gone_ && next_ < batch_.requests_size() &&
           static_cast<int>(running_.size()) < concurrency_ &&
           static_cast<int>(queue_.size()) < concurrency_) {
      const int index = next_++;
      const GenerateRequest& request = batch_.requests(index);
      absl::Status valid = ValidateGenerateRequest(request);
      // Each item is one model call of the caller's key: its own error when
      // the key may not make it (the model, a limit).
      if (valid.ok() && scope_.caller() != nullptr) {
        valid = scope_.caller()->Admit(request.model(), absl::Now());
        metrics::RecordKeyRequest(scope_.caller()->id(), valid.code());
      }
      if (!valid.ok()) {
        ++failed_;
        metrics::RecordBatchItem(false);
        BatchGenerateResponse& result = queue_.emplace_back();
        result.set_index(index);
        *result.mutable_error() = ToRpcStatus(valid);
        continue;
      }
      routing::CallOptions options;
      options.request_id = absl::StrCat(scope_.request_id(), "-", index);
      options.deadline = scope_.deadline();
      auto item = std::make_unique<Item>(this, index, request.model());
      // Only posts to the HTTP loop: fine under the lock, and the item's
      // completion waits for it.
      item->handle = engine_->Start(&request, std::move(options), item.get());
      running_.emplace(index, std::move(item));
    }
    if (!writing_ && !queue_.empty()) {
      writing_ = true;
      StartWrite(&queue_.front());
    }
  }

  // The caller is gone (cancelled, disconnected, deadline): stop everything;
  // the running items' completions finish the RPC.
  void CallerGoneLocked() {
    if (caller_gone_) return;
    caller_gone_ = true;
    // The result being written stays until its OnWriteDone.
    queue_.erase(writing_ ? queue_.begin() + 1 : queue_.begin(), queue_.end());
    // Cancel only posts to the HTTP loop: fine under the lock.
    for (auto& entry : running_) entry.second->handle->Cancel();
  }

  void MaybeFinishUnlocked(std::unique_lock<std::mutex> lock) {
    if (finished_ || writing_ || !running_.empty()) return;
    if (!caller_gone_ && (next_ < batch_.requests_size() || !queue_.empty())) return;
    finished_ = true;
    const absl::Status status =
        caller_gone_ ? absl::CancelledError("the caller went away") : absl::OkStatus();
    // Logged outside mu_: once finished, the counts it reads stay put.
    lock.unlock();
    Report(status);
    Finish(ToGrpcStatus(status));
  }

  // The RPC's log line and metrics: ok/failed count the items that
  // completed (validation failures and, after a cancel, cancelled items are
  // failed); never a prompt.
  void Report(const absl::Status& status) const {
    metrics::RecordRpc("BatchGenerate", "", "", status.code(), scope_.elapsed());
    RpcLogRecord record;
    record.method = "BatchGenerate";
    record.request_id = scope_.request_id();
    record.key_id = scope_.key_id();
    record.code = status.code();
    record.error = status.message();
    record.latency_ms = absl::ToInt64Milliseconds(scope_.elapsed());
    record.fields = {{"items", absl::StrCat(batch_.requests_size()), true},
                     {"max_concurrency", absl::StrCat(concurrency_), true},
                     {"ok", absl::StrCat(ok_), true},
                     {"failed", absl::StrCat(failed_), true}};
    LogRpc(record);
  }

  const RpcScope scope_;
  const BatchGenerateRequest& batch_;
  routing::CallEngine* const engine_;
  const int concurrency_;

  std::mutex mu_;
  // The next item to start; those before it have started or failed.
  int next_ = 0;
  // Items whose engine call has not completed, by index.
  std::map<int, std::unique_ptr<Item>> running_;
  // Results not yet written; while writing_, front() is the one in flight.
  // (std::deque keeps element addresses stable as it grows at the back.)
  std::deque<BatchGenerateResponse> queue_;
  bool writing_ = false;
  bool caller_gone_ = false;
  bool finished_ = false;
  int ok_ = 0;
  int failed_ = 0;
};

}  // namespace

grpc::ServerWriteReactor<BatchGenerateResponse>* StartBatchGenerateCall(
    grpc::CallbackServerContext* context, const BatchGenerateRequest* request,
    const GenerationDeps& deps) {
  return new BatchGenerateCall(context, request, deps);
}

}  // namespace llmgateway
