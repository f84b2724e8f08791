// Drain accounting, request id and deadline of a generation RPC; validation
// and the log line of a one-request call.
#include "server/api/call_context.h"

#include <algorithm>
#include <chrono>

#include "absl/time/clock.h"
#include "server/api/authenticate.h"
#include "server/api/request_id.h"
#include "server/api/request_validation.h"
#include "server/common/call_log.h"
#include "server/metrics/gateway_metrics.h"

namespace llmgateway {

RpcScope::RpcScope(grpc::CallbackServerContext* context, CallTracker* tracker,
                   const auth::Authorizer* authorizer, int64_t request_bytes)
    : start_(absl::Now()),
      tracker_(tracker),
      request_bytes_(request_bytes),
      request_id_(AssignRequestId(context)) {
  // gRPC reports "no deadline" as time_point::max(), beyond absl::Time's range.
  if (context->deadline() != std::chrono::system_clock::time_point::max()) {
    deadline_ = absl::FromChrono(context->deadline());
  }
  admission_ = tracker_->Enter(request_bytes_);
  entered_ = admission_.ok();
  if (!entered_) return;
  absl::StatusOr<auth::Caller*> caller = AuthenticateCall(authorizer, context);
  if (caller.ok()) {
    caller_ = *caller;
  } else {
    admission_ = caller.status();
  }
}

RpcScope::~RpcScope() {
  if (entered_) tracker_->Exit(request_bytes_);
}

absl::string_view RpcScope::key_id() const {
  return caller_ == nullptr ? absl::string_view() : absl::string_view(caller_->id());
}

absl::Duration RpcScope::elapsed() const { return absl::Now() - start_; }

CallContext::CallContext(grpc::CallbackServerContext* context,
                         const llmgateway::v1::GenerateRequest& request, bool stream,
                         const GenerationDeps& deps)
    : model_(request.model()),
      scope_(context, deps.tracker, deps.authorizer,
             static_cast<int64_t>(request.ByteSizeLong())) {
  options_.stream = stream;
  options_.request_id = scope_.request_id();
  options_.deadline = scope_.deadline();
  status_ = scope_.admission();
  if (!status_.ok()) return;
  status_ = ValidateGenerateRequest(request);
  if (!status_.ok()) return;
  // Valid labels are plain label text: safe in the log line as they are.
  if (!request.labels().empty()) labels_ = &request.labels();
  if (auth::Caller* caller = scope_.caller(); caller != nullptr) {
    // A stream slot first: a refused stream must not spend a request.
    if (stream) {
      status_ = caller->OpenStream();
      stream_slot_ = status_.ok();
    }
    if (status_.ok()) status_ = caller->Admit(model_, absl::Now());
  }
}

CallContext::~CallContext() {
  if (stream_slot_) scope_.caller()->CloseStream();
}

void CallContext::Report(absl::string_view rpc, const absl::Status& status,
                      const llmgateway::v1::Usage* usage, int messages,
                      const routing::CallSummary& summary) const {
  // The model name and the error message are the caller's or the
  // upstream's text: the line's format escapes them. Never a prompt, never
  // a key (the engine has already scrubbed the provider key from messages).
  const absl::Duration elapsed = scope_.elapsed();
  CallLogRecord record;
  record.method = rpc;
  record.request_id = options_.request_id;
  record.key_id = scope_.key_id();
  record.model = model_;
  record.provider = summary.provider;
  record.code = status.code();
  record.error = status.message();
  record.latency_ms = absl::ToInt64Milliseconds(elapsed);
  if (usage != nullptr) {
    record.has_usage = true;
    record.input_tokens = usage->prompt_tokens();
    record.output_tokens = usage->completion_tokens();
  }
  record.messages = messages;
  if (labels_ != nullptr) {
    // Sorted: the same labels make the same line, whatever the map's order.
    record.labels.assign(labels_->begin(), labels_->end());
    std::sort(record.labels.begin(), record.labels.end());
  }
  record.attempts.reserve(summary.attempts.size());
  for (const routing::AttemptRecord& a : summary.attempts) {
    record.attempts.push_back(CallLogAttempt{a.provider, a.upstream_model, a.code,
                                             static_cast<int>(a.http_status),
                                             absl::ToInt64Milliseconds(a.elapsed),
                                             a.network_error});
  }
  LogCall(record);
  metrics::RecordRpc(rpc, model_, summary.provider, status.code(), elapsed);
  if (usage != nullptr) {
    metrics::RecordTokens(model_, summary.provider, usage->prompt_tokens(),
                          usage->completion_tokens());
  }
  if (auth::Caller* caller = scope_.caller(); caller != nullptr) {
    metrics::RecordKeyRequest(caller->id(), status.code());
    if (usage != nullptr) {
      caller->Charge(usage->prompt_tokens() + usage->completion_tokens(), absl::Now());
      metrics::RecordKeyTokens(caller->id(), usage->prompt_tokens(), usage->completion_tokens());
    }
  }
  for (const routing::AttemptRecord& a : summary.attempts) {
    metrics::RecordAttempt(a.provider, a.code);
  }
}

}  // namespace llmgateway
