// The reactor of one BatchGenerate call: a list of GenerateRequests run now,
// at most `max_concurrency` upstream calls at once, each result streamed back
// (with its index) as soon as it completes, in completion order.
//
// max_concurrency: 0 takes GenerationDeps::batch_default_concurrency; a
// value above GenerationDeps::batch_max_concurrency is clamped to it (not
// refused: the cap is the gateway's business, and the answers are the same);
// a negative one is INVALID_ARGUMENT, as is an empty `requests`. One item's
// failure (validation or upstream) is that item's `error`, never the RPC's:
// the RPC is OK once every item has been reported.
#ifndef LLM_GATEWAY_SERVER_API_BATCH_GENERATE_CALL_H_
#define LLM_GATEWAY_SERVER_API_BATCH_GENERATE_CALL_H_

#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/api/call_context.h"

namespace llmgateway {

// Starts the call; the reactor frees itself when gRPC is done with it.
// `request` is gRPC's, alive until then.
grpc::ServerWriteReactor<llmgateway::v1::BatchGenerateResponse>* StartBatchGenerateCall(
    grpc::CallbackServerContext* context, const llmgateway::v1::BatchGenerateRequest* request,
    const GenerationDeps& deps);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_BATCH_GENERATE_CALL_H_
