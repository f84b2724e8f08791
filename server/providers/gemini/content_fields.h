// What the Gemini API's unary body and its stream chunks share: both are a
// GenerateContentResponse ({candidates, usageMetadata, promptFeedback,
// modelVersion, responseId}), read here in one simdjson On-Demand pass into
// views, with the mappings of its parts, finishReason and usageMetadata onto
// v1 that the unary parser and the stream decoder must agree on.
//
// How the format's parts map (for callers: README.md; the reasons:
// docs/engineering-notes.md):
// - a part with `thought: true` is reasoning: Reasoning{text, signature}
//   (ReasoningDelta in a stream);
// - a `thoughtSignature` on any other part (text, functionCall) comes as a
//   Reasoning part holding only that signature, directly before the part it
//   signs; the request builder puts it back on that part;
// - a functionCall is a ToolCall whose id is Gemini's own when it sends one,
//   else "call_<responseId>_<n>" (n: the call's ordinal in the answer), the
//   same in a stream and in a body; its `args` object is the arguments text.
// Parts v1 has nothing for (inlineData, executableCode, ...) are skipped.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_CONTENT_FIELDS_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_CONTENT_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "simdjson.h"

namespace llmgateway::gemini {

// One part of the first candidate's content, as read. The views point into
// the parser's buffer or the document: valid until the parser's next
// document.
struct PartView {
  std::string_view text;
  bool thought = false;
  std::string_view thought_signature;
  bool function_call = false;
  std::string_view call_id;
  std::string_view call_name;
  // The args object's JSON text; empty when there were none.
  std::string_view call_args;
};

// usageMetadata as Gemini reports it.
struct TokenUsage {
  // promptTokenCount: the whole prompt, cached content included
  // (cachedContentTokenCount is part of it), the tool-use prompt not.
  int64_t prompt = 0;
  int64_t candidates = 0;
  int64_t cached = 0;
  int64_t thoughts = 0;
  int64_t tool_use_prompt = 0;
  std::optional<int64_t> total;
};

struct ResponseView {
  std::string_view response_id;
  std::string_view model_version;
  // promptFeedback.blockReason: the prompt was refused (with no candidates).
  std::string_view block_reason;
  // How many candidates the response had.
  int candidates = 0;
  // The first candidate (index 0 or no index): its parts (the caller's
  // vector, cleared first) and finishReason.
  std::vector<PartView>* parts = nullptr;
  std::string_view finish_reason;
  TokenUsage usage;
  bool has_usage = false;
  // The document is an error object ({"error": ...}); the walk stopped there.
  bool error = false;
};

// Reads `json` (a whole GenerateContentResponse) into *view, whose `parts`
// must be set. Unknown fields are skipped; a value of the wrong type, a
// functionCall without a name, or JSON that is not one object is an
// UNAVAILABLE status naming the path (never quoting the document).
absl::Status ReadResponse(simdjson::ondemand::parser& parser,
                          simdjson::padded_string_view json,
                          ResponseView* view);

// STOP: STOP; MAX_TOKENS: LENGTH; SAFETY, RECITATION, BLOCKLIST,
// PROHIBITED_CONTENT, SPII and the IMAGE_ variants of the first three:
// CONTENT_FILTER; empty or FINISH_REASON_UNSPECIFIED: UNSPECIFIED; anything
// else (MALFORMED_FUNCTION_CALL, OTHER, LANGUAGE, newer values): OTHER.
llmgateway::v1::FinishReason MapFinishReason(absl::string_view finish_reason);

// Whether a finishReason ends the candidate (any value but empty and
// FINISH_REASON_UNSPECIFIED): the stream's end marker.
bool EndsCandidate(absl::string_view finish_reason);

// An answer's finish reason: MapFinishReason, except that STOP with tool
// calls in the answer is TOOL_CALLS (Gemini has no finishReason of its own
// for them).
llmgateway::v1::FinishReason AnswerFinishReason(absl::string_view finish_reason,
                                                int tool_calls);

// In the v1 (OpenAI) sense: prompt_tokens = promptTokenCount (cached content
// included) + toolUsePromptTokenCount; completion_tokens =
// candidatesTokenCount + thoughtsTokenCount; total_tokens = totalTokenCount
// when sent, else their sum; cached_prompt_tokens = cachedContentTokenCount;
// reasoning_tokens = thoughtsTokenCount. Sums saturate rather than wrap.
void ToV1Usage(const TokenUsage& usage, llmgateway::v1::Usage* out);

// A tool call's id: Gemini's own (`call_id`) when it sent one, else
// "call_<response_id>_<ordinal>" ("call_<ordinal>" without a response id).
std::string ToolCallId(std::string_view call_id, std::string_view response_id,
                       int ordinal);

// The prompt was blocked (promptFeedback.blockReason, no candidates):
// INVALID_ARGUMENT "provider \"<provider>\" blocked the prompt
// (promptFeedback.blockReason <reason>)", reason CONTENT_FILTERED with
// provider and blockReason in its metadata. Like the caller's own bad
// request it is neither retried nor fallen back from.
absl::Status PromptBlocked(absl::string_view provider,
                           absl::string_view block_reason);

}  // namespace llmgateway::gemini

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_CONTENT_FIELDS_H_
