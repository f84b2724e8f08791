// Provider construction by kind.
#include "server/providers/provider_factory.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/providers/openai/openai_provider.h"

namespace llmgateway {

absl::StatusOr<std::unique_ptr<Provider>> MakeProvider(const config::Provider& config,
                                                       http::HttpClient* http) {
  std::string api_key;
  if (!config.api_key_env().empty()) {
    const char* value = std::getenv(config.api_key_env().c_str());
    if (value == nullptr || *value == '\0') {
      LogWarning("provider \"", config.name(), "\": environment variable ",
                 config.api_key_env(),
                 " is not set; requests go without an Authorization header");
    } else {
      api_key = value;
    }
  }
  if (config.kind() == "openai") {
    return std::make_unique<openai::OpenAiProvider>(config, std::move(api_key), http);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("provider \"", config.name(), "\": unknown kind \"", config.kind(), "\""));
}

}  // namespace llmgateway
