// Alias resolution and the model list.
#include "server/routing/router.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"

namespace llmgateway {

Router::Router(const config::GatewayConfig& config,
               absl::flat_hash_map<std::string, Provider*> providers)
    : providers_(std::move(providers)) {
  for (const config::ModelAlias& alias : config.models()) {
    aliases_[alias.name()] = Route{providers_.at(alias.provider()), alias.upstream_model()};
    llmgateway::v1::Model& model = models_.emplace_back();
    model.set_name(alias.name());
    model.set_provider(alias.provider());
    model.set_upstream_model(alias.upstream_model());
    model.mutable_fallbacks()->CopyFrom(alias.fallbacks());
  }
  std::sort(models_.begin(), models_.end(),
            [](const auto& a, const auto& b) { return a.name() < b.name(); });
  if (!config.default_provider().empty()) {
    default_provider_ = providers_.at(config.default_provider());
  }
}

absl::StatusOr<Route> Router::Resolve(absl::string_view model) const {
  if (auto it = aliases_.find(model); it != aliases_.end()) return it->second;
  if (default_provider_ != nullptr) return Route{default_provider_, std::string(model)};
  return WithErrorInfo(
      absl::NotFoundError(absl::StrCat("model \"", model,
                                       "\" is not configured (see ListModels)")),
      "MODEL_NOT_FOUND", {{kMetaModel, model}});
}

}  // namespace llmgateway
