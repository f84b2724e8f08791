// Request id, validation, routing and deadline of a generation call.
#include "server/api/call_context.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/api/request_id.h"
#include "server/api/request_validation.h"
#include "server/common/status_details.h"

namespace llmgateway {

CallContext::CallContext(grpc::CallbackServerContext* context,
                         const llmgateway::v1::GenerateRequest& request,
                         const Router* router)
    : model_(request.model()), start_(absl::Now()) {
  options_.request_id = AssignRequestId(context);
  // gRPC reports "no deadline" as time_point::max(), beyond absl::Time's range.
  if (context->deadline() != std::chrono::system_clock::time_point::max()) {
    options_.deadline = absl::FromChrono(context->deadline());
  }
  status_ = ValidateGenerateRequest(request);
  if (!status_.ok()) return;
  // Routing is one attempt at the requested model for now: an attempt
  // timeout bounds it like a deadline, max_attempts >= 1 is met; fallbacks
  // would be silently skipped, so they are refused until routing tries them.
  if (!request.routing().fallback_models().empty()) {
    status_ = WithErrorInfo(
        absl::UnimplementedError("routing.fallback_models: fallbacks are not built yet"),
        "UNIMPLEMENTED", {{kMetaField, "routing.fallback_models"}});
    return;
  }
  if (request.routing().has_attempt_timeout()) {
    const google::protobuf::Duration& timeout = request.routing().attempt_timeout();
    options_.deadline = std::min(
        options_.deadline,
        start_ + absl::Seconds(timeout.seconds()) + absl::Nanoseconds(timeout.nanos()));
  }
  absl::StatusOr<Route> route = router->Resolve(request.model());
  if (!route.ok()) {
    status_ = route.status();
    return;
  }
  provider_ = route->provider;
  options_.upstream_model = std::move(route->upstream_model);
}

void CallContext::Log(absl::string_view rpc, const absl::Status& status,
                      const llmgateway::v1::Usage* usage, int messages) const {
  // Escaped: the model name is the caller's text and must not be able to
  // forge log lines. Never a prompt, never a key.
  std::string line = absl::StrCat(
      "rpc=", rpc, " request_id=", options_.request_id, " model=", absl::CHexEscape(model_),
      " provider=", provider_ != nullptr ? absl::string_view(provider_->name()) : "-",
      " code=", absl::StatusCodeToString(status.code()),
      " ms=", absl::ToInt64Milliseconds(absl::Now() - start_));
  if (usage != nullptr) {
    absl::StrAppend(&line, " prompt_tokens=", usage->prompt_tokens(),
                    " completion_tokens=", usage->completion_tokens());
  }
  if (messages >= 0) absl::StrAppend(&line, " messages=", messages);
  if (status.ok()) {
    LogInfo(line);
  } else {
    // upstream_error has already redacted the provider key from messages.
    LogWarning(line, " error=\"", absl::CHexEscape(status.message()), "\"");
  }
}

}  // namespace llmgateway
