// Builds the body of an OpenAI-compatible POST /chat/completions from a v1
// GenerateRequest. Pure: no I/O, unit-tested with golden JSON.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_CHAT_REQUEST_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_CHAT_REQUEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::openai {

struct ChatRequestOptions {
  // The model name sent upstream (the v1 `model` may be an alias).
  absl::string_view upstream_model;
  // The provider's config name, for error messages.
  absl::string_view provider_name = "openai";
  // stream:true with stream_options.include_usage (GenerateStream).
  bool stream = false;
};

// The request has passed the API layer's validation already; this fails only
// where the OpenAI format cannot express a field (INVALID_ARGUMENT or
// UNIMPLEMENTED naming the field path and the provider).
absl::StatusOr<std::string> BuildChatRequest(
    const llmgateway::v1::GenerateRequest& request,
    const ChatRequestOptions& options);

}  // namespace llmgateway::openai

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_CHAT_REQUEST_H_
