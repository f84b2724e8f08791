// simdjson On-Demand readers shared by every adapter's body and event
// parsers: null-tolerant scalar reads, one-pass object/array walks, the walk
// of a document's root object, and status messages that name a path into
// the document but never quote it.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_JSON_JSON_READ_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_JSON_JSON_READ_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "simdjson.h"

namespace llmgateway::json {

namespace od = ::simdjson::ondemand;
using ::simdjson::error_code;

// simdjson hands out std::string_view; Debian's absl::string_view is its own
// class, not std::string_view, so the two do not convert.
inline absl::string_view AbslView(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

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
// An object's JSON text exactly as sent, without the whitespace after it,
// pointing into the document (a tool call's input, which v1 carries as text).
error_code ReadRawObject(od::value v, std::string_view* out);

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

// Parses `json` with `parser` and runs `on_field(key, value)` for each member
// of its root, which must be an object. The document must end with that
// object: `{...} garbage` (two bodies or events run together, a proxy's
// appendix) is TRAILING_CONTENT. `stop`, when given, ends the walk as soon as
// on_field has set it (an error payload, whose rest does not matter), without
// the trailing-content check. Views read in on_field point into the parser:
// valid until its next document.
template <typename OnField>
absl::Status ForEachRootField(od::parser& parser,
                              simdjson::padded_string_view json,
                              OnField&& on_field, const bool* stop = nullptr) {
  od::document doc;
  if (error_code e = parser.iterate(json).get(doc)) {
    return Malformed("not JSON", e);
  }
  od::object root;
  if (error_code e = doc.get_object().get(root)) {
    return Malformed("expected a JSON object", e);
  }
  for (auto field : root) {
    std::string_view key;
    if (error_code e = field.unescaped_key().get(key)) {
      return Malformed("top-level object", e);
    }
    od::value v;
    if (error_code e = field.value().get(v)) {
      return Malformed("top-level object", e);
    }
    if (absl::Status s = on_field(key, v); !s.ok()) return s;
    if (stop != nullptr && *stop) return absl::OkStatus();
  }
  // Closing the root object does not end the document.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return Malformed("trailing content after the JSON object",
                     simdjson::TRAILING_CONTENT);
  }
  return absl::OkStatus();
}

// For documents read only for words to pass on (error bodies), where a
// broken part must not lose what came before it: runs `on_field(key, value)`
// for each member of `obj` until it returns false. False when the object
// broke or on_field said so; what was read before stays read.
template <typename OnField>
bool ForEachMemberWhileIntact(od::object obj, OnField&& on_field) {
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    od::value v;
    if (field.value().get(v)) return false;
    if (!on_field(key, v)) return false;
  }
  return true;
}

}  // namespace llmgateway::json

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_JSON_JSON_READ_H_
