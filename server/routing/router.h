// Model name -> (provider, upstream model): the config's aliases first, then
// pass-through to the default provider with the name unchanged.
#ifndef LLM_GATEWAY_SERVER_ROUTING_ROUTER_H_
#define LLM_GATEWAY_SERVER_ROUTING_ROUTER_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/models.pb.h"
#include "server/config/config.pb.h"
#include "server/providers/provider.h"

namespace llmgateway {

struct Route {
  Provider* provider = nullptr;
  std::string upstream_model;
};

class Router {
 public:
  // `providers` maps every config provider name to its Provider; they must
  // outlive the router. The config has passed ValidateConfig.
  Router(const config::GatewayConfig& config,
         absl::flat_hash_map<std::string, Provider*> providers);

  // NOT_FOUND (reason MODEL_NOT_FOUND) for a name that is neither an alias
  // nor servable by a default provider.
  absl::StatusOr<Route> Resolve(absl::string_view model) const;

  // The aliases, ordered by name.
  const std::vector<llmgateway::v1::Model>& models() const { return models_; }

 private:
  absl::flat_hash_map<std::string, Provider*> providers_;
  absl::flat_hash_map<std::string, Route> aliases_;
  Provider* default_provider_ = nullptr;
  std::vector<llmgateway::v1::Model> models_;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_ROUTING_ROUTER_H_
