// absl::Status -> google.rpc.Status, the wire form of an error with its
// details (ErrorInfo, RetryInfo, BadRequest as Anys). Used at the gRPC edge
// and wherever an error is a value: per-item errors of batches, stored
// results of batch jobs.
#ifndef LLM_GATEWAY_SERVER_COMMON_RPC_STATUS_H_
#define LLM_GATEWAY_SERVER_COMMON_RPC_STATUS_H_

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"

namespace llmgateway {

// An error without an ErrorInfo gets one whose reason is the code's name.
google::rpc::Status ToRpcStatus(const absl::Status& status);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_COMMON_RPC_STATUS_H_
