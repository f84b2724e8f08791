// GenerateRequest -> OpenAI /chat/completions body, written once with
// JsonWriter. A field the format cannot carry fails loudly (or is left out
// when the provider's config says to drop unsupported fields) instead of
// being dropped silently.
#include "server/providers/openai/chat_request.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/struct.pb.h"
#include "server/common/status_details.h"
#include "server/providers/json/json_writer.h"

namespace llmgateway::openai {
namespace {

using ::google::protobuf::Struct;
using ::llmgateway::json::JsonWriter;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerationConfig;
using ::llmgateway::v1::Media;
using ::llmgateway::v1::Message;
using ::llmgateway::v1::Part;
using ::llmgateway::v1::ResponseFormat;
using ::llmgateway::v1::ToolChoice;

// The key of this adapter's entry in GenerateRequest.provider_options: the
// provider *kind*, whatever name the provider has in the config.
constexpr absl::string_view kProviderKind = "openai";

// Body keys the gateway owns: an option overriding them would send the
// request somewhere else (model) or break the response parser (stream).
constexpr absl::string_view kGatewayKeys[] = {"model", "messages", "stream",
                                              "stream_options"};

// OpenAI's Chat Completions rejects inline file_data without a filename
// (400 "Missing required parameter ...file.file_id"), and v1 Media has none.
constexpr absl::string_view kPdfFilename = "document.pdf";

absl::Status NotSupported(absl::string_view field,
                          const ChatRequestOptions& o) {
  return WithErrorInfo(
      InvalidField(field, absl::StrCat("not supported by provider \"",
                                       o.provider_name, "\"")),
      "UNSUPPORTED_FIELD", {{kMetaField, field}, {kMetaProvider, o.provider_name}});
}

std::string PartPath(int i, int j) {
  return absl::StrCat("messages[", i, "].parts[", j, "]");
}

absl::StatusOr<absl::string_view> RoleName(const Message& m, int i) {
  switch (m.role()) {
    case v1::ROLE_SYSTEM:
      return absl::string_view("system");
    case v1::ROLE_DEVELOPER:
      return absl::string_view("developer");
    case v1::ROLE_USER:
      return absl::string_view("user");
    case v1::ROLE_ASSISTANT:
      return absl::string_view("assistant");
    case v1::ROLE_TOOL:
      return absl::string_view("tool");
    case v1::ROLE_UNSPECIFIED:
      return absl::InvalidArgumentError(
          absl::StrCat("messages[", i, "].role: must be set"));
    default:
      // Open enum: a value from a newer client.
      return absl::InvalidArgumentError(
          absl::StrCat("messages[", i, "].role: unknown value ",
                       static_cast<int>(m.role())));
  }
}

// "Image/PNG; foo=bar" -> "image/png": MIME types are case-insensitive, and
// parameters do not change which content part the media becomes.
std::string MimeEssence(absl::string_view mime) {
  const size_t semicolon = mime.find(';');
  if (semicolon != absl::string_view::npos) mime = mime.substr(0, semicolon);
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(mime));
}

bool MimeAllowed(absl::string_view essence,
                 absl::Span<const std::string> allowed) {
  if (allowed.empty()) return true;
  for (const std::string& entry : allowed) {
    const std::string e = absl::AsciiStrToLower(entry);
    if (e == essence) return true;
    if (absl::EndsWith(e, "/*") &&
        absl::StartsWith(essence,
                         absl::string_view(e).substr(0, e.size() - 1))) {
      return true;
    }
  }
  return false;
}

// RFC 3986 scheme ("https:", "data:", "gs:"): an OpenAI file id
// ("file-abc123") has none.
bool HasScheme(absl::string_view uri) {
  const size_t colon = uri.find(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  if (!absl::ascii_isalpha(static_cast<unsigned char>(uri[0]))) return false;
  for (size_t k = 1; k < colon; ++k) {
    const unsigned char c = static_cast<unsigned char>(uri[k]);
    if (!absl::ascii_isalnum(c) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

bool IsDataUrl(absl::string_view uri) {
  return absl::StartsWithIgnoreCase(uri, "data:");
}

// The payload of a base64 data: URL, or false for any other URI.
bool Base64Payload(absl::string_view uri, absl::string_view* payload) {
  if (!IsDataUrl(uri)) return false;
  const size_t comma = uri.find(',');
  if (comma == absl::string_view::npos) return false;
  if (!absl::EndsWithIgnoreCase(uri.substr(0, comma), ";base64")) return false;
  *payload = uri.substr(comma + 1);
  return true;
}

// A JSON string literal of `prefix` followed by `data` in base64. Base64 text
// needs no JSON escaping, so megabytes of media are not scanned for escapes.
std::string Base64Literal(absl::string_view prefix, absl::string_view data) {
  std::string b64;
  absl::Base64Escape(data, &b64);
  std::string literal;
  literal.reserve(prefix.size() + b64.size() + 8);
  json::AppendJsonString(prefix, &literal);
  literal.pop_back();  // Its closing quote: the base64 text goes first.
  literal.append(b64);
  literal.push_back('"');
  return literal;
}

// Writes one request body. Errors are kept in `status_` (the first one wins)
// so that every mapped field checks the unsupported-field policy in one line;
// Build() looks at it between stages and throws the half-written body away.
class BodyWriter {
 public:
  BodyWriter(const GenerateRequest& request, const ChatRequestOptions& options)
      : r_(request), o_(options) {
    auto it = r_.provider_options().find(std::string(kProviderKind));
    if (it != r_.provider_options().end()) provider_options_ = &it->second;
  }

  absl::StatusOr<std::string> Build();

 private:
  size_t EstimateSize() const;

  void Fail(absl::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  // Whether the provider's config lists `field` or a field above it
  // ("config.reasoning" covers "config.reasoning.effort").
  bool Listed(absl::string_view field) const {
    for (const std::string& entry : o_.unsupported_fields) {
      if (field == entry) return true;
      if (absl::StartsWith(field, entry) && field.size() > entry.size() &&
          field[entry.size()] == '.') {
        return true;
      }
    }
    return false;
  }

  // provider_options["openai"] sets this body key itself: the option wins,
  // so the gateway's own value is not written (a JSON key must not repeat).
  bool Overridden(absl::string_view key) const {
    return provider_options_ != nullptr &&
           provider_options_->fields().count(std::string(key)) > 0;
  }

  // A set field the provider cannot take: left out when dropping, else the
  // error naming it. Always false: there is nothing to write.
  bool Refuse(absl::string_view field) {
    if (!o_.drop_unsupported) Fail(NotSupported(field, o_));
    return false;
  }

  // Whether to write the set v1 `field` as the body's `key`.
  bool Send(absl::string_view field, absl::string_view key) {
    if (Overridden(key)) return false;
    if (Listed(field)) return Refuse(field);
    return true;
  }

  // Tool settings mean nothing to a provider without tools (and OpenAI
  // rejects tool_choice or parallel_tool_calls without tools), so "tools"
  // covers them too.
  bool SendToolSetting(absl::string_view field, absl::string_view key) {
    if (Overridden(key)) return false;
    if (Listed("tools") || Listed(field)) return Refuse(field);
    return true;
  }

  void CheckProviderOptions();
  void WriteMessage(const Message& m, int i);
  void WriteContentMessage(const Message& m, int i, absl::string_view role);
  void WriteAssistantMessage(const Message& m, int i);
  void WriteToolMessages(const Message& m, int i);
  void WriteMedia(const Media& media, int i, int j);
  void WriteTools();
  void WriteConfig(const GenerationConfig& c);
  void WriteResponseFormat(const ResponseFormat& f);
  void WriteProviderOptions();

  const GenerateRequest& r_;
  const ChatRequestOptions& o_;
  const Struct* provider_options_ = nullptr;
  std::string body_;
  JsonWriter w_{&body_};
  absl::Status status_;
};

void BodyWriter::CheckProviderOptions() {
  if (provider_options_ == nullptr) return;
  for (absl::string_view key : kGatewayKeys) {
    if (provider_options_->fields().count(std::string(key)) > 0) {
      Fail(absl::InvalidArgumentError(absl::StrCat("provider_options[\"",
                                                   kProviderKind, "\"].", key,
                                                   ": set by the gateway")));
      return;
    }
  }
}

void BodyWriter::WriteMessage(const Message& m, int i) {
  absl::StatusOr<absl::string_view> role = RoleName(m, i);
  if (!role.ok()) return Fail(role.status());
  for (int j = 0; j < m.parts_size(); ++j) {
    if (m.parts(j).kind_case() == Part::KIND_NOT_SET) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat(PartPath(i, j), ": must be set")));
    }
  }
  switch (m.role()) {
    case v1::ROLE_TOOL:
      return WriteToolMessages(m, i);
    case v1::ROLE_ASSISTANT:
      return WriteAssistantMessage(m, i);
    default:
      return WriteContentMessage(m, i, *role);
  }
}

// system, developer and user: text and (user only) media, in part order.
void BodyWriter::WriteContentMessage(const Message& m, int i,
                                     absl::string_view role) {
  int content_parts = 0;
  const Part* last = nullptr;
  for (int j = 0; j < m.parts_size(); ++j) {
    const Part& p = m.parts(j);
    switch (p.kind_case()) {
      case Part::kText:
        break;
      case Part::kMedia:
        // OpenAI takes image, audio and file parts in user messages only
        // (system and developer content is text); a clear error here beats
        // the upstream's 400.
        if (m.role() != v1::ROLE_USER) {
          return Fail(absl::InvalidArgumentError(absl::StrCat(
              PartPath(i, j), ".media: provider \"", o_.provider_name,
              "\" takes media in user messages only")));
        }
        break;
      case Part::kToolCall:
        return Fail(absl::InvalidArgumentError(absl::StrCat(
            PartPath(i, j),
            ": a tool_call part belongs in an assistant message")));
      case Part::kToolResult:
        return Fail(absl::InvalidArgumentError(absl::StrCat(
            PartPath(i, j), ": a tool_result part belongs in a tool message")));
      case Part::kReasoning:
      case Part::KIND_NOT_SET:
        continue;  // Reasoning is never sent: see WriteAssistantMessage.
    }
    ++content_parts;
    last = &p;
  }

  w_.BeginObject().Key("role").String(role);
  if (!m.name().empty()) w_.Key("name").String(m.name());
  w_.Key("content");
  if (content_parts == 0) {
    // Every role accepts a string; an empty one keeps the turn in place.
    w_.String("");
  } else if (content_parts == 1 && last->has_text()) {
    w_.String(last->text());
  } else {
    // Separate parts stay separate: joining them would invent a separator.
    w_.BeginArray();
    for (int j = 0; j < m.parts_size() && status_.ok(); ++j) {
      const Part& p = m.parts(j);
      if (p.has_text()) {
        w_.BeginObject().Key("type").String("text").Key("text").String(
            p.text());
        w_.EndObject();
      } else if (p.has_media()) {
        WriteMedia(p.media(), i, j);
      }
    }
    w_.EndArray();
  }
  w_.EndObject();
}

void BodyWriter::WriteMedia(const Media& media, int i, int j) {
  const std::string essence = MimeEssence(media.mime_type());
  if (essence.empty()) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(PartPath(i, j), ".media.mime_type: must be set")));
  }
  if (media.source_case() == Media::SOURCE_NOT_SET ||
      (media.has_data() && media.data().empty()) ||
      (media.has_uri() && media.uri().empty())) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(PartPath(i, j), ".media: data or uri must be set")));
  }
  auto unsupported_type = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        PartPath(i, j), ".media.mime_type: \"", media.mime_type(),
        "\" is not supported by provider \"", o_.provider_name, "\""));
  };
  if (!MimeAllowed(essence, o_.media_types)) return Fail(unsupported_type());

  if (absl::StartsWith(essence, "image/")) {
    w_.BeginObject().Key("type").String("image_url");
    w_.Key("image_url").BeginObject().Key("url");
    if (media.has_uri()) {
      w_.String(media.uri());
    } else {
      // The essence, not the caller's text: upstreams split data: URLs
      // naively, and parameters mean nothing to them.
      w_.RawJson(Base64Literal(absl::StrCat("data:", essence, ";base64,"),
                               media.data()));
    }
    w_.EndObject().EndObject();
    return;
  }

  const bool wav = essence == "audio/wav" || essence == "audio/x-wav";
  const bool mp3 = essence == "audio/mpeg" || essence == "audio/mp3";
  if (wav || mp3) {
    absl::string_view payload;
    if (media.has_uri() && !Base64Payload(media.uri(), &payload)) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          PartPath(i, j), ".media.uri: provider \"", o_.provider_name,
          "\" takes audio inline only (media.data or a base64 data: URL)")));
    }
    w_.BeginObject().Key("type").String("input_audio");
    w_.Key("input_audio").BeginObject().Key("data");
    if (media.has_uri()) {
      w_.String(payload);
    } else {
      w_.RawJson(Base64Literal("", media.data()));
    }
    w_.Key("format").String(wav ? "wav" : "mp3");
    w_.EndObject().EndObject();
    return;
  }

  if (essence == "application/pdf") {
    // Chat Completions takes a PDF inline or as an uploaded file's id; it
    // does not fetch URLs (only the Responses API has file_url).
    if (media.has_uri() && HasScheme(media.uri()) && !IsDataUrl(media.uri())) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          PartPath(i, j), ".media.uri: provider \"", o_.provider_name,
          "\" takes a PDF as data, a data: URL or an uploaded file id, not a "
          "URL")));
    }
    w_.BeginObject().Key("type").String("file");
    w_.Key("file").BeginObject();
    if (media.has_uri() && !IsDataUrl(media.uri())) {
      w_.Key("file_id").String(media.uri());
    } else {
      w_.Key("filename").String(kPdfFilename);
      w_.Key("file_data");
      if (media.has_uri()) {
        w_.String(media.uri());
      } else {
        w_.RawJson(Base64Literal("data:application/pdf;base64,", media.data()));
      }
    }
    w_.EndObject().EndObject();
    return;
  }

  Fail(unsupported_type());
}

