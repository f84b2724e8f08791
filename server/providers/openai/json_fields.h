// simdjson On-Demand field readers shared by the OpenAI-compatible body
// parsers (chat.completion, chat.completion.chunk): null-tolerant scalar
// reads, one-pass object/array walks, and the `usage` object.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_JSON_FIELDS_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_JSON_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "simdjson.h"

namespace llmgateway::openai::json {

namespace od = ::simdjson::ondemand;
using ::simdjson::error_code;

// simdjson's name for `e` ("INCORRECT_TYPE"): short, stable, and safe to put
// in a status message, unlike any excerpt of the document.
const char* ErrorName(error_code e);

// UNAVAILABLE "<what> (simdjson: NAME)". The messages name a path into the
// document, never its content (it may hold the end user's data), and say
// nothing of which document it was: each parser's entry point prefixes its
// own ("malformed chat.completion.chunk: ").
absl::Status Malformed(absl::string_view what, error_code e);
// Malformed("<path>.<key>", e).
absl::Status FieldError(absl::string_view path, std::string_view key,
                        error_code e);

// Each Read* takes a value that may be JSON null (servers send null for
// "absent" freely): null leaves *out as it was. Any other type than the one
// asked for is INCORRECT_TYPE.
error_code CheckNull(od::value& v, bool* is_null);
// Copies the unescaped string into *out.
error_code ReadString(od::value v, std::string* out);
// Points *out into the parser's string buffer: valid until the parser's next
// document, and free of allocation.
error_code ReadString(od::value v, std::string_view* out);
error_code ReadInt(od::value v, int64_t* out);
// Yields the object (array), or leaves *out empty for JSON null.
error_code ReadObject(od::value v, std::optional<od::object>* out);
error_code ReadArray(od::value v, std::optional<od::array>* out);

// Runs `on_field(key, value)` for each member of `v` (an object or null).
// Errors of the iteration itself are reported at `path`; on_field returns an
// absl::Status naming its own path.
template <typename OnField>
absl::Status ForEachField(od::value v, absl::string_view path,
                          OnField&& on_field) {
  std::optional<od::object> obj;
  if (error_code e = ReadObject(v, &obj)) {
    return Malformed(absl::StrCat(path, ": expected an object"), e);
  }
  if (!obj) return absl::OkStatus();
  for (auto field : *obj) {
    std::string_view key;
    if (error_code e = field.unescaped_key().get(key)) {
      return Malformed(path, e);
    }
    od::value fv;
    if (error_code e = field.value().get(fv)) return Malformed(path, e);
    if (absl::Status s = on_field(key, fv); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Runs `on_element(index, value)` for each element of `v` (an array or null).
template <typename OnElement>
absl::Status ForEachElement(od::value v, absl::string_view path,
                            OnElement&& on_element) {
  std::optional<od::array> arr;
  if (error_code e = ReadArray(v, &arr)) {
    return Malformed(absl::StrCat(path, ": expected an array"), e);
  }
  if (!arr) return absl::OkStatus();
  size_t i = 0;
  for (auto element : *arr) {
    od::value ev;
    if (error_code e = std::move(element).get(ev)) return Malformed(path, e);
    if (absl::Status s = on_element(i, ev); !s.ok()) return s;
    ++i;
  }
  return absl::OkStatus();
}

// Reads a `usage` object (or null) into *u, setting the fields it finds
// (the rest keep their values): prompt/completion/total tokens, prompt_tokens_details.cached_tokens,
// completion_tokens_details.reasoning_tokens. Errors name "usage.<field>".
absl::Status ParseUsage(od::value v, llmgateway::v1::Usage* u);

// Some servers leave total_tokens out (or null); the v1 API promises it:
// prompt + completion when it is 0 (unless that overflows).
void FillTotalTokens(llmgateway::v1::Usage* u);

}  // namespace llmgateway::openai::json

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_JSON_FIELDS_H_
