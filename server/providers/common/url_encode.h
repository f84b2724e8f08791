// Percent-encoding (RFC 3986) for what adapters put in upstream URLs: model
// names in paths, query parameters from config.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_COMMON_URL_ENCODE_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_COMMON_URL_ENCODE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace llmgateway::providers {

// Every byte but the unreserved ones (ALPHA DIGIT - . _ ~) as %XX, so the
// text stays one path segment or one query value whatever it holds.
std::string PercentEncode(absl::string_view text);

}  // namespace llmgateway::providers

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_COMMON_URL_ENCODE_H_
