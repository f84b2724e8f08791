// Builds the body of an OpenAI-compatible POST /chat/completions from a v1
// GenerateRequest. Pure: no I/O, unit-tested with golden JSON.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_CHAT_REQUEST_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_CHAT_REQUEST_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::openai {

struct ChatRequestOptions {
  // The model name sent upstream (the v1 `model` may be an alias).
  absl::string_view upstream_model;
  // The provider's config name, for error messages.
  absl::string_view provider_name = "openai";
  // stream:true with stream_options.include_usage (GenerateStream).
  bool stream = false;

  // What this provider can take (server/config: Provider.capabilities).
  // v1 field paths it cannot honour, e.g. "config.top_k",
  // "config.reasoning.budget_tokens", "tools": INVALID_ARGUMENT naming the
  // field and the provider when set, unless `drop_unsupported`.
  // A path covers the fields below it ("config.reasoning" covers
  // "config.reasoning.effort"). Paths checked: config.temperature,
  // config.top_p, config.top_k, config.max_output_tokens,
  // config.stop_sequences, config.seed, config.presence_penalty,
  // config.frequency_penalty, config.parallel_tool_calls,
  // config.response_format.{text,json_object,json_schema},
  // config.reasoning.effort, tools (also covers tool_choice and
  // config.parallel_tool_calls), tool_choice, end_user_id.
  // config.reasoning.budget_tokens is unsupported whatever this lists: the
  // OpenAI format has no reasoning budget.
  absl::Span<const std::string> unsupported_fields;
  bool drop_unsupported = false;
  // MIME types media parts may have; "image/*" matches any image type.
  // Empty: any. Others are INVALID_ARGUMENT naming the part and the provider.
  absl::Span<const std::string> media_types;
  // The body field max_output_tokens goes out as: "max_tokens" (what every
  // OpenAI-compatible server takes) or "max_completion_tokens" (what
  // OpenAI's reasoning models require).
  absl::string_view max_tokens_field = "max_tokens";
};

// The request has passed the API layer's validation already; this fails
// (INVALID_ARGUMENT naming the field path, and the provider where it is the
// cause) where the OpenAI format or the provider cannot express a field, and
// on input whose body would otherwise be silently wrong.
absl::StatusOr<std::string> BuildChatRequest(
    const llmgateway::v1::GenerateRequest& request,
    const ChatRequestOptions& options);

}  // namespace llmgateway::openai

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_CHAT_REQUEST_H_
