// gRPC status <-> absl::Status for the client library, keeping the gateway's
// google.rpc details (ErrorInfo reason, RetryInfo) reachable by callers.
#ifndef LLM_GATEWAY_CLIENT_STATUS_H_
#define LLM_GATEWAY_CLIENT_STATUS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"

namespace llmgateway::client {

// The payload URL under which FromGrpcStatus keeps the serialized
// google.rpc.Status of a failed call.
inline constexpr char kRpcStatusPayload[] = "type.googleapis.com/google.rpc.Status";

absl::Status FromGrpcStatus(const grpc::Status& status);

// The google.rpc.Status a failed call carried, if any.
std::optional<google::rpc::Status> RpcStatusOf(const absl::Status& status);

// The ErrorInfo among its details (the gateway sends one with every error).
std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const absl::Status& status);

}  // namespace llmgateway::client

#endif  // LLM_GATEWAY_CLIENT_STATUS_H_
