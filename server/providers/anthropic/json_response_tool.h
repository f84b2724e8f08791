// The reserved tool that carries a JSON response format over the Messages
// API, which has no response_format: the request builder forces a call of
// this tool with the caller's schema as its input schema, and the response
// and stream decoders turn that call back into the answer's text. The
// decoders see no request, so the name itself is the signal.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_JSON_RESPONSE_TOOL_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_JSON_RESPONSE_TOOL_H_

namespace llmgateway::anthropic {

// A caller's own tool may not have this name (INVALID_ARGUMENT). A char
// array, so it compares with std:: and absl:: string views alike (they are
// different types with Debian's Abseil).
inline constexpr char kJsonResponseToolName[] = "llmgateway_json_response";

}  // namespace llmgateway::anthropic

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_JSON_RESPONSE_TOOL_H_
