// Anthropic usage and stop_reason -> v1 (see the header).
#include "server/providers/anthropic/message_fields.h"

#include <cstdint>
#include <limits>
#include <string_view>

#include "server/providers/json/json_read.h"

namespace llmgateway::anthropic {
namespace {

namespace od = ::simdjson::ondemand;
using ::llmgateway::json::FieldError;
using ::llmgateway::json::ForEachField;
using ::llmgateway::json::ReadInt;
using ::simdjson::error_code;

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<int64_t>::max()
               : std::numeric_limits<int64_t>::min();
}

}  // namespace

absl::Status ParseUsage(od::value v, absl::string_view path,
                        TokenUsage* usage) {
  return ForEachField(v, path, [&](std::string_view key, od::value fv) {
    int64_t* count = nullptr;
    if (key == "input_tokens") {
      count = &usage->input_tokens;
    } else if (key == "output_tokens") {
      count = &usage->output_tokens;
    } else if (key == "cache_read_input_tokens") {
      count = &usage->cache_read_input_tokens;
    } else if (key == "cache_creation_input_tokens") {
      count = &usage->cache_creation_input_tokens;
    }
    // The rest (cache_creation's per-TTL split, server_tool_use,
    // service_tier) has no v1 field.
    if (count == nullptr) return absl::OkStatus();
    if (error_code e = ReadInt(fv, count)) return FieldError(path, key, e);
    return absl::OkStatus();
  });
}

void ToV1Usage(const TokenUsage& usage, v1::Usage* out) {
  const int64_t prompt = SaturatingAdd(
      SaturatingAdd(usage.input_tokens, usage.cache_read_input_tokens),
      usage.cache_creation_input_tokens);
  out->set_prompt_tokens(prompt);
  out->set_completion_tokens(usage.output_tokens);
  out->set_total_tokens(SaturatingAdd(prompt, usage.output_tokens));
  out->set_cached_prompt_tokens(usage.cache_read_input_tokens);
  out->set_cache_write_tokens(usage.cache_creation_input_tokens);
}

v1::FinishReason MapStopReason(absl::string_view stop_reason) {
  if (stop_reason.empty()) return v1::FINISH_REASON_UNSPECIFIED;
  if (stop_reason == "end_turn" || stop_reason == "stop_sequence") {
    return v1::FINISH_REASON_STOP;
  }
  // The second: the model ran into the context window before max_tokens,
  // which the v1 enum counts as LENGTH too.
  if (stop_reason == "max_tokens" ||
      stop_reason == "model_context_window_exceeded") {
    return v1::FINISH_REASON_LENGTH;
  }
  if (stop_reason == "tool_use") return v1::FINISH_REASON_TOOL_CALLS;
  if (stop_reason == "refusal") return v1::FINISH_REASON_CONTENT_FILTER;
  return v1::FINISH_REASON_OTHER;
}

v1::FinishReason AnswerFinishReason(absl::string_view stop_reason,
                                    int tool_calls, bool json_answer) {
  const v1::FinishReason reason = MapStopReason(stop_reason);
  if (reason == v1::FINISH_REASON_TOOL_CALLS && tool_calls == 0 &&
      json_answer) {
    return v1::FINISH_REASON_STOP;
  }
  return reason;
}

}  // namespace llmgateway::anthropic
