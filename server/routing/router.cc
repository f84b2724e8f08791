// Plans, and the model list.
#include "server/routing/router.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"

namespace llmgateway::routing {
namespace {

absl::Status ModelNotFound(absl::string_view model) {
  return WithErrorInfo(absl::NotFoundError(absl::StrCat(
                           "model \"", model, "\" is not configured (see ListModels)")),
                       "MODEL_NOT_FOUND", {{kMetaModel, model}});
}

}  // namespace

RouterOptions RouterOptionsFromConfig(const config::GatewayConfig& config) {
  RouterOptions options;
  options.retry = MergePolicy(RetryPolicy(), config.retry());
  if (config.cooldown().failures() > 0) options.cooldown.failures = config.cooldown().failures();
  if (config.cooldown().has_period()) options.cooldown.period = FromProto(config.cooldown().period());
  if (config.max_queued_requests() > 0) options.max_queued_requests = config.max_queued_requests();
  return options;
}

Router::Router(const config::GatewayConfig& config,
               absl::flat_hash_map<std::string, const Adapter*> adapters)
    : options_(RouterOptionsFromConfig(config)),
      queue_budget_(options_.max_queued_requests) {
  for (const config::Provider& provider : config.providers()) {
    auto route = std::make_unique<ProviderRoute>();
    route->adapter = adapters.at(provider.name());
    if (provider.has_timeout()) route->timeout = FromProto(provider.timeout());
    if (provider.has_connect_timeout()) route->connect_timeout = FromProto(provider.connect_timeout());
    route->ca_file = provider.ca_file();
    route->admission = std::make_unique<Admission>(provider.max_connections(), &queue_budget_);
    providers_[provider.name()] = std::move(route);
  }
  for (const config::ModelAlias& alias : config.models()) {
    Alias& entry = aliases_[alias.name()];
    entry.retry = MergePolicy(options_.retry, alias.retry());
    entry.fallbacks.assign(alias.fallbacks().begin(), alias.fallbacks().end());
    auto add_target = [&](const std::string& provider, const std::string& upstream_model,
                          int weight) {
      auto target = std::make_unique<Target>();
      target->provider = providers_.at(provider).get();
      target->upstream_model = upstream_model.empty()
                                   ? (alias.upstream_model().empty() ? alias.name()
                                                                     : alias.upstream_model())
                                   : upstream_model;
      target->weight = weight > 0 ? weight : 1;
      target->health = std::make_unique<TargetHealth>(options_.cooldown);
      entry.targets.push_back(std::move(target));
    };
    if (alias.deployments().empty()) {
      add_target(alias.provider(), alias.upstream_model(), 1);
    }
    for (const config::Deployment& deployment : alias.deployments()) {
      add_target(deployment.provider(), deployment.upstream_model(), deployment.weight());
    }

    llmgateway::v1::Model& model = models_.emplace_back();
    model.set_name(alias.name());
    // The first deployment stands for the alias in the list.
    model.set_provider(alias.deployments().empty() ? alias.provider()
                                                   : alias.deployments(0).provider());
    model.set_upstream_model(entry.targets.front()->upstream_model);
    model.mutable_fallbacks()->CopyFrom(alias.fallbacks());
  }
  std::sort(models_.begin(), models_.end(),
            [](const auto& a, const auto& b) { return a.name() < b.name(); });
  if (!config.default_provider().empty()) {
    default_provider_ = providers_.at(config.default_provider()).get();
  }
}

absl::Status Router::AddGroup(absl::string_view model, bool with_fallbacks, Plan* plan) {
  for (const TargetGroup& group : plan->groups) {
    if (group.model == model) return absl::OkStatus();
  }
  if (auto it = aliases_.find(model); it != aliases_.end()) {
    TargetGroup& group = plan->groups.emplace_back();
    group.model = std::string(model);
    group.retry = it->second.retry;
    for (const auto& target : it->second.targets) group.targets.push_back(target.get());
    if (with_fallbacks) {
      // A fallback's own fallbacks are not followed: the plan stays what
      // the config says, not a graph walk.
      for (const std::string& fallback : it->second.fallbacks) {
        if (absl::Status s = AddGroup(fallback, false, plan); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }
  if (default_provider_ == nullptr) return ModelNotFound(model);
  auto target = std::make_unique<Target>();
  target->provider = default_provider_;
  target->upstream_model = std::string(model);
  TargetGroup& group = plan->groups.emplace_back();
  group.model = std::string(model);
  group.retry = options_.retry;
  group.targets.push_back(target.get());
  plan->owned.push_back(std::move(target));
  return absl::OkStatus();
}

absl::StatusOr<Plan> Router::MakePlan(const llmgateway::v1::GenerateRequest& request) {
  Plan plan;
  if (absl::Status s = AddGroup(request.model(), true, &plan); !s.ok()) return s;
  const auto& fallbacks = request.routing().fallback_models();
  for (int i = 0; i < fallbacks.size(); ++i) {
    if (absl::Status s = AddGroup(fallbacks[i], false, &plan); !s.ok()) {
      return WithErrorMetadata(std::move(s), kMetaField,
                               absl::StrCat("routing.fallback_models[", i, "]"));
    }
  }
  return plan;
}

}  // namespace llmgateway::routing
