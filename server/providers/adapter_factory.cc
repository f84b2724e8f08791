// Adapter construction by kind.
#include "server/providers/adapter_factory.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/providers/anthropic/anthropic_adapter.h"
#include "server/providers/gemini/gemini_adapter.h"
#include "server/providers/openai/openai_adapter.h"

namespace llmgateway {

absl::StatusOr<std::unique_ptr<Adapter>> MakeAdapter(const config::Provider& config) {
  std::string api_key;
  if (!config.api_key_env().empty()) {
    const char* value = std::getenv(config.api_key_env().c_str());
    if (value == nullptr || *value == '\0') {
      LogWarning("provider \"", config.name(), "\": environment variable ",
                 config.api_key_env(), " is not set; requests go without a key");
    } else {
      api_key = value;
    }
  }
  if (config.kind() == "openai") {
    std::vector<std::string> header_values;
    for (const config::HttpHeader& header : config.http().headers()) {
      if (header.value_env().empty()) {
        header_values.push_back(header.value());
        continue;
      }
      const char* value = std::getenv(header.value_env().c_str());
      if (value == nullptr || *value == '\0') {
        LogWarning("provider \"", config.name(), "\": environment variable ", header.value_env(),
                   " is not set; requests go without header ", header.name());
      }
      header_values.push_back(value == nullptr ? "" : value);
    }
    return std::make_unique<openai::OpenAiAdapter>(config, std::move(api_key),
                                                   std::move(header_values));
  }
  if (config.kind() == "anthropic") {
    return std::make_unique<anthropic::AnthropicAdapter>(config, std::move(api_key));
  }
  if (config.kind() == "gemini") {
    return std::make_unique<gemini::GeminiAdapter>(config, std::move(api_key));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("provider \"", config.name(), "\": unknown kind \"", config.kind(), "\""));
}

}  // namespace llmgateway