// Text as content, tool calls as tool_calls. Reasoning parts are left out:
// OpenAI-compatible upstreams reject them in requests (and OpenAI keeps its
// own reasoning server-side).
void BodyWriter::WriteAssistantMessage(const Message& m, int i) {
  int texts = 0;
  int calls = 0;
  const Part* text = nullptr;
  for (int j = 0; j < m.parts_size(); ++j) {
    const Part& p = m.parts(j);
    switch (p.kind_case()) {
      case Part::kText:
        ++texts;
        text = &p;
        break;
      case Part::kToolCall:
        if (p.tool_call().id().empty()) {
          return Fail(absl::InvalidArgumentError(
              absl::StrCat(PartPath(i, j), ".tool_call.id: must be set")));
        }
        if (p.tool_call().name().empty()) {
          return Fail(absl::InvalidArgumentError(
              absl::StrCat(PartPath(i, j), ".tool_call.name: must be set")));
        }
        ++calls;
        break;
      case Part::kMedia:
        // The OpenAI format has no media in assistant turns.
        return Fail(absl::InvalidArgumentError(absl::StrCat(
            PartPath(i, j), ".media: provider \"", o_.provider_name,
            "\" takes media in user messages only")));
      case Part::kToolResult:
        return Fail(absl::InvalidArgumentError(absl::StrCat(
            PartPath(i, j), ": a tool_result part belongs in a tool message")));
      case Part::kReasoning:
      case Part::KIND_NOT_SET:
        break;
    }
  }

  w_.BeginObject().Key("role").String("assistant");
  if (!m.name().empty()) w_.Key("name").String(m.name());
  // The format keeps text and tool calls apart, so their relative order in
  // `parts` is lost; the order within each is kept.
  w_.Key("content");
  if (texts == 1) {
    w_.String(text->text());
  } else if (texts > 1) {
    w_.BeginArray();
    for (const Part& p : m.parts()) {
      if (!p.has_text()) continue;
      w_.BeginObject().Key("type").String("text").Key("text").String(p.text());
      w_.EndObject();
    }
    w_.EndArray();
  } else if (calls > 0) {
    w_.Null();
  } else {
    // Nothing left (no parts, or reasoning only): an empty string keeps the
    // turn, so user and assistant still alternate.
    w_.String("");
  }
  if (calls > 0) {
    w_.Key("tool_calls").BeginArray();
    for (const Part& p : m.parts()) {
      if (!p.has_tool_call()) continue;
      const v1::ToolCall& c = p.tool_call();
      w_.BeginObject().Key("id").String(c.id()).Key("type").String("function");
      w_.Key("function").BeginObject().Key("name").String(c.name());
      // A string holding the JSON text, as OpenAI sends it. Empty is no JSON
      // at all (servers that parse it, vLLM's chat templates among them,
      // fail): a call without arguments is "{}".
      w_.Key("arguments").String(c.arguments().empty() ? "{}" : c.arguments());
      w_.EndObject().EndObject();
    }
    w_.EndArray();
  }
  w_.EndObject();
}

