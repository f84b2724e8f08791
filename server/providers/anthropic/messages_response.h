// Parses an Anthropic Messages API response body (a `message` object) into
// a v1 GenerateResponse, in one simdjson On-Demand pass. Pure: no I/O.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_MESSAGES_RESPONSE_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_MESSAGES_RESPONSE_H_

#include <string>

#include "absl/status/status.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::anthropic {

// `body` is parsed in place: it needs http::kBodyPadding (64) bytes of spare
// capacity (a body without it is copied once). Unknown fields and content
// block types are ignored. Sets id, model, message (role ASSISTANT; parts in
// the content's order: thinking -> Reasoning{text, signature},
// redacted_thinking -> Reasoning{redacted_data}, text -> text, tool_use ->
// ToolCall{id, name, arguments: the input's JSON text}), text (the text
// parts joined), finish_reason and usage; not `provider` (the caller knows
// it). A call of the JSON response tool (json_response_tool.h) is the
// answer's text, not a tool call. A body that is not a message (bad JSON, no
// content) is UNAVAILABLE with a message that says what was wrong without
// echoing the body; *out is then untouched.
absl::Status ParseMessagesResponse(const std::string& body,
                                   llmgateway::v1::GenerateResponse* out);

}  // namespace llmgateway::anthropic

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_MESSAGES_RESPONSE_H_
