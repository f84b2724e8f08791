// OpenAI's `usage` object -> v1 Usage (see json_fields.h).
#include "server/providers/openai/json_fields.h"

#include <cstdint>
#include <string_view>

#include "absl/strings/string_view.h"
#include "server/providers/json/json_read.h"

namespace llmgateway::openai::json {
namespace {

namespace od = ::simdjson::ondemand;
using ::llmgateway::json::FieldError;
using ::llmgateway::json::ForEachField;
using ::llmgateway::json::ReadInt;
using ::simdjson::error_code;

// {"<name>": n, ...}: sets the one count wanted, skips the rest.
template <typename Set>
absl::Status ReadDetail(od::value v, absl::string_view path,
                        std::string_view name, Set&& set) {
  return ForEachField(v, path, [&](std::string_view key, od::value dv) {
    if (key != name) return absl::OkStatus();
    int64_t n = 0;
    if (error_code e = ReadInt(dv, &n)) return FieldError(path, key, e);
    set(n);
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status ParseUsage(od::value v, v1::Usage* u) {
  return ForEachField(v, "usage", [&](std::string_view key, od::value fv) {
    error_code e = simdjson::SUCCESS;
    int64_t n = 0;
    if (key == "prompt_tokens") {
      if (!(e = ReadInt(fv, &n))) u->set_prompt_tokens(n);
    } else if (key == "completion_tokens") {
      if (!(e = ReadInt(fv, &n))) u->set_completion_tokens(n);
    } else if (key == "total_tokens") {
      if (!(e = ReadInt(fv, &n))) u->set_total_tokens(n);
    } else if (key == "prompt_tokens_details") {
      return ReadDetail(fv, "usage.prompt_tokens_details", "cached_tokens",
                        [u](int64_t d) { u->set_cached_prompt_tokens(d); });
    } else if (key == "completion_tokens_details") {
      return ReadDetail(fv, "usage.completion_tokens_details",
                        "reasoning_tokens",
                        [u](int64_t d) { u->set_reasoning_tokens(d); });
    }
    return e ? FieldError("usage", key, e) : absl::OkStatus();
  });
}

void FillTotalTokens(v1::Usage* u) {
  int64_t total = 0;
  if (u->total_tokens() == 0 &&
      !__builtin_add_overflow(u->prompt_tokens(), u->completion_tokens(),
                              &total)) {
    u->set_total_tokens(total);
  }
}

}  // namespace llmgateway::openai::json