// OpenAI wants one tool message per call answered. ToolResult.is_error has
// no field in this format: the content (which describes the error) goes as
// it is. ToolResult.name and Message.name neither: tool messages take none.
void BodyWriter::WriteToolMessages(const Message& m, int i) {
  if (m.parts_size() == 0) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "messages[", i, "].parts: a tool message holds tool_result parts")));
  }
  for (int j = 0; j < m.parts_size(); ++j) {
    const Part& p = m.parts(j);
    if (!p.has_tool_result()) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          PartPath(i, j), ": a tool message holds tool_result parts")));
    }
    const v1::ToolResult& t = p.tool_result();
    if (t.tool_call_id().empty()) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          PartPath(i, j), ".tool_result.tool_call_id: must be set")));
    }
    w_.BeginObject().Key("role").String("tool");
    w_.Key("tool_call_id").String(t.tool_call_id());
    w_.Key("content").String(t.content());
    w_.EndObject();
  }
}

void BodyWriter::WriteTools() {
  if (r_.tools_size() > 0 && Send("tools", "tools")) {
    w_.Key("tools").BeginArray();
    for (int k = 0; k < r_.tools_size(); ++k) {
      const v1::Tool& t = r_.tools(k);
      if (t.name().empty()) {
        return Fail(absl::InvalidArgumentError(
            absl::StrCat("tools[", k, "].name: must be set")));
      }
      w_.BeginObject().Key("type").String("function");
      w_.Key("function").BeginObject().Key("name").String(t.name());
      if (!t.description().empty()) {
        w_.Key("description").String(t.description());
      }
      if (t.has_parameters()) w_.Key("parameters").ProtoStruct(t.parameters());
      if (t.strict()) w_.Key("strict").Bool(true);
      w_.EndObject().EndObject();
    }
    w_.EndArray();
  }

  const ToolChoice& tc = r_.tool_choice();
  if (!tc.function_name().empty() && tc.mode() != ToolChoice::MODE_REQUIRED) {
    return Fail(absl::InvalidArgumentError(
        "tool_choice.function_name: only with MODE_REQUIRED"));
  }
  switch (tc.mode()) {
    case ToolChoice::MODE_UNSPECIFIED:
      break;  // Auto, OpenAI's default: nothing to send.
    case ToolChoice::MODE_AUTO:
      if (SendToolSetting("tool_choice", "tool_choice")) {
        w_.Key("tool_choice").String("auto");
      }
      break;
    case ToolChoice::MODE_NONE:
      if (SendToolSetting("tool_choice", "tool_choice")) {
        w_.Key("tool_choice").String("none");
      }
      break;
    case ToolChoice::MODE_REQUIRED:
      if (!SendToolSetting("tool_choice", "tool_choice")) break;
      w_.Key("tool_choice");
      if (tc.function_name().empty()) {
        w_.String("required");
      } else {
        w_.BeginObject().Key("type").String("function");
        w_.Key("function").BeginObject().Key("name").String(tc.function_name());
        w_.EndObject().EndObject();
      }
      break;
    default:
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          "tool_choice.mode: unknown value ", static_cast<int>(tc.mode()))));
  }

  if (r_.has_config() && r_.config().has_parallel_tool_calls() &&
      SendToolSetting("config.parallel_tool_calls", "parallel_tool_calls")) {
    w_.Key("parallel_tool_calls").Bool(r_.config().parallel_tool_calls());
  }
}

