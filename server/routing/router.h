// Model name -> the ordered plan of targets a call may try: the alias's
// deployments, then each of its fallback aliases' deployments, then the
// request's routing.fallback_models; a name that is no alias passes through
// unchanged to the default provider. Owns the per-target health and the
// per-provider admission queues that the engine updates.
//
// Threads: models() is read-only and may be called from any thread; Plan()
// and everything it hands out are for the HTTP loop thread only.
#ifndef LLM_GATEWAY_SERVER_ROUTING_ROUTER_H_
#define LLM_GATEWAY_SERVER_ROUTING_ROUTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "llmgateway/v1/generation.pb.h"
#include "llmgateway/v1/models.pb.h"
#include "server/config/config.pb.h"
#include "server/providers/adapter.h"
#include "server/routing/admission.h"
#include "server/routing/retry_policy.h"
#include "server/routing/target_health.h"

namespace llmgateway::routing {

// One configured provider, as attempts need it.
struct ProviderRoute {
  const Adapter* adapter = nullptr;
  absl::Duration timeout = absl::InfiniteDuration();
  absl::Duration connect_timeout = absl::Seconds(10);
  // Provider.ca_file ("": the system's trust store).
  std::string ca_file;
  std::unique_ptr<Admission> admission;
};

// One place a call can go: a provider and the model name it knows.
struct Target {
  ProviderRoute* provider = nullptr;
  std::string upstream_model;
  int weight = 1;
  // Null for pass-through targets: a model name the caller made up must not
  // put the provider in cooldown for everyone else.
  std::unique_ptr<TargetHealth> health;
};

// One model's targets (an alias's deployments, or one pass-through).
struct TargetGroup {
  std::string model;
  std::vector<Target*> targets;
  RetryPolicy retry;
};

struct Plan {
  std::vector<TargetGroup> groups;
  // Targets made for this call only (pass-through names).
  std::vector<std::unique_ptr<Target>> owned;
};

struct RouterOptions {
  RetryPolicy retry;
  CooldownPolicy cooldown;
  size_t max_queued_requests = 4096;
};

class Router {
 public:
  // `adapters` maps every config provider name to its adapter; they must
  // outlive the router. The config has passed ValidateConfig.
  Router(const config::GatewayConfig& config,
         absl::flat_hash_map<std::string, const Adapter*> adapters);

  // The plan for `request` (model, routing.fallback_models). NOT_FOUND
  // (MODEL_NOT_FOUND) when the model, or a fallback model, is neither an
  // alias nor servable by a default provider. Loop thread only.
  absl::StatusOr<Plan> MakePlan(const llmgateway::v1::GenerateRequest& request);

  // The aliases, ordered by name.
  const std::vector<llmgateway::v1::Model>& models() const { return models_; }

 private:
  struct Alias {
    std::vector<std::unique_ptr<Target>> targets;
    std::vector<std::string> fallbacks;
    RetryPolicy retry;
  };

  // Appends `model`'s group unless the plan has it already.
  absl::Status AddGroup(absl::string_view model, bool with_fallbacks, Plan* plan);

  RouterOptions options_;
  QueueBudget queue_budget_;
  absl::flat_hash_map<std::string, std::unique_ptr<ProviderRoute>> providers_;
  absl::flat_hash_map<std::string, Alias> aliases_;
  ProviderRoute* default_provider_ = nullptr;
  std::vector<llmgateway::v1::Model> models_;
};

// The engine-wide options a config sets (retry, cooldown, queue cap), with
// their defaults.
RouterOptions RouterOptionsFromConfig(const config::GatewayConfig& config);

}  // namespace llmgateway::routing

#endif  // LLM_GATEWAY_SERVER_ROUTING_ROUTER_H_
