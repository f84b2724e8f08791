// The gRPC edge of the error model: an absl::Status from inside the server
// becomes a grpc::Status whose google.rpc.Status details carry every payload
// (ErrorInfo, RetryInfo, BadRequest) as an Any. The one place codes cross.
#ifndef LLM_GATEWAY_SERVER_API_GRPC_STATUS_H_
#define LLM_GATEWAY_SERVER_API_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"

namespace llmgateway {

// The google.rpc.Status form (also used for per-item errors in batches).
// An error without an ErrorInfo gets one whose reason is the code's name.
google::rpc::Status ToRpcStatus(const absl::Status& status);

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_GRPC_STATUS_H_
