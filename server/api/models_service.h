// llmgateway.v1.Models: the configured model aliases, paginated.
#ifndef LLM_GATEWAY_SERVER_API_MODELS_SERVICE_H_
#define LLM_GATEWAY_SERVER_API_MODELS_SERVICE_H_

#include "llmgateway/v1/models.grpc.pb.h"
#include "server/routing/router.h"

namespace llmgateway {

class ModelsService final : public llmgateway::v1::Models::CallbackService {
 public:
  explicit ModelsService(const routing::Router* router) : router_(router) {}

  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const llmgateway::v1::ListModelsRequest* request,
                                       llmgateway::v1::ListModelsResponse* response) override;

 private:
  const routing::Router* const router_;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_MODELS_SERVICE_H_
