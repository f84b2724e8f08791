// Makes the Adapter for a config entry, by kind, with its key read from the
// environment (never from the config file).
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_ADAPTER_FACTORY_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_ADAPTER_FACTORY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "server/config/config.pb.h"
#include "server/providers/adapter.h"

namespace llmgateway {

// An unset key variable is logged (by name, never by value) and the adapter
// sends no key, which local OpenAI-compatible servers accept.
absl::StatusOr<std::unique_ptr<Adapter>> MakeAdapter(const config::Provider& config);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_ADAPTER_FACTORY_H_
