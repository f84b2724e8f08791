#include "client/openai_chat.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/util/json_util.h"

namespace llmgateway::client {
namespace {

namespace v1 = ::llmgateway::v1;
using ::google::protobuf::ListValue;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;

// Reads one body; the first problem found wins and everything after it is
// skipped (each step checks ok()).
class BodyReader {
 public:
  absl::StatusOr<v1::GenerateRequest> Read(const Struct& body, const std::string& path);

 private:
  bool ok() const { return status_.ok(); }
  bool Fail(const std::string& path, absl::string_view problem) {
    if (status_.ok()) status_ = absl::InvalidArgumentError(absl::StrCat(path, ": ", problem));
    return false;
  }

  bool String(const Value& v, const std::string& path, std::string* out);
  bool Number(const Value& v, const std::string& path, double* out);
  bool Integer(const Value& v, const std::string& path, int64_t lo, int64_t hi, int64_t* out);
  bool Bool(const Value& v, const std::string& path, bool* out);
  const Struct* Object(const Value& v, const std::string& path);
  const ListValue* List(const Value& v, const std::string& path);
  // The member `key` of `object`, or null (a JSON null counts as absent).
  static const Value* Member(const Struct& object, absl::string_view key);

  void Message(const Struct& m, const std::string& path, v1::Message* out);
  void ContentParts(const Value& content, const std::string& path, v1::Message* out);
  void ContentPart(const Struct& part, const std::string& path, v1::Message* out);
  bool DataUrl(const std::string& url, const std::string& path, v1::Media* media);
  void ToolCalls(const ListValue& calls, const std::string& path, v1::Message* out);
  void ToolMessage(const Struct& m, const std::string& path, v1::Message* out);
  void Tools(const ListValue& tools, const std::string& path, v1::GenerateRequest* out);
  void ToolChoice(const Value& choice, const std::string& path, v1::ToolChoice* out);
  void ResponseFormat(const Struct& format, const std::string& path, v1::ResponseFormat* out);

