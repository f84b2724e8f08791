// The OpenAI `usage` object, read the same way by both OpenAI-compatible
// parsers (chat.completion, chat.completion.chunk). The generic On-Demand
// readers it builds on are json/json_read.h.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_JSON_FIELDS_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_JSON_FIELDS_H_

#include "absl/status/status.h"
#include "llmgateway/v1/generation.pb.h"
#include "simdjson.h"

namespace llmgateway::openai::json {

// Reads a `usage` object (or null) into *u, setting the fields it finds
// (the rest keep their values): prompt/completion/total tokens,
// prompt_tokens_details.cached_tokens,
// completion_tokens_details.reasoning_tokens. Errors name "usage.<field>".
absl::Status ParseUsage(simdjson::ondemand::value v, llmgateway::v1::Usage* u);

// Some servers leave total_tokens out (or null); the v1 API promises it:
// prompt + completion when it is 0 (unless that overflows).
void FillTotalTokens(llmgateway::v1::Usage* u);

}  // namespace llmgateway::openai::json

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_JSON_FIELDS_H_
