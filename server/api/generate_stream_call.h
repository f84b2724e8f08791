// The reactor of one GenerateStream call: upstream SSE deltas relayed to the
// caller as they arrive, with backpressure, cancellation and deadlines.
#ifndef LLM_GATEWAY_SERVER_API_GENERATE_STREAM_CALL_H_
#define LLM_GATEWAY_SERVER_API_GENERATE_STREAM_CALL_H_

#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/api/call_context.h"

namespace llmgateway {

// Starts the call; the reactor frees itself when gRPC is done with it.
grpc::ServerWriteReactor<llmgateway::v1::GenerateStreamResponse>* StartGenerateStreamCall(
    grpc::CallbackServerContext* context, const llmgateway::v1::GenerateRequest* request,
    const GenerationDeps& deps);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_GENERATE_STREAM_CALL_H_