void BodyWriter::WriteConfig(const GenerationConfig& c) {
  if (c.has_temperature() && Send("config.temperature", "temperature")) {
    w_.Key("temperature").Double(c.temperature());
  }
  if (c.has_top_p() && Send("config.top_p", "top_p")) {
    w_.Key("top_p").Double(c.top_p());
  }
  // Not OpenAI's own parameter, but vLLM, llama.cpp's server and others
  // take it; providers that do not list it as unsupported.
  if (c.has_top_k() && Send("config.top_k", "top_k")) {
    w_.Key("top_k").Int(c.top_k());
  }
  const absl::string_view max_tokens_key =
      o_.max_tokens_field.empty() ? "max_tokens" : o_.max_tokens_field;
  // Either name in provider_options is the caller's own token limit: sending
  // the gateway's under the other name too would set two limits.
  if (c.has_max_output_tokens() && !Overridden("max_tokens") &&
      !Overridden("max_completion_tokens") &&
      Send("config.max_output_tokens", max_tokens_key)) {
    w_.Key(max_tokens_key).Int(c.max_output_tokens());
  }
  if (c.stop_sequences_size() > 0 && Send("config.stop_sequences", "stop")) {
    w_.Key("stop").BeginArray();
    for (const std::string& s : c.stop_sequences()) w_.String(s);
    w_.EndArray();
  }
  if (c.has_seed() && Send("config.seed", "seed")) w_.Key("seed").Int(c.seed());
  if (c.has_presence_penalty() &&
      Send("config.presence_penalty", "presence_penalty")) {
    w_.Key("presence_penalty").Double(c.presence_penalty());
  }
  if (c.has_frequency_penalty() &&
      Send("config.frequency_penalty", "frequency_penalty")) {
    w_.Key("frequency_penalty").Double(c.frequency_penalty());
  }
  if (c.has_response_format()) WriteResponseFormat(c.response_format());
  if (c.has_reasoning()) {
    const v1::ReasoningConfig& rc = c.reasoning();
    if (!rc.effort().empty() &&
        Send("config.reasoning.effort", "reasoning_effort")) {
      // As given: the values keep growing ("minimal", "xhigh", ...), and the
      // upstream knows which ones it takes.
      w_.Key("reasoning_effort").String(rc.effort());
    }
    // The OpenAI format has no token budget for reasoning, whatever the
    // provider's config says.
    if (rc.has_budget_tokens()) Refuse("config.reasoning.budget_tokens");
    // include_reasoning has no field either, and needs none: the response
    // mapping returns reasoning whenever the upstream sends it.
  }
}

