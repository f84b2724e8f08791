// llmgateway.v1.Models: the configured model aliases, paginated; with caller
// auth, only those the caller's key may use.
#ifndef LLM_GATEWAY_SERVER_API_MODELS_SERVICE_H_
#define LLM_GATEWAY_SERVER_API_MODELS_SERVICE_H_

#include "llmgateway/v1/models.grpc.pb.h"
#include "server/auth/authorizer.h"
#include "server/routing/router.h"

namespace llmgateway {

class ModelsService final : public llmgateway::v1::Models::CallbackService {
 public:
  // `authorizer` may be null (auth off); both must outlive the service.
  ModelsService(const routing::Router* router, const auth::Authorizer* authorizer)
      : router_(router), authorizer_(authorizer) {}

  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const llmgateway::v1::ListModelsRequest* request,
                                       llmgateway::v1::ListModelsResponse* response) override;

 private:
  const routing::Router* const router_;
  const auth::Authorizer* const authorizer_;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_MODELS_SERVICE_H_
