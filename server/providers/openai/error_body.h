// Reads the error object OpenAI-compatible upstreams send with a non-2xx
// status: {"error": {"message", "type", "code", "param"}}.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_ERROR_BODY_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_ERROR_BODY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace llmgateway::openai {

struct ErrorBody {
  std::string message;
  std::string type;
  std::string code;  // a string, or a number's text (some servers send 400)
  std::string param;
};

// Tolerant: a body that is not JSON, or has no `error` object, gives empty
// fields (some servers send {"message": ...} or {"detail": ...} at the top
// level; those are read into `message` too). Never fails.
ErrorBody ParseErrorBody(absl::string_view body);

}  // namespace llmgateway::openai

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_ERROR_BODY_H_
