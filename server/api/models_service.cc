// ListModels. The page token is the last name of the previous page: the list
// is sorted by name, so a token stays meaningful across config reloads.
#include "server/api/models_service.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "server/api/authenticate.h"
#include "server/api/grpc_status.h"
#include "server/common/status_details.h"

namespace llmgateway {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

}  // namespace

grpc::ServerUnaryReactor* ModelsService::ListModels(
    grpc::CallbackServerContext* context, const llmgateway::v1::ListModelsRequest* request,
    llmgateway::v1::ListModelsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::StatusOr<auth::Caller*> caller = AuthenticateCall(authorizer_, context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (request->page_size() < 0) {
    reactor->Finish(ToGrpcStatus(InvalidField("page_size", "must not be negative")));
    return reactor;
  }
  std::string after;
  if (!request->page_token().empty() &&
      !absl::WebSafeBase64Unescape(request->page_token(), &after)) {
    reactor->Finish(ToGrpcStatus(InvalidField("page_token", "is not a token from ListModels")));
    return reactor;
  }
  const int page_size = request->page_size() == 0
                            ? kDefaultPageSize
                            : std::min(request->page_size(), kMaxPageSize);
  const auto& models = router_->models();
  auto it = request->page_token().empty()
                ? models.begin()
                : std::upper_bound(models.begin(), models.end(), after,
                                   [](const std::string& name, const v1::Model& model) {
                                     return name < model.name();
                                   });
  for (; it != models.end() && response->models_size() < page_size; ++it) {
    if (*caller != nullptr && !(*caller)->CheckModel(it->name()).ok()) continue;
    *response->add_models() = *it;
  }
  if (it != models.end()) {
    response->set_next_page_token(absl::WebSafeBase64Escape(response->models().rbegin()->name()));
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace llmgateway
