#include "client/status.h"

#include "absl/strings/cord.h"

namespace llmgateway::client {

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // grpc::StatusCode and absl::StatusCode share the canonical numbering.
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  if (!status.error_details().empty()) {
    result.SetPayload(kRpcStatusPayload, absl::Cord(status.error_details()));
  }
  return result;
}

std::optional<google::rpc::Status> RpcStatusOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kRpcStatusPayload);
  if (!payload) return std::nullopt;
  google::rpc::Status rpc;
  if (!rpc.ParseFromString(std::string(*payload))) return std::nullopt;
  return rpc;
}

std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const absl::Status& status) {
  std::optional<google::rpc::Status> rpc = RpcStatusOf(status);
  if (!rpc) return std::nullopt;
  for (const auto& detail : rpc->details()) {
    google::rpc::ErrorInfo info;
    if (detail.UnpackTo(&info)) return info;
  }
  return std::nullopt;
}

}  // namespace llmgateway::client
