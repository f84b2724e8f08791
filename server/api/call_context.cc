// Drain accounting, request id and deadline of a generation RPC; validation
// and the log line of a one-request call.
#include "server/api/call_context.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/api/request_id.h"
#include "server/api/request_validation.h"
#include "server/common/log.h"
#include "server/metrics/gateway_metrics.h"

namespace llmgateway {

RpcScope::RpcScope(grpc::CallbackServerContext* context, CallTracker* tracker)
    : start_(absl::Now()), tracker_(tracker), request_id_(AssignRequestId(context)) {
  // gRPC reports "no deadline" as time_point::max(), beyond absl::Time's range.
  if (context->deadline() != std::chrono::system_clock::time_point::max()) {
    deadline_ = absl::FromChrono(context->deadline());
  }
  admission_ = tracker_->Enter();
}

RpcScope::~RpcScope() {
  if (admission_.ok()) tracker_->Exit();
}

absl::Duration RpcScope::elapsed() const { return absl::Now() - start_; }

CallContext::CallContext(grpc::CallbackServerContext* context,
                         const llmgateway::v1::GenerateRequest& request, bool stream,
                         CallTracker* tracker)
    : model_(request.model()), scope_(context, tracker) {
  options_.stream = stream;
  options_.request_id = scope_.request_id();
  options_.deadline = scope_.deadline();
  status_ = scope_.admission();
  if (!status_.ok()) return;
  status_ = ValidateGenerateRequest(request);
  // Valid labels are plain label text: safe in the log line as they are.
  if (status_.ok() && !request.labels().empty()) labels_ = &request.labels();
}

void CallContext::Report(absl::string_view rpc, const absl::Status& status,
                      const llmgateway::v1::Usage* usage, int messages,
                      const routing::CallSummary& summary) const {
  // Escaped: the model name is the caller's text and must not be able to
  // forge log lines. Never a prompt, never a key.
  std::string line = absl::StrCat(
      "rpc=", rpc, " request_id=", options_.request_id, " model=", absl::CHexEscape(model_),
      " provider=", summary.provider.empty() ? "-" : summary.provider,
      " code=", absl::StatusCodeToString(status.code()),
      " ms=", absl::ToInt64Milliseconds(scope_.elapsed()));
  if (usage != nullptr) {
    absl::StrAppend(&line, " prompt_tokens=", usage->prompt_tokens(),
                    " completion_tokens=", usage->completion_tokens());
  }
  if (messages >= 0) absl::StrAppend(&line, " messages=", messages);
  if (labels_ != nullptr) {
    // Sorted: the same labels make the same text, whatever the map's order.
    std::vector<std::pair<absl::string_view, absl::string_view>> sorted(labels_->begin(),
                                                                        labels_->end());
    std::sort(sorted.begin(), sorted.end());
    absl::StrAppend(&line, " labels=");
    for (size_t i = 0; i < sorted.size(); ++i) {
      absl::StrAppend(&line, i == 0 ? "" : ",", sorted[i].first, ":", sorted[i].second);
    }
  }
  // Every upstream request the call made: provider/model:outcome/http:ms.
  absl::StrAppend(&line, " attempts=", summary.attempts.size());
  for (size_t i = 0; i < summary.attempts.size(); ++i) {
    const routing::AttemptRecord& a = summary.attempts[i];
    absl::StrAppend(&line, i == 0 ? " [" : ",", a.provider, "/",
                    absl::CHexEscape(a.upstream_model), ":",
                    absl::StatusCodeToString(a.code), "/", a.http_status, ":",
                    absl::ToInt64Milliseconds(a.elapsed), "ms");
  }
  if (!summary.attempts.empty()) line += "]";
  if (status.ok()) {
    LogInfo(line);
  } else {
    // The engine has already scrubbed the provider key from messages.
    LogWarning(line, " error=\"", absl::CHexEscape(status.message()), "\"");
  }
  metrics::RecordRpc(rpc, model_, summary.provider, status.code(), scope_.elapsed());
  if (usage != nullptr) {
    metrics::RecordTokens(model_, summary.provider, usage->prompt_tokens(),
                          usage->completion_tokens());
  }
  for (const routing::AttemptRecord& a : summary.attempts) {
    metrics::RecordAttempt(a.provider, a.code);
  }
}

}  // namespace llmgateway
