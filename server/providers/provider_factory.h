// Makes the Provider for a config entry, by kind, with its key read from the
// environment (never from the config file).
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_PROVIDER_FACTORY_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_PROVIDER_FACTORY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "server/config/config.pb.h"
#include "server/http/http_client.h"
#include "server/providers/provider.h"

namespace llmgateway {

// `http` must outlive the provider. An unset key variable is logged (by name,
// never by value) and the provider runs without an Authorization header,
// which local OpenAI-compatible servers accept.
absl::StatusOr<std::unique_ptr<Provider>> MakeProvider(const config::Provider& config,
                                                       http::HttpClient* http);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_PROVIDER_FACTORY_H_