void BodyWriter::WriteResponseFormat(const ResponseFormat& f) {
  switch (f.format_case()) {
    case ResponseFormat::kText:
      // Free text is what every upstream does without the field, so a
      // provider that cannot take it loses nothing: left out, no error.
      if (!Overridden("response_format") &&
          !Listed("config.response_format.text")) {
        w_.Key("response_format").BeginObject().Key("type").String("text");
        w_.EndObject();
      }
      break;
    case ResponseFormat::kJsonObject:
      if (Send("config.response_format.json_object", "response_format")) {
        w_.Key("response_format")
            .BeginObject()
            .Key("type")
            .String("json_object");
        w_.EndObject();
      }
      break;
    case ResponseFormat::kJsonSchema: {
      if (!Send("config.response_format.json_schema", "response_format")) break;
      const ResponseFormat::JsonSchema& s = f.json_schema();
      w_.Key("response_format").BeginObject().Key("type").String("json_schema");
      // OpenAI requires a name; the schema means the same under any.
      w_.Key("json_schema")
          .BeginObject()
          .Key("name")
          .String(s.name().empty() ? "response" : s.name());
      if (s.has_schema()) w_.Key("schema").ProtoStruct(s.schema());
      w_.Key("strict").Bool(s.strict());
      w_.EndObject().EndObject();
      break;
    }
    case ResponseFormat::FORMAT_NOT_SET:
      break;
  }
}

