// Builds the body of a Gemini API request (POST .../models/{model}:
// generateContent or :streamGenerateContent; the model and the stream
// switch are in the URL, not the body) from a v1 GenerateRequest. Pure: no
// I/O, unit-tested with golden JSON.
//
// How the v1 contract maps where the formats differ:
// - System and developer messages go to `systemInstruction` (one text part
//   each of their parts, in order, wherever they stand).
// - `contents` alternate roles "user" and "model": adjacent messages of the
//   same side are merged into one turn. Tool messages are user turns of
//   `functionResponse` parts; Gemini matches a response to its call by
//   name, so ToolResult.name is sent, or when empty the name of the
//   ToolCall with that id earlier in the conversation (else
//   INVALID_ARGUMENT on the result's name). The response is the result's
//   content when that is a JSON object, else {"result": content} (or
//   {"error": content} with is_error). Call ids are not sent: Gemini's are
//   optional and the gateway's own (content_fields.h) mean nothing to it.
// - Media: Media.data and base64 data: URLs go as `inline_data`
//   {mime_type, data}, any other URI as `file_data` {mime_type, file_uri}
//   (Files API URIs, gs:// and the like), in user and assistant messages.
// - Assistant reasoning goes back in place: a Reasoning part with text is a
//   thought part {text, thought: true, thoughtSignature?}; a Reasoning part
//   with only a signature puts it on the message's next text, media or call
//   part (where the response parser found it), or, with none left, on an
//   empty text part of its own. Reasoning with only redacted_data
//   (Anthropic's) has nothing Gemini can read and is left out.
// - Tools: one `functionDeclarations` tool; parameters as
//   `parametersJsonSchema` (JSON Schema as given: `parameters` takes only
//   Google's OpenAPI subset). tool_choice: `toolConfig.functionCallingConfig`
//   mode AUTO / NONE / ANY (+ allowedFunctionNames for a named function).
//   Gemini cannot forbid parallel calls: parallel_tool_calls false is
//   unsupported.
// - generationConfig: temperature, topP, topK, maxOutputTokens,
//   stopSequences, seed (32 bits), presencePenalty, frequencyPenalty;
//   json_object: responseMimeType application/json; json_schema: that and
//   `responseJsonSchema` (the schema as given). Reasoning: `thinkingConfig`
//   {thinkingBudget: budget_tokens (0 turns thinking off, -1 lets the model
//   decide), else from effort: none 0, minimal 512, low 1024, medium 8192,
//   high 24576 (Google's own mapping of OpenAI's efforts), xhigh 32768;
//   includeThoughts: include_reasoning}.
// - end_user_id has no Gemini field: unsupported. Message.name, Tool.strict
//   and json_schema.strict/name have none either and are ignored.
// - provider_options["gemini"] is merged into the body last; its
//   `generationConfig`, when an object, is merged into the gateway's
//   generationConfig key by key (its keys win), so one option
//   (thinkingConfig.thinkingLevel, responseModalities) does not drop the
//   mapped settings. `contents` belongs to the gateway.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_GENERATE_CONTENT_REQUEST_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_GENERATE_CONTENT_REQUEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::gemini {

struct GenerateContentRequestOptions {
  // The provider's config name, for error messages.
  absl::string_view provider_name = "gemini";
  // What this provider can take (server/config: Provider.capabilities).
  // v1 field paths it cannot honour: INVALID_ARGUMENT (reason
  // UNSUPPORTED_FIELD, naming the field and the provider) when set, unless
  // `drop_unsupported`. A path covers the fields below it. Paths checked:
  // config.temperature, config.top_p, config.top_k,
  // config.max_output_tokens, config.stop_sequences, config.seed,
  // config.presence_penalty, config.frequency_penalty,
  // config.parallel_tool_calls, config.response_format.{json_object,
  // json_schema}, config.reasoning.{effort,budget_tokens,include_reasoning},
  // tools (also covers tool_choice), tool_choice, end_user_id.
  absl::Span<const std::string> unsupported_fields;
  bool drop_unsupported = false;
  // MIME types media parts may have; "image/*" matches any image type.
  // Empty: any.
  absl::Span<const std::string> media_types;
};

// The request has passed the API layer's validation already; this fails
// (INVALID_ARGUMENT naming the field path, and the provider where it is the
// cause) where the Gemini API or the provider cannot express a field, and
// on input whose body would otherwise be silently wrong.
absl::StatusOr<std::string> BuildGenerateContentRequest(
    const llmgateway::v1::GenerateRequest& request,
    const GenerateContentRequestOptions& options);

}  // namespace llmgateway::gemini

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_GENERATE_CONTENT_REQUEST_H_