  absl::Status status_;
};

const Value* BodyReader::Member(const Struct& object, absl::string_view key) {
  auto it = object.fields().find(std::string(key));
  if (it == object.fields().end() || it->second.kind_case() == Value::kNullValue) return nullptr;
  return &it->second;
}

bool BodyReader::String(const Value& v, const std::string& path, std::string* out) {
  if (v.kind_case() != Value::kStringValue) return Fail(path, "must be a string");
  *out = v.string_value();
  return true;
}

bool BodyReader::Number(const Value& v, const std::string& path, double* out) {
  if (v.kind_case() != Value::kNumberValue) return Fail(path, "must be a number");
  *out = v.number_value();
  return true;
}

bool BodyReader::Integer(const Value& v, const std::string& path, int64_t lo, int64_t hi,
                         int64_t* out) {
  double d = 0;
  if (!Number(v, path, &d)) return false;
  // JSON numbers arrive as doubles: integral and in range, or refused.
  if (std::floor(d) != d || d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
    return Fail(path, absl::StrCat("must be an integer from ", lo, " to ", hi));
  }
  *out = static_cast<int64_t>(d);
  return true;
}

bool BodyReader::Bool(const Value& v, const std::string& path, bool* out) {
  if (v.kind_case() != Value::kBoolValue) return Fail(path, "must be true or false");
  *out = v.bool_value();
  return true;
}

const Struct* BodyReader::Object(const Value& v, const std::string& path) {
  if (v.kind_case() != Value::kStructValue) {
    Fail(path, "must be an object");
    return nullptr;
  }
  return &v.struct_value();
}

const ListValue* BodyReader::List(const Value& v, const std::string& path) {
  if (v.kind_case() != Value::kListValue) {
    Fail(path, "must be an array");
    return nullptr;
  }
  return &v.list_value();
}

void BodyReader::Message(const Struct& m, const std::string& path, v1::Message* out) {
  std::string role;
  const Value* role_value = Member(m, "role");
  if (role_value == nullptr) {
    Fail(path + ".role", "is required");
    return;
  }
  if (!String(*role_value, path + ".role", &role)) return;
  if (const Value* name = Member(m, "name")) {
    if (!String(*name, path + ".name", out->mutable_name())) return;
  }
  if (role == "system") {
    out->set_role(v1::ROLE_SYSTEM);
  } else if (role == "developer") {
    out->set_role(v1::ROLE_DEVELOPER);
  } else if (role == "user") {
    out->set_role(v1::ROLE_USER);
  } else if (role == "assistant") {
    out->set_role(v1::ROLE_ASSISTANT);
  } else if (role == "tool") {
    out->set_role(v1::ROLE_TOOL);
    ToolMessage(m, path, out);
    return;
  } else {
    Fail(path + ".role", absl::StrCat("\"", absl::CHexEscape(role),
                                      "\" is not one of system, developer, user, assistant, tool"));
    return;
  }
  if (const Value* content = Member(m, "content")) ContentParts(*content, path + ".content", out);
  if (const Value* calls = Member(m, "tool_calls"); calls != nullptr && ok()) {
    if (out->role() != v1::ROLE_ASSISTANT) {
      Fail(path + ".tool_calls", "only assistant messages make tool calls");
      return;
    }
    if (const ListValue* list = List(*calls, path + ".tool_calls")) {
      ToolCalls(*list, path + ".tool_calls", out);
    }
  }
}

void BodyReader::ContentParts(const Value& content, const std::string& path, v1::Message* out) {
  if (content.kind_case() == Value::kStringValue) {
    out->add_parts()->set_text(content.string_value());
    return;
  }
  const ListValue* parts = List(content, path);
  if (parts == nullptr) return;
  for (int j = 0; j < parts->values_size() && ok(); ++j) {
    const std::string part_path = absl::StrCat(path, "[", j, "]");
    if (const Struct* part = Object(parts->values(j), part_path)) {
      ContentPart(*part, part_path, out);
    }
  }
}

void BodyReader::ContentPart(const Struct& part, const std::string& path, v1::Message* out) {
  std::string type;
  const Value* type_value = Member(part, "type");
  if (type_value == nullptr) {
    Fail(path + ".type", "is required");
    return;
  }
  if (!String(*type_value, path + ".type", &type)) return;
  if (type == "text" || type == "refusal") {
    const Value* text = Member(part, type);
    if (text == nullptr) {
      Fail(absl::StrCat(path, ".", type), "is required");
      return;
    }
    String(*text, absl::StrCat(path, ".", type), out->add_parts()->mutable_text());
    return;
  }
  if (out->role() != v1::ROLE_USER) {
    Fail(path + ".type", absl::StrCat("\"", absl::CHexEscape(type),
                                      "\" parts belong in user messages"));
    return;
  }
  if (type == "image_url") {
    const Value* image = Member(part, "image_url");
    const Struct* object = image ? Object(*image, path + ".image_url") : nullptr;
    const Value* url = object ? Member(*object, "url") : nullptr;
    if (url == nullptr) {
      Fail(path + ".image_url.url", "is required");
      return;
    }
    std::string text;
    if (!String(*url, path + ".image_url.url", &text)) return;
    v1::Media* media = out->add_parts()->mutable_media();
    if (absl::StartsWith(text, "data:")) {
      DataUrl(text, path + ".image_url.url", media);
    } else {
      // The URL's image type is the upstream's to find out; `detail` has no
      // place in v1 and is dropped.
      media->set_mime_type("image/*");
      media->set_uri(std::move(text));
    }
    return;
  }
  if (type == "input_audio") {
    const Value* audio = Member(part, "input_audio");
    const Struct* object = audio ? Object(*audio, path + ".input_audio") : nullptr;
    if (object == nullptr) {
      Fail(path + ".input_audio", "is required");
      return;
    }
    const Value* data = Member(*object, "data");
    const Value* format = Member(*object, "format");
    std::string base64, fmt;
    if (data == nullptr) {
      Fail(path + ".input_audio.data", "is required");
      return;
    }
    if (format == nullptr) {
      Fail(path + ".input_audio.format", "is required");
      return;
    }
    if (!String(*data, path + ".input_audio.data", &base64) ||
        !String(*format, path + ".input_audio.format", &fmt)) {
      return;
    }
    if (fmt != "wav" && fmt != "mp3") {
      Fail(path + ".input_audio.format", "must be \"wav\" or \"mp3\"");
      return;
    }
    v1::Media* media = out->add_parts()->mutable_media();
    media->set_mime_type(fmt == "wav" ? "audio/wav" : "audio/mpeg");
    if (!absl::Base64Unescape(base64, media->mutable_data())) {
      Fail(path + ".input_audio.data", "is not base64");
    }
    return;
  }
  if (type == "file") {
    const Value* file = Member(part, "file");
    const Struct* object = file ? Object(*file, path + ".file") : nullptr;
    if (object == nullptr) {
      Fail(path + ".file", "is required");
      return;
    }
    v1::Media* media = out->add_parts()->mutable_media();
    if (const Value* data = Member(*object, "file_data")) {
      std::string url;
      if (String(*data, path + ".file.file_data", &url)) {
        DataUrl(url, path + ".file.file_data", media);
      }
    } else if (const Value* id = Member(*object, "file_id")) {
      // An uploaded file's id: the gateway sends it on as file_id.
      media->set_mime_type("application/pdf");
      String(*id, path + ".file.file_id", media->mutable_uri());
    } else {
      Fail(path + ".file", "needs file_data or file_id");
    }
    return;
  }
  Fail(path + ".type", absl::StrCat("\"", absl::CHexEscape(type),
                                    "\" is not one of text, image_url, input_audio, file"));
}

// "data:<type>[;params];base64,<payload>" -> the type and the decoded bytes.
bool BodyReader::DataUrl(const std::string& url, const std::string& path, v1::Media* media) {
  const size_t comma = url.find(',');
  absl::string_view header =
      absl::string_view(url).substr(5, comma == std::string::npos ? 0 : comma - 5);
  if (comma == std::string::npos || !absl::EndsWith(header, ";base64")) {
    return Fail(path, "a data: URL must be base64 (data:<type>;base64,...)");
  }
  header.remove_suffix(7);
  const size_t semicolon = header.find(';');
  std::string mime(header.substr(0, semicolon));
  if (mime.empty()) return Fail(path, "a data: URL must name its media type");
  media->set_mime_type(std::move(mime));
  if (!absl::Base64Unescape(absl::string_view(url).substr(comma + 1), media->mutable_data())) {
    return Fail(path, "the data: URL's payload is not base64");
  }
  return true;
}

void BodyReader::ToolCalls(const ListValue& calls, const std::string& path, v1::Message* out) {
  for (int k = 0; k < calls.values_size() && ok(); ++k) {
    const std::string call_path = absl::StrCat(path, "[", k, "]");
    const Struct* call = Object(calls.values(k), call_path);
    if (call == nullptr) return;
    v1::ToolCall* tool_call = out->add_parts()->mutable_tool_call();
    const Value* id = Member(*call, "id");
    if (id == nullptr) {
      Fail(call_path + ".id", "is required");
      return;
    }
    if (!String(*id, call_path + ".id", tool_call->mutable_id())) return;
    const Value* function = Member(*call, "function");
    const Struct* f = function ? Object(*function, call_path + ".function") : nullptr;
    const Value* name = f ? Member(*f, "name") : nullptr;
    if (name == nullptr) {
      Fail(call_path + ".function.name", "is required");
      return;
    }
    if (!String(*name, call_path + ".function.name", tool_call->mutable_name())) return;
    if (const Value* arguments = Member(*f, "arguments")) {
      String(*arguments, call_path + ".function.arguments", tool_call->mutable_arguments());
    }
  }
}

void BodyReader::ToolMessage(const Struct& m, const std::string& path, v1::Message* out) {
  v1::ToolResult* result = out->add_parts()->mutable_tool_result();
  const Value* id = Member(m, "tool_call_id");
  if (id == nullptr) {
    Fail(path + ".tool_call_id", "is required");
    return;
  }
  if (!String(*id, path + ".tool_call_id", result->mutable_tool_call_id())) return;
  const Value* content = Member(m, "content");
  if (content == nullptr) return;
  if (content->kind_case() == Value::kStringValue) {
    result->set_content(content->string_value());
    return;
  }
  // Text parts, joined as OpenAI reads them.
  v1::Message texts;
  texts.set_role(v1::ROLE_USER);
  ContentParts(*content, path + ".content", &texts);
  for (int j = 0; j < texts.parts_size() && ok(); ++j) {
    if (!texts.parts(j).has_text()) {
      Fail(absl::StrCat(path, ".content[", j, "]"), "a tool message's content is text");
      return;
    }
    result->mutable_content()->append(texts.parts(j).text());
  }
}

void BodyReader::Tools(const ListValue& tools, const std::string& path,
                       v1::GenerateRequest* out) {
  for (int k = 0; k < tools.values_size() && ok(); ++k) {
    const std::string tool_path = absl::StrCat(path, "[", k, "]");
    const Struct* tool = Object(tools.values(k), tool_path);
    if (tool == nullptr) return;
    const Value* type = Member(*tool, "type");
    if (type != nullptr &&
        (type->kind_case() != Value::kStringValue || type->string_value() != "function")) {
      Fail(tool_path + ".type", "must be \"function\"");
      return;
    }
    const Value* function = Member(*tool, "function");
    const Struct* f = function ? Object(*function, tool_path + ".function") : nullptr;
    if (f == nullptr) {
      Fail(tool_path + ".function", "is required");
      return;
    }
    v1::Tool* t = out->add_tools();
    const Value* name = Member(*f, "name");
    if (name == nullptr) {
      Fail(tool_path + ".function.name", "is required");
      return;
    }
    if (!String(*name, tool_path + ".function.name", t->mutable_name())) return;
    if (const Value* description = Member(*f, "description")) {
      if (!String(*description, tool_path + ".function.description", t->mutable_description())) {
        return;
      }
    }
    if (const Value* parameters = Member(*f, "parameters")) {
      if (const Struct* p = Object(*parameters, tool_path + ".function.parameters")) {
        *t->mutable_parameters() = *p;
      }
    }
    if (const Value* strict = Member(*f, "strict")) {
      bool b = false;
      if (Bool(*strict, tool_path + ".function.strict", &b)) t->set_strict(b);
    }
  }
}

void BodyReader::ToolChoice(const Value& choice, const std::string& path, v1::ToolChoice* out) {
  if (choice.kind_case() == Value::kStringValue) {
    const std::string& mode = choice.string_value();
    if (mode == "auto") {
      out->set_mode(v1::ToolChoice::MODE_AUTO);
    } else if (mode == "none") {
      out->set_mode(v1::ToolChoice::MODE_NONE);
    } else if (mode == "required") {
      out->set_mode(v1::ToolChoice::MODE_REQUIRED);
    } else {
      Fail(path, "must be \"auto\", \"none\", \"required\" or a function");
    }
    return;
  }
  const Struct* object = Object(choice, path);
  const Value* function = object ? Member(*object, "function") : nullptr;
  const Struct* f = function ? Object(*function, path + ".function") : nullptr;
  const Value* name = f ? Member(*f, "name") : nullptr;
  if (name == nullptr) {
    Fail(path + ".function.name", "is required");
    return;
  }
  out->set_mode(v1::ToolChoice::MODE_REQUIRED);
  String(*name, path + ".function.name", out->mutable_function_name());
}

void BodyReader::ResponseFormat(const Struct& format, const std::string& path,
                                v1::ResponseFormat* out) {
  const Value* type = Member(format, "type");
  std::string t;
  if (type == nullptr) {
    Fail(path + ".type", "is required");
    return;
  }
  if (!String(*type, path + ".type", &t)) return;
  if (t == "text") {
    out->mutable_text();
  } else if (t == "json_object") {
    out->mutable_json_object();
  } else if (t == "json_schema") {
    v1::ResponseFormat::JsonSchema* schema = out->mutable_json_schema();
    const Value* js = Member(format, "json_schema");
    const Struct* object = js ? Object(*js, path + ".json_schema") : nullptr;
    if (object == nullptr) {
      Fail(path + ".json_schema", "is required");
      return;
    }
    if (const Value* name = Member(*object, "name")) {
      if (!String(*name, path + ".json_schema.name", schema->mutable_name())) return;
    }
    if (const Value* s = Member(*object, "schema")) {
      if (const Struct* body = Object(*s, path + ".json_schema.schema")) {
        *schema->mutable_schema() = *body;
      }
    }
    if (const Value* strict = Member(*object, "strict")) {
      bool b = false;
      if (Bool(*strict, path + ".json_schema.strict", &b)) schema->set_strict(b);
    }
  } else {
    Fail(path + ".type", "must be \"text\", \"json_object\" or \"json_schema\"");
  }
}

absl::StatusOr<v1::GenerateRequest> BodyReader::Read(const Struct& body, const std::string& path) {
  v1::GenerateRequest request;
  auto field = [&](absl::string_view key) { return absl::StrCat(path, ".", key); };

  const Value* model = Member(body, "model");
  if (model == nullptr) return absl::InvalidArgumentError(field("model") + ": is required");
  String(*model, field("model"), request.mutable_model());

  const Value* messages = Member(body, "messages");
  if (messages == nullptr && ok()) Fail(field("messages"), "is required");
  if (const ListValue* list = messages && ok() ? List(*messages, field("messages")) : nullptr) {
    for (int i = 0; i < list->values_size() && ok(); ++i) {
      const std::string message_path = absl::StrCat(field("messages"), "[", i, "]");
      if (const Struct* m = Object(list->values(i), message_path)) {
        Message(*m, message_path, request.add_messages());
      }
    }
  }

  v1::GenerationConfig& config = *request.mutable_config();
  double d = 0;
  int64_t n = 0;
  if (const Value* v = Member(body, "temperature"); v && Number(*v, field("temperature"), &d)) {
    config.set_temperature(d);
  }
  if (const Value* v = Member(body, "top_p"); v && Number(*v, field("top_p"), &d)) {
    config.set_top_p(d);
  }
  if (const Value* v = Member(body, "top_k"); v && Integer(*v, field("top_k"), 0, INT32_MAX, &n)) {
    config.set_top_k(static_cast<int32_t>(n));
  }
  const Value* max_tokens = Member(body, "max_tokens");
  const Value* max_completion_tokens = Member(body, "max_completion_tokens");
  if (max_tokens && max_completion_tokens) {
    Fail(field("max_tokens"), "give max_tokens or max_completion_tokens, not both");
  }
  const Value* limit = max_completion_tokens ? max_completion_tokens : max_tokens;
  const char* limit_name = max_completion_tokens ? "max_completion_tokens" : "max_tokens";
  if (limit && ok() && Integer(*limit, field(limit_name), 1, INT32_MAX, &n)) {
    config.set_max_output_tokens(static_cast<int32_t>(n));
  }
  if (const Value* v = Member(body, "stop"); v && ok()) {
    if (v->kind_case() == Value::kStringValue) {
      config.add_stop_sequences(v->string_value());
    } else if (const ListValue* stops = List(*v, field("stop"))) {
      for (int k = 0; k < stops->values_size() && ok(); ++k) {
        String(stops->values(k), absl::StrCat(field("stop"), "[", k, "]"),
               config.add_stop_sequences());
      }
    }
  }
  if (const Value* v = Member(body, "seed"); v && Integer(*v, field("seed"), INT64_MIN / 2,
                                                          INT64_MAX / 2, &n)) {
    config.set_seed(n);
  }
  if (const Value* v = Member(body, "presence_penalty");
      v && Number(*v, field("presence_penalty"), &d)) {
    config.set_presence_penalty(d);
  }
  if (const Value* v = Member(body, "frequency_penalty");
      v && Number(*v, field("frequency_penalty"), &d)) {
    config.set_frequency_penalty(d);
  }
  bool b = false;
  if (const Value* v = Member(body, "parallel_tool_calls");
      v && Bool(*v, field("parallel_tool_calls"), &b)) {
    config.set_parallel_tool_calls(b);
  }
  if (const Value* v = Member(body, "response_format"); v && ok()) {
    if (const Struct* f = Object(*v, field("response_format"))) {
      ResponseFormat(*f, field("response_format"), config.mutable_response_format());
    }
  }
  if (const Value* v = Member(body, "reasoning_effort"); v && ok()) {
    String(*v, field("reasoning_effort"), config.mutable_reasoning()->mutable_effort());
  }
  if (const Value* v = Member(body, "tools"); v && ok()) {
    if (const ListValue* tools = List(*v, field("tools"))) Tools(*tools, field("tools"), &request);
  }
  if (const Value* v = Member(body, "tool_choice"); v && ok()) {
    ToolChoice(*v, field("tool_choice"), request.mutable_tool_choice());
  }
  if (const Value* v = Member(body, "user"); v && ok()) {
    String(*v, field("user"), request.mutable_end_user_id());
  }
  if (const Value* v = Member(body, "stream"); v && Bool(*v, field("stream"), &b) && b) {
    Fail(field("stream"), "batch items are not streamed");
  }
  if (const Value* v = Member(body, "n");
      v && (v->kind_case() != Value::kNumberValue || v->number_value() != 1)) {
    Fail(field("n"), "must be 1: the gateway returns one choice");
  }
  if (!ok()) return status_;
  if (request.config().ByteSizeLong() == 0) request.clear_config();

  // Everything else is the upstream's own: passed on, as an OpenAI
  // provider's options.
  static constexpr absl::string_view kMapped[] = {
      "model", "messages", "temperature", "top_p", "top_k", "max_tokens",
      "max_completion_tokens", "stop", "seed", "presence_penalty", "frequency_penalty",
      "parallel_tool_calls", "response_format", "reasoning_effort", "tools", "tool_choice",
      "user", "stream", "stream_options", "n"};
  for (const auto& [key, value] : body.fields()) {
    bool mapped = false;
    for (absl::string_view k : kMapped) mapped = mapped || k == key;
    if (mapped || value.kind_case() == Value::kNullValue) continue;
    (*(*request.mutable_provider_options())["openai"].mutable_fields())[key] = value;
  }
  return request;
}

const char* FinishReasonName(v1::FinishReason reason) {
  switch (reason) {
    case v1::FINISH_REASON_STOP: return "stop";
    case v1::FINISH_REASON_LENGTH: return "length";
    case v1::FINISH_REASON_CONTENT_FILTER: return "content_filter";
    case v1::FINISH_REASON_TOOL_CALLS: return "tool_calls";
    case v1::FINISH_REASON_OTHER: return "other";
    default: return nullptr;
  }
}

int32_t Tokens(int64_t n) { return static_cast<int32_t>(std::min<int64_t>(n, INT32_MAX)); }

}  // namespace

absl::StatusOr<v1::GenerateRequest> ChatBodyToRequest(const Struct& body, const std::string& path) {
  return BodyReader().Read(body, path);
}

openai::ChatCompletion ResponseToChatCompletion(const v1::GenerateResponse& response) {
  openai::ChatCompletion completion;
  completion.set_id(response.id());
  completion.set_object("chat.completion");
  completion.set_model(response.model());

  openai::Choice& choice = *completion.add_choices();
  choice.set_index(0);
  if (const char* reason = FinishReasonName(response.finish_reason())) {
    choice.mutable_finish_reason()->set_string_value(reason);
  } else {
    choice.mutable_finish_reason()->set_null_value(google::protobuf::NULL_VALUE);
  }
  openai::ChatMessage& message = *choice.mutable_message();
  message.set_role("assistant");
  std::string reasoning;
  for (const v1::Part& part : response.message().parts()) {
    if (part.has_reasoning()) reasoning += part.reasoning().text();
    if (!part.has_tool_call()) continue;
    openai::ToolCall& call = *message.add_tool_calls();
    call.set_id(part.tool_call().id());
    call.set_type("function");
    call.mutable_function()->set_name(part.tool_call().name());
    call.mutable_function()->set_arguments(part.tool_call().arguments());
  }
  if (response.text().empty() && message.tool_calls_size() > 0) {
    message.mutable_content()->set_null_value(google::protobuf::NULL_VALUE);
  } else {
    message.mutable_content()->set_string_value(response.text());
  }
  if (!reasoning.empty()) message.set_reasoning_content(std::move(reasoning));

  if (response.has_usage()) {
    const v1::Usage& u = response.usage();
    openai::Usage& usage = *completion.mutable_usage();
    usage.set_prompt_tokens(Tokens(u.prompt_tokens()));
    usage.set_completion_tokens(Tokens(u.completion_tokens()));
    usage.set_total_tokens(Tokens(u.total_tokens()));
    if (u.cached_prompt_tokens() > 0) {
      usage.mutable_prompt_tokens_details()->set_cached_tokens(Tokens(u.cached_prompt_tokens()));
    }
    if (u.reasoning_tokens() > 0) {
      usage.mutable_completion_tokens_details()->set_reasoning_tokens(Tokens(u.reasoning_tokens()));
    }
  }
  return completion;
}

std::string ToOpenAiJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  // Printing a valid message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace llmgateway::client
