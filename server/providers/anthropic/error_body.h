// Reads the error object the Anthropic Messages API sends with a non-2xx
// status, and in a stream's `error` event:
// {"type": "error", "error": {"type": "overloaded_error", "message": ...}}.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_ERROR_BODY_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_ERROR_BODY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace llmgateway::anthropic {

struct ErrorBody {
  // e.g. invalid_request_error, authentication_error, permission_error,
  // not_found_error, request_too_large, rate_limit_error, api_error,
  // overloaded_error.
  std::string type;
  std::string message;
};

// Tolerant: a body that is not JSON, or has no `error` object, gives empty
// fields (proxies in front of the API send {"message": ...} or
// {"error": "text"}; those are read into `message` too). Never fails.
ErrorBody ParseErrorBody(absl::string_view body);

}  // namespace llmgateway::anthropic

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_ERROR_BODY_H_
