// llmgateway.v1.Generation on the gRPC callback API: no thread per call; each
// call is a reactor that waits for its upstream, woken by the HTTP loop.
#ifndef LLM_GATEWAY_SERVER_API_GENERATION_SERVICE_H_
#define LLM_GATEWAY_SERVER_API_GENERATION_SERVICE_H_

#include "llmgateway/v1/generation.grpc.pb.h"
#include "server/api/call_context.h"

namespace llmgateway {

class GenerationService final : public llmgateway::v1::Generation::CallbackService {
 public:
  // What `deps` points to must outlive the service.
  explicit GenerationService(GenerationDeps deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* Generate(grpc::CallbackServerContext* context,
                                     const llmgateway::v1::GenerateRequest* request,
                                     llmgateway::v1::GenerateResponse* response) override;

  grpc::ServerWriteReactor<llmgateway::v1::GenerateStreamResponse>* GenerateStream(
      grpc::CallbackServerContext* context,
      const llmgateway::v1::GenerateRequest* request) override;

  grpc::ServerWriteReactor<llmgateway::v1::BatchGenerateResponse>* BatchGenerate(
      grpc::CallbackServerContext* context,
      const llmgateway::v1::BatchGenerateRequest* request) override;

 private:
  const GenerationDeps deps_;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_GENERATION_SERVICE_H_
