// gRPC lowercases metadata keys, so one lookup finds `Authorization` too.
#include "server/api/authenticate.h"

#include "server/common/status_details.h"
#include "server/metrics/gateway_metrics.h"

namespace llmgateway {

absl::StatusOr<auth::Caller*> AuthenticateCall(const auth::Authorizer* authorizer,
                                               const grpc::CallbackServerContext* context) {
  if (authorizer == nullptr || !authorizer->enabled()) return nullptr;
  absl::optional<absl::string_view> authorization;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization = absl::string_view(it->second.data(), it->second.size());
  }
  absl::StatusOr<auth::Caller*> caller = authorizer->Authenticate(authorization);
  if (!caller.ok()) {
    const auto info = GetErrorInfo(caller.status());
    metrics::RecordAuthFailure(info.has_value() ? info->reason() : "UNKNOWN");
  }
  return caller;
}

}  // namespace llmgateway
