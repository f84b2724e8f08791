// Generation's methods hand each call to its reactor.
#include "server/api/generation_service.h"

#include "server/api/batch_generate_call.h"
#include "server/api/generate_call.h"
#include "server/api/generate_stream_call.h"

namespace llmgateway {

grpc::ServerUnaryReactor* GenerationService::Generate(
    grpc::CallbackServerContext* context, const llmgateway::v1::GenerateRequest* request,
    llmgateway::v1::GenerateResponse* response) {
  return StartGenerateCall(context, request, response, deps_);
}

grpc::ServerWriteReactor<llmgateway::v1::GenerateStreamResponse>*
GenerationService::GenerateStream(grpc::CallbackServerContext* context,
                                  const llmgateway::v1::GenerateRequest* request) {
  return StartGenerateStreamCall(context, request, deps_);
}

grpc::ServerWriteReactor<llmgateway::v1::BatchGenerateResponse>*
GenerationService::BatchGenerate(grpc::CallbackServerContext* context,
                                 const llmgateway::v1::BatchGenerateRequest* request) {
  return StartBatchGenerateCall(context, request, deps_);
}

}  // namespace llmgateway
