// A request gRPC could not deserialize (truncated protobuf, invalid UTF-8 in
// a string field, nesting past protobuf's depth limit) is answered by gRPC
// 1.51's callback API with UNIMPLEMENTED and an empty message, and protobuf
// writes its reason to stderr. This interceptor turns that into
// INVALID_ARGUMENT (reason MALFORMED_REQUEST) saying what could not be
// parsed, with a log line for the call.
#ifndef LLM_GATEWAY_SERVER_API_MALFORMED_REQUEST_H_
#define LLM_GATEWAY_SERVER_API_MALFORMED_REQUEST_H_

#include <memory>

#include "grpcpp/support/server_interceptor.h"

namespace llmgateway {

// Routes protobuf's log messages into the gateway's log, and keeps the last
// one a thread logged so the interceptor can say why its request failed to
// parse. Call once at start-up, before serving.
void InstallProtobufLogHandler();

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MalformedRequestInterceptorFactory();

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_MALFORMED_REQUEST_H_
