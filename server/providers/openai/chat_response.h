// Parses an OpenAI-compatible chat.completion JSON body into a v1
// GenerateResponse, in one simdjson On-Demand pass. Pure: no I/O.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_CHAT_RESPONSE_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_CHAT_RESPONSE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::openai {

// `body` is parsed in place: it needs http::kBodyPadding (64) bytes of spare
// capacity (HttpClient guarantees it; a body without it is copied once).
// Unknown fields are ignored. A body that is not a chat.completion (bad JSON,
// no choices) is an error whose message says what was wrong, without echoing
// the body. Sets id, model, message (role ASSISTANT, parts), text,
// finish_reason, usage; not `provider` (the caller knows it).
absl::Status ParseChatResponse(const std::string& body,
                               llmgateway::v1::GenerateResponse* out);

// The `finish_reason` string of OpenAI-compatible upstreams as a v1 enum.
llmgateway::v1::FinishReason MapFinishReason(absl::string_view reason);

}  // namespace llmgateway::openai

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_CHAT_RESPONSE_H_
