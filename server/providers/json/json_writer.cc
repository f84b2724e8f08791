// JsonWriter: RFC 8259 text straight into the caller's string, for request
// bodies built in one pass.
#include "server/providers/json/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace llmgateway::json {
namespace {

// 0: copy as is; otherwise the character after the backslash ('u': \u00XX).
constexpr char EscapeFor(unsigned char c) {
  switch (c) {
    case '"':
      return '"';
    case '\\':
      return '\\';
    case '\b':
      return 'b';
    case '\f':
      return 'f';
    case '\n':
      return 'n';
    case '\r':
      return 'r';
    case '\t':
      return 't';
    default:
      return c < 0x20 ? 'u' : 0;
  }
}

struct EscapeTable {
  char at[256];
  constexpr EscapeTable() : at() {
    for (int c = 0; c < 256; ++c)
      at[c] = EscapeFor(static_cast<unsigned char>(c));
  }
};
constexpr EscapeTable kEscape;

}  // namespace

void AppendJsonString(absl::string_view value, std::string* out) {
  // Most text needs no escaping: reserve for that case and copy runs of
  // plain bytes at once rather than byte by byte.
  out->reserve(out->size() + value.size() + 2);
  out->push_back('"');
  const char* run = value.data();
  const char* const end = value.data() + value.size();
  for (const char* p = run; p != end; ++p) {
    const char esc = kEscape.at[static_cast<unsigned char>(*p)];
    if (esc == 0) continue;
    out->append(run, p - run);
    run = p + 1;
    if (esc != 'u') {
      const char two[2] = {'\\', esc};
      out->append(two, 2);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      const unsigned char c = static_cast<unsigned char>(*p);
      const char six[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out->append(six, 6);
    }
  }
  out->append(run, end - run);
  out->push_back('"');
}

JsonWriter::JsonWriter(std::string* out) : out_(out) {}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (has_member_.empty()) return;
  if (has_member_.back()) out_->push_back(',');
  has_member_.back() = true;
}

JsonWriter& JsonWriter::BeginObject() {
  BeforeValue();
  out_->push_back('{');
  has_member_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  if (!has_member_.empty()) has_member_.pop_back();
  out_->push_back('}');
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  BeforeValue();
  out_->push_back('[');
  has_member_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  if (!has_member_.empty()) has_member_.pop_back();
  out_->push_back(']');
  return *this;
}

JsonWriter& JsonWriter::Key(absl::string_view key) {
  // A key takes the comma; the value that follows must not add another.
  BeforeValue();
  AppendJsonString(key, out_);
  out_->push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(absl::string_view value) {
  BeforeValue();
  AppendJsonString(value, out_);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  BeforeValue();
  absl::StrAppend(out_, value);
  return *this;
}

JsonWriter& JsonWriter::Double(double value) {
  BeforeValue();
  if (!std::isfinite(value)) {
    out_->append("null");
    return *this;
  }
  // to_chars without a precision gives the shortest text that reads back as
  // the same double (1 -> "1", 0.1 -> "0.1"). Its plain form writes a large
  // integral double as all its digits ("18446744073709551616"), which
  // integer-first parsers (simdjson among them) reject as out of range, so
  // from 1e16 on (past 2^53, where doubles stop being exact integers) the
  // exponent form is forced.
  char buf[32];
  const std::to_chars_result r =
      std::fabs(value) < 1e16 ? std::to_chars(buf, buf + sizeof(buf), value)
                              : std::to_chars(buf, buf + sizeof(buf), value,
                                              std::chars_format::scientific);
  if (r.ec == std::errc()) {
    out_->append(buf, r.ptr - buf);
  } else {
    out_->append("null");  // Unreachable: 32 bytes hold any double.
  }
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  BeforeValue();
  out_->append(value ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
  return *this;
}

JsonWriter& JsonWriter::RawJson(absl::string_view json) {
  BeforeValue();
  out_->append(json.data(), json.size());
  return *this;
}

JsonWriter& JsonWriter::ProtoValue(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      return Double(value.number_value());
    case google::protobuf::Value::kStringValue:
      return String(value.string_value());
    case google::protobuf::Value::kBoolValue:
      return Bool(value.bool_value());
    case google::protobuf::Value::kStructValue:
      return ProtoStruct(value.struct_value());
    case google::protobuf::Value::kListValue:
      BeginArray();
      for (const google::protobuf::Value& v : value.list_value().values()) {
        ProtoValue(v);
      }
      return EndArray();
    case google::protobuf::Value::kNullValue:
    case google::protobuf::Value::KIND_NOT_SET:
      // An unset Value has no JSON form of its own; null keeps the output
      // valid (protobuf's JSON printer rejects it instead).
      return Null();
  }
  return Null();
}

JsonWriter& JsonWriter::ProtoStruct(const google::protobuf::Struct& value) {
  // protobuf maps iterate in no defined order; sorting the keys makes the
  // bytes sent upstream reproducible (golden tests, request logs, caches).
  using Entry =
      google::protobuf::Map<std::string, google::protobuf::Value>::value_type;
  std::vector<const Entry*> entries;
  entries.reserve(value.fields().size());
  for (const Entry& e : value.fields()) entries.push_back(&e);
  std::sort(entries.begin(), entries.end(),
            [](const Entry* a, const Entry* b) { return a->first < b->first; });
  BeginObject();
  for (const Entry* e : entries) {
    Key(e->first);
    ProtoValue(e->second);
  }
  return EndObject();
}

}  // namespace llmgateway::json
