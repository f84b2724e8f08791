// Every call's request id: the caller's `x-request-id` metadata when it is
// sane, else a new one. Returned in initial metadata, logged, sent upstream.
#ifndef LLM_GATEWAY_SERVER_API_REQUEST_ID_H_
#define LLM_GATEWAY_SERVER_API_REQUEST_ID_H_

#include <string>

#include "grpcpp/server_context.h"

namespace llmgateway {

inline constexpr char kRequestIdHeader[] = "x-request-id";

// Reads or mints the id and adds it to the call's initial metadata.
std::string AssignRequestId(grpc::CallbackServerContext* context);

// A new random id (UUID v4 text).
std::string NewRequestId();

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_REQUEST_ID_H_
