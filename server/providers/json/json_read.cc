// The shared simdjson On-Demand readers (see json_read.h).
#include "server/providers/json/json_read.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace llmgateway::json {

const char* ErrorName(error_code e) {
  switch (e) {
    case simdjson::SUCCESS:
      return "SUCCESS";
    case simdjson::CAPACITY:
      return "CAPACITY";
    case simdjson::MEMALLOC:
      return "MEMALLOC";
    case simdjson::TAPE_ERROR:
      return "TAPE_ERROR";
    case simdjson::DEPTH_ERROR:
      return "DEPTH_ERROR";
    case simdjson::STRING_ERROR:
      return "STRING_ERROR";
    case simdjson::T_ATOM_ERROR:
      return "T_ATOM_ERROR";
    case simdjson::F_ATOM_ERROR:
      return "F_ATOM_ERROR";
    case simdjson::N_ATOM_ERROR:
      return "N_ATOM_ERROR";
    case simdjson::NUMBER_ERROR:
      return "NUMBER_ERROR";
    case simdjson::UTF8_ERROR:
      return "UTF8_ERROR";
    case simdjson::UNINITIALIZED:
      return "UNINITIALIZED";
    case simdjson::EMPTY:
      return "EMPTY";
    case simdjson::UNESCAPED_CHARS:
      return "UNESCAPED_CHARS";
    case simdjson::UNCLOSED_STRING:
      return "UNCLOSED_STRING";
    case simdjson::UNSUPPORTED_ARCHITECTURE:
      return "UNSUPPORTED_ARCHITECTURE";
    case simdjson::INCORRECT_TYPE:
      return "INCORRECT_TYPE";
    case simdjson::NUMBER_OUT_OF_RANGE:
      return "NUMBER_OUT_OF_RANGE";
    case simdjson::INDEX_OUT_OF_BOUNDS:
      return "INDEX_OUT_OF_BOUNDS";
    case simdjson::NO_SUCH_FIELD:
      return "NO_SUCH_FIELD";
    case simdjson::IO_ERROR:
      return "IO_ERROR";
    case simdjson::INVALID_JSON_POINTER:
      return "INVALID_JSON_POINTER";
    case simdjson::INVALID_URI_FRAGMENT:
      return "INVALID_URI_FRAGMENT";
    case simdjson::UNEXPECTED_ERROR:
      return "UNEXPECTED_ERROR";
    case simdjson::PARSER_IN_USE:
      return "PARSER_IN_USE";
    case simdjson::OUT_OF_ORDER_ITERATION:
      return "OUT_OF_ORDER_ITERATION";
    case simdjson::INSUFFICIENT_PADDING:
      return "INSUFFICIENT_PADDING";
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      return "INCOMPLETE_ARRAY_OR_OBJECT";
    case simdjson::SCALAR_DOCUMENT_AS_VALUE:
      return "SCALAR_DOCUMENT_AS_VALUE";
    case simdjson::OUT_OF_BOUNDS:
      return "OUT_OF_BOUNDS";
    case simdjson::TRAILING_CONTENT:
      return "TRAILING_CONTENT";
    default:
      return "UNKNOWN_ERROR";
  }
}

absl::Status Malformed(absl::string_view what, error_code e) {
  return absl::UnavailableError(
      absl::StrCat(what, " (simdjson: ", ErrorName(e), ")"));
}

absl::Status FieldError(absl::string_view path, std::string_view key,
                        error_code e) {
  return Malformed(absl::StrCat(path, ".", AbslView(key)), e);
}

error_code CheckNull(od::value& v, bool* is_null) {
  od::json_type t;
  if (error_code e = v.type().get(t)) return e;
  *is_null = false;
  if (t != od::json_type::null) return simdjson::SUCCESS;
  // type() looks at the first byte only; is_null() checks the whole atom.
  if (error_code e = v.is_null().get(*is_null)) return e;
  return *is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
}

error_code ReadString(od::value v, std::string_view* out) {
  bool is_null;
  if (error_code e = CheckNull(v, &is_null); e || is_null) return e;
  return v.get_string().get(*out);
}

error_code ReadString(od::value v, std::string* out) {
  std::string_view s;
  bool is_null;
  if (error_code e = CheckNull(v, &is_null); e || is_null) return e;
  if (error_code e = v.get_string().get(s)) return e;
  out->assign(s.data(), s.size());
  return simdjson::SUCCESS;
}

error_code ReadInt(od::value v, int64_t* out) {
  bool is_null;
  if (error_code e = CheckNull(v, &is_null); e || is_null) return e;
  return v.get_int64().get(*out);
}

error_code ReadObject(od::value v, std::optional<od::object>* out) {
  bool is_null;
  if (error_code e = CheckNull(v, &is_null); e || is_null) return e;
  od::object obj;
  if (error_code e = v.get_object().get(obj)) return e;
  out->emplace(std::move(obj));
  return simdjson::SUCCESS;
}

error_code ReadArray(od::value v, std::optional<od::array>* out) {
  bool is_null;
  if (error_code e = CheckNull(v, &is_null); e || is_null) return e;
  od::array arr;
  if (error_code e = v.get_array().get(arr)) return e;
  out->emplace(std::move(arr));
  return simdjson::SUCCESS;
}

error_code ReadRawObject(od::value v, std::string_view* out) {
  std::optional<od::object> obj;
  if (error_code e = ReadObject(v, &obj); e || !obj) return e;
  std::string_view raw;
  if (error_code e = obj->raw_json().get(raw)) return e;
  const absl::string_view trimmed =
      absl::StripTrailingAsciiWhitespace(AbslView(raw));
  *out = std::string_view(trimmed.data(), trimmed.size());
  return simdjson::SUCCESS;
}

}  // namespace llmgateway::json
