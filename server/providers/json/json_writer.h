// Streams JSON text into a string in one pass: the request bodies sent
// upstream are built once, with no intermediate document tree.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_JSON_JSON_WRITER_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_JSON_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace llmgateway::json {

// Appends to `*out`. Commas and key/value separators are placed
// automatically; the caller keeps Begin/End calls balanced.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out);

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // In an object: the next member's name.
  JsonWriter& Key(absl::string_view key);
  JsonWriter& String(absl::string_view value);
  JsonWriter& Int(int64_t value);
  // Non-finite values (NaN, inf) have no JSON form and are written as null.
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Already-valid JSON text, written as one value.
  JsonWriter& RawJson(absl::string_view json);
  // A google.protobuf.Value / Struct (JSON Schema, provider options).
  JsonWriter& ProtoValue(const google::protobuf::Value& value);
  JsonWriter& ProtoStruct(const google::protobuf::Struct& value);

 private:
  void BeforeValue();
  std::string* out_;
  // One entry per open container: whether it has a member yet.
  std::vector<bool> has_member_;
  bool after_key_ = false;
};

// Appends `value` as a JSON string literal (quoted, escaped) to `*out`.
void AppendJsonString(absl::string_view value, std::string* out);

}  // namespace llmgateway::json

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_JSON_JSON_WRITER_H_
