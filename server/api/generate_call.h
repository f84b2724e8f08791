// The reactor of one unary Generate call.
#ifndef LLM_GATEWAY_SERVER_API_GENERATE_CALL_H_
#define LLM_GATEWAY_SERVER_API_GENERATE_CALL_H_

#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/api/call_context.h"

namespace llmgateway {

// Starts the call; the reactor frees itself when gRPC is done with it.
grpc::ServerUnaryReactor* StartGenerateCall(grpc::CallbackServerContext* context,
                                            const llmgateway::v1::GenerateRequest* request,
                                            llmgateway::v1::GenerateResponse* response,
                                            const GenerationDeps& deps);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_GENERATE_CALL_H_
