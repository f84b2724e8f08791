// The gRPC edge of the error model: an absl::Status from inside the server
// becomes a grpc::Status whose google.rpc.Status details carry every payload
// (ErrorInfo, RetryInfo, BadRequest) as an Any. The one place codes cross.
#ifndef LLM_GATEWAY_SERVER_API_GRPC_STATUS_H_
#define LLM_GATEWAY_SERVER_API_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "server/common/rpc_status.h"  // ToRpcStatus, for per-item errors

namespace llmgateway {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_GRPC_STATUS_H_
