// Builds the body of an Anthropic Messages API request (POST /v1/messages)
// from a v1 GenerateRequest. Pure: no I/O, unit-tested with golden JSON.
//
// How the v1 contract maps where the formats differ:
// - System and developer messages go to the top-level `system`, in order,
//   wherever they stand in the conversation: a string when there is one text
//   part, else one text block per part (no separator is invented).
// - The Messages API wants user and assistant turns to alternate: adjacent
//   messages of the same side are merged into one turn. Tool messages are
//   user turns of tool_result blocks; in a user turn the tool_result blocks
//   go first (the API requires it), everything else keeps its order.
// - Assistant parts keep their order, reasoning included: a Reasoning part
//   becomes a `thinking` block (text + signature) or, with redacted_data, a
//   `redacted_thinking` block, in place. A Reasoning part with neither
//   signature nor redacted_data (another provider's reasoning after a
//   fallback) cannot be verified by Anthropic and is left out.
// - `max_tokens` is always sent: config.max_output_tokens, else
//   default_max_tokens (plus the thinking budget when reasoning is on, so
//   the budget does not eat the answer's room).
// - Reasoning: config.reasoning.budget_tokens is the thinking budget (0
//   turns thinking off). Without it, config.reasoning.effort picks one:
//   none: no thinking; minimal 1024, low 2048, medium 4096, high 16384,
//   xhigh 32768 tokens; with config.max_output_tokens set the effort's budget
//   is capped at half of it (at least 1024, Anthropic's minimum). Other
//   effort values are INVALID_ARGUMENT. include_reasoning needs no switch:
//   the Messages API returns thinking whenever it is on.
// - config.response_format json_object / json_schema: a forced call of the
//   reserved tool in json_response_tool.h, whose input schema is the
//   caller's schema ({"type": "object"} for json_object); the decoders turn
//   that call back into text. Anthropic forbids forced tool use with
//   thinking, so a JSON format with reasoning on is INVALID_ARGUMENT.
// - seed, presence_penalty and frequency_penalty have no Messages API field:
//   unsupported whatever the capabilities say (dropped only with
//   drop_unsupported). Message.name, Tool.strict and
//   json_schema.strict have none either and are ignored (the first is
//   optional by contract, the others are hints the schema already carries).
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_MESSAGES_REQUEST_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_MESSAGES_REQUEST_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::anthropic {

struct MessagesRequestOptions {
  // The model name sent upstream (the v1 `model` may be an alias).
  absl::string_view upstream_model;
  // The provider's config name, for error messages.
  absl::string_view provider_name = "anthropic";
  // stream:true (GenerateStream).
  bool stream = false;

  // What this provider can take (server/config: Provider.capabilities).
  // v1 field paths it cannot honour: INVALID_ARGUMENT (reason
  // UNSUPPORTED_FIELD, naming the field and the provider) when set, unless
  // `drop_unsupported`. A path covers the fields below it. Paths checked:
  // config.temperature, config.top_p, config.top_k,
  // config.max_output_tokens (the default is sent instead when dropped),
  // config.stop_sequences, config.parallel_tool_calls,
  // config.response_format.{json_object,json_schema},
  // config.reasoning.{effort,budget_tokens}, tools (also covers tool_choice,
  // config.parallel_tool_calls and the JSON response formats, which are tool
  // calls here), tool_choice, end_user_id.
  absl::Span<const std::string> unsupported_fields;
  bool drop_unsupported = false;
  // MIME types media parts may have; "image/*" matches any image type.
  // Empty: any the format has a block for (images, application/pdf).
  absl::Span<const std::string> media_types;
  // max_tokens when the caller sets no config.max_output_tokens (the
  // Messages API requires one). Not positive: 4096.
  int default_max_tokens = 4096;
};

// The request has passed the API layer's validation already; this fails
// (INVALID_ARGUMENT naming the field path, and the provider where it is the
// cause) where the Messages API or the provider cannot express a field, and
// on input whose body would otherwise be silently wrong.
absl::StatusOr<std::string> BuildMessagesRequest(
    const llmgateway::v1::GenerateRequest& request,
    const MessagesRequestOptions& options);

}  // namespace llmgateway::anthropic

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_MESSAGES_REQUEST_H_
