// Parses a Gemini API generateContent response body (a
// GenerateContentResponse) into a v1 GenerateResponse, in one simdjson
// On-Demand pass. Pure: no I/O.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_GENERATE_CONTENT_RESPONSE_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_GENERATE_CONTENT_RESPONSE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::gemini {

// `body` is parsed in place: it needs http::kBodyPadding (64) bytes of spare
// capacity (a body without it is copied once). Sets id (responseId), model
// (modelVersion), message (role ASSISTANT; the first candidate's parts in
// order, as content_fields.h maps them), text (the text parts joined),
// finish_reason and usage (when usageMetadata was sent); not `provider`.
// Failures leave *out untouched:
// - a prompt Gemini blocked (promptFeedback.blockReason, no candidates):
//   PromptBlocked (INVALID_ARGUMENT CONTENT_FILTERED, naming `provider`);
// - a body that is not an answer (bad JSON, an error object, no
//   candidates): UNAVAILABLE "upstream returned a malformed Gemini
//   response: ...", saying what was wrong without echoing the body.
absl::Status ParseGenerateContentResponse(const std::string& body,
                                          absl::string_view provider,
                                          llmgateway::v1::GenerateResponse* out);

}  // namespace llmgateway::gemini

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_GENERATE_CONTENT_RESPONSE_H_
