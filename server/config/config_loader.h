// Reads the textproto config, applies command-line overrides and defaults,
// and validates it, naming the offending field in every error.
#ifndef LLM_GATEWAY_SERVER_CONFIG_CONFIG_LOADER_H_
#define LLM_GATEWAY_SERVER_CONFIG_CONFIG_LOADER_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/config/config.pb.h"

namespace llmgateway::config {

// Parses textproto. Syntax errors name `source:line:column`.
absl::StatusOr<GatewayConfig> ParseConfigText(absl::string_view text,
                                              absl::string_view source);
absl::StatusOr<GatewayConfig> LoadConfigFile(const std::string& path);

// What the command line may set; flags override the file.
struct Overrides {
  std::optional<std::string> listen;
  // --batch_store: the job store's path.
  std::optional<std::string> batch_store;
  // --metrics_listen: where /metrics is served.
  std::optional<std::string> metrics_listen;
  // --log_format: "text" or "json".
  std::optional<std::string> log_format;
  // Adds (or re-points) the provider named "openai" and makes it the
  // default provider, so any model name passes through to it.
  std::optional<std::string> openai_base_url;
  std::optional<std::string> openai_api_key_env;
  // --tls_cert, --tls_key, --tls_client_ca: tls.cert_file, tls.key_file,
  // tls.client_ca_file.
  std::optional<std::string> tls_cert;
  std::optional<std::string> tls_key;
  std::optional<std::string> tls_client_ca;
};
void ApplyOverrides(const Overrides& overrides, GatewayConfig* config);

// Fills unset values (listen address, log format, timeouts, upstream_model) in place.
void ApplyDefaults(GatewayConfig* config);

// INVALID_ARGUMENT naming the field, e.g. `providers[1].base_url: ...`.
// Reads the PEM files the config names (tls, providers' ca_file) and checks
// them, so a missing or broken one stops start-up naming its field and path.
absl::Status ValidateConfig(const GatewayConfig& config);

}  // namespace llmgateway::config

#endif  // LLM_GATEWAY_SERVER_CONFIG_CONFIG_LOADER_H_
