// What the Messages API's unary body and its stream events share: the
// `usage` object and `stop_reason`, read into the v1 shapes. simdjson
// On-Demand, like the generic readers in json/json_read.h it builds on.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_MESSAGE_FIELDS_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_MESSAGE_FIELDS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "simdjson.h"

namespace llmgateway::anthropic {

// Token counts as Anthropic reports them. input_tokens excludes the cached
// prompt tokens, which come in their own two counts.
struct TokenUsage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cache_read_input_tokens = 0;
  int64_t cache_creation_input_tokens = 0;
};

// Reads a `usage` object (or null) at `path`, setting the counts it holds
// and keeping the others: a stream's message_delta repeats only some of what
// message_start said. Errors name "<path>.<field>".
absl::Status ParseUsage(simdjson::ondemand::value v, absl::string_view path,
                        TokenUsage* usage);

// In the v1 (OpenAI) sense: prompt_tokens counts every input token, cached
// ones included; cached_prompt_tokens and cache_write_tokens are parts of it.
// Sums saturate rather than wrap.
void ToV1Usage(const TokenUsage& usage, llmgateway::v1::Usage* out);

// end_turn, stop_sequence: STOP; max_tokens, model_context_window_exceeded:
// LENGTH; tool_use: TOOL_CALLS; refusal: CONTENT_FILTER; empty or null:
// UNSPECIFIED; anything else (pause_turn, newer values): OTHER.
llmgateway::v1::FinishReason MapStopReason(absl::string_view stop_reason);

// The finish reason of an answer: MapStopReason, except that a tool_use stop
// whose only tool call was the JSON response tool is STOP (the caller asked
// for JSON text and got it, not a tool call).
llmgateway::v1::FinishReason AnswerFinishReason(absl::string_view stop_reason,
                                                int tool_calls,
                                                bool json_answer);

}  // namespace llmgateway::anthropic

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_MESSAGE_FIELDS_H_