// Sorted keys, like JsonWriter::ProtoStruct: the same request gives the same
// bytes (golden tests, request logs).
void BodyWriter::WriteProviderOptions() {
  if (provider_options_ == nullptr) return;
  using Entry =
      google::protobuf::Map<std::string, google::protobuf::Value>::value_type;
  std::vector<const Entry*> entries;
  entries.reserve(provider_options_->fields().size());
  for (const Entry& e : provider_options_->fields()) entries.push_back(&e);
  std::sort(entries.begin(), entries.end(),
            [](const Entry* a, const Entry* b) { return a->first < b->first; });
  for (const Entry* e : entries) w_.Key(e->first).ProtoValue(e->second);
}

// A guess at the body's size, so the string grows once in the common case.
size_t BodyWriter::EstimateSize() const {
  size_t n = 256 + o_.upstream_model.size() + r_.prompt().size() +
             r_.end_user_id().size();
  for (const Message& m : r_.messages()) {
    n += 48 + m.name().size();
    for (const Part& p : m.parts()) {
      n += 32;
      switch (p.kind_case()) {
        case Part::kText:
          n += p.text().size();
          break;
        case Part::kMedia:
          n += 64 + p.media().uri().size() +
               (p.media().data().size() + 2) / 3 * 4;
          break;
        case Part::kToolCall:
          n += 64 + p.tool_call().id().size() + p.tool_call().name().size() +
               p.tool_call().arguments().size();
          break;
        case Part::kToolResult:
          n += 48 + p.tool_result().tool_call_id().size() +
               p.tool_result().content().size();
          break;
        case Part::kReasoning:
        case Part::KIND_NOT_SET:
          break;
      }
    }
  }
  // Struct JSON runs larger than its wire size (quotes, punctuation).
  for (const v1::Tool& t : r_.tools()) {
    n += 64 + t.name().size() + t.description().size() +
         2 * t.parameters().ByteSizeLong();
  }
  if (r_.has_config()) {
    for (const std::string& s : r_.config().stop_sequences()) n += 4 + s.size();
    if (r_.config().response_format().has_json_schema()) {
      n += 2 * r_.config().response_format().json_schema().ByteSizeLong();
    }
  }
  if (provider_options_ != nullptr) n += 2 * provider_options_->ByteSizeLong();
  // Escapes (newlines and quotes in prompts) make the body a bit longer than
  // its text.
  return n + n / 16;
}

absl::StatusOr<std::string> BodyWriter::Build() {
  // Both checks are the API layer's job; repeated because the body would be
  // silently wrong without them.
  if (!r_.prompt().empty() && r_.messages_size() > 0) {
    return absl::InvalidArgumentError(
        "prompt: must not be set together with messages");
  }
  if (r_.prompt().empty() && r_.messages_size() == 0) {
    return absl::InvalidArgumentError(
        "messages: either messages or prompt must be set");
  }
  CheckProviderOptions();
  if (!status_.ok()) return status_;

  body_.reserve(EstimateSize());
  w_.BeginObject();
  w_.Key("model").String(o_.upstream_model);

  w_.Key("messages").BeginArray();
  if (r_.messages_size() == 0) {
    w_.BeginObject().Key("role").String("user").Key("content").String(
        r_.prompt());
    w_.EndObject();
  }
  for (int i = 0; i < r_.messages_size(); ++i) {
    WriteMessage(r_.messages(i), i);
    if (!status_.ok()) return status_;
  }
  w_.EndArray();

  WriteTools();
  if (r_.has_config()) WriteConfig(r_.config());
  if (!r_.end_user_id().empty() && Send("end_user_id", "user")) {
    w_.Key("user").String(r_.end_user_id());
  }
  if (!status_.ok()) return status_;
  // labels are the gateway's own (logs, metrics, cost) and routing is the
  // router's: neither goes upstream.

  // stream:false is OpenAI's default, so it is left out.
  if (o_.stream) {
    w_.Key("stream").Bool(true);
    w_.Key("stream_options").BeginObject().Key("include_usage").Bool(true);
    w_.EndObject();
  }
  // Last, as the caller's final word on the body; keys the gateway also
  // writes were skipped above (Overridden).
  WriteProviderOptions();
  w_.EndObject();
  return std::move(body_);
}

}  // namespace

// Every error above is INVALID_ARGUMENT "<field path>: <problem>"; this gives
// each the details the API promises (ErrorInfo INVALID_REQUEST with the
// field, a BadRequest violation) in one place instead of at every site.
absl::Status WithFieldDetails(absl::Status status) {
  if (status.code() != absl::StatusCode::kInvalidArgument ||
      GetErrorInfo(status).has_value()) {
    return status;
  }
  const absl::string_view message = status.message();
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos) return status;
  return InvalidField(message.substr(0, colon), message.substr(colon + 2));
}

absl::StatusOr<std::string> BuildChatRequest(
    const GenerateRequest& request, const ChatRequestOptions& options) {
  absl::StatusOr<std::string> body = BodyWriter(request, options).Build();
  if (!body.ok()) return WithFieldDetails(body.status());
  return body;
}

}  // namespace llmgateway::openai
