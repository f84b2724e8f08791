// GenerateRequest -> OpenAI /chat/completions body, written once with
// JsonWriter. A field the format cannot carry fails loudly (or is left out
// when the provider's config says to drop unsupported fields) instead of
// being dropped silently.
#include "server/providers/openai/chat_request.h"

#include <cstddef>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/providers/common/body_size.h"
#include "server/providers/common/field_policy.h"
#include "server/providers/common/media.h"
#include "server/providers/common/request_checks.h"
#include "server/providers/json/json_writer.h"

namespace llmgateway::openai {
namespace {

using ::llmgateway::json::JsonWriter;
using ::llmgateway::providers::Base64Literal;
using ::llmgateway::providers::Base64Payload;
using ::llmgateway::providers::FieldPolicy;
using ::llmgateway::providers::IsDataUrl;
using ::llmgateway::providers::PartPath;
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

// What this format writes around the request's text: message names go in,
// reasoning does not (see WriteAssistantMessage).
constexpr providers::BodyFraming kFraming = [] {
  providers::BodyFraming f;
  f.message_name = true;
  return f;
}();

// OpenAI's Chat Completions rejects inline file_data without a filename
// (400 "Missing required parameter ...file.file_id"), and v1 Media has none.
constexpr absl::string_view kPdfFilename = "document.pdf";

// The role's name in the body; the role is one CheckRole passed.
absl::string_view RoleName(v1::Role role) {
  switch (role) {
    case v1::ROLE_SYSTEM:
      return "system";
    case v1::ROLE_DEVELOPER:
      return "developer";
    case v1::ROLE_ASSISTANT:
      return "assistant";
    case v1::ROLE_TOOL:
      return "tool";
    default:
      return "user";
  }
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

// Writes one request body. Errors are kept in `policy_` (the first one wins)
// so that every mapped field checks the unsupported-field policy in one line;
// Build() looks at it between stages and throws the half-written body away.
class BodyWriter {
 public:
  BodyWriter(const GenerateRequest& request, const ChatRequestOptions& options)
      : r_(request),
        o_(options),
        policy_(request, kProviderKind, options.provider_name,
                options.unsupported_fields, options.drop_unsupported) {}

  absl::StatusOr<std::string> Build();

 private:
  void Fail(absl::Status s) { policy_.Fail(std::move(s)); }

  void WriteMessage(const Message& m, int i);
  void WriteContentMessage(const Message& m, int i, absl::string_view role);
  void WriteAssistantMessage(const Message& m, int i);
  void WriteToolMessages(const Message& m, int i);
  void WriteMedia(const Media& media, int i, int j);
  void WriteTools();
  void WriteConfig(const GenerationConfig& c);
  void WriteResponseFormat(const ResponseFormat& f);

  const GenerateRequest& r_;
  const ChatRequestOptions& o_;
  FieldPolicy policy_;
  std::string body_;
  JsonWriter w_{&body_};
};

void BodyWriter::WriteMessage(const Message& m, int i) {
  if (absl::Status s = providers::CheckRole(m, i); !s.ok()) return Fail(s);
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
      return WriteContentMessage(m, i, RoleName(m.role()));
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
    for (int j = 0; j < m.parts_size() && policy_.ok(); ++j) {
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
  absl::StatusOr<std::string> checked =
      providers::CheckMedia(media, i, j, o_.media_types, o_.provider_name);
  if (!checked.ok()) return Fail(checked.status());
  const std::string& essence = *checked;

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

  Fail(providers::UnsupportedMediaType(media, i, j, o_.provider_name));
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
  if (r_.tools_size() > 0 && policy_.Send("tools", "tools")) {
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
  if (absl::Status s = providers::CheckToolChoice(tc); !s.ok()) {
    return Fail(s);
  }
  // Tool settings mean nothing to a provider without tools (and OpenAI
  // rejects tool_choice or parallel_tool_calls without tools), so "tools"
  // covers them too (SendToolSetting).
  switch (tc.mode()) {
    case ToolChoice::MODE_UNSPECIFIED:
      break;  // Auto, OpenAI's default: nothing to send.
    case ToolChoice::MODE_AUTO:
      if (policy_.SendToolSetting("tool_choice", "tool_choice")) {
        w_.Key("tool_choice").String("auto");
      }
      break;
    case ToolChoice::MODE_NONE:
      if (policy_.SendToolSetting("tool_choice", "tool_choice")) {
        w_.Key("tool_choice").String("none");
      }
      break;
    case ToolChoice::MODE_REQUIRED:
      if (!policy_.SendToolSetting("tool_choice", "tool_choice")) break;
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
      break;  // Refused by CheckToolChoice.
  }

  if (r_.has_config() && r_.config().has_parallel_tool_calls() &&
      policy_.SendToolSetting("config.parallel_tool_calls",
                              "parallel_tool_calls")) {
    w_.Key("parallel_tool_calls").Bool(r_.config().parallel_tool_calls());
  }
}

void BodyWriter::WriteConfig(const GenerationConfig& c) {
  if (c.has_temperature() &&
      policy_.Send("config.temperature", "temperature")) {
    w_.Key("temperature").Double(c.temperature());
  }
  if (c.has_top_p() && policy_.Send("config.top_p", "top_p")) {
    w_.Key("top_p").Double(c.top_p());
  }
  // Not OpenAI's own parameter, but vLLM, llama.cpp's server and others
  // take it; providers that do not list it as unsupported.
  if (c.has_top_k() && policy_.Send("config.top_k", "top_k")) {
    w_.Key("top_k").Int(c.top_k());
  }
  const absl::string_view max_tokens_key =
      o_.max_tokens_field.empty() ? "max_tokens" : o_.max_tokens_field;
  // Either name in provider_options is the caller's own token limit: sending
  // the gateway's under the other name too would set two limits.
  if (c.has_max_output_tokens() && !policy_.Overridden("max_tokens") &&
      !policy_.Overridden("max_completion_tokens") &&
      policy_.Send("config.max_output_tokens", max_tokens_key)) {
    w_.Key(max_tokens_key).Int(c.max_output_tokens());
  }
  if (c.stop_sequences_size() > 0 &&
      policy_.Send("config.stop_sequences", "stop")) {
    w_.Key("stop").BeginArray();
    for (const std::string& s : c.stop_sequences()) w_.String(s);
    w_.EndArray();
  }
  if (c.has_seed() && policy_.Send("config.seed", "seed"))
    w_.Key("seed").Int(c.seed());
  if (c.has_presence_penalty() &&
      policy_.Send("config.presence_penalty", "presence_penalty")) {
    w_.Key("presence_penalty").Double(c.presence_penalty());
  }
  if (c.has_frequency_penalty() &&
      policy_.Send("config.frequency_penalty", "frequency_penalty")) {
    w_.Key("frequency_penalty").Double(c.frequency_penalty());
  }
  if (c.has_response_format()) WriteResponseFormat(c.response_format());
  if (c.has_reasoning()) {
    const v1::ReasoningConfig& rc = c.reasoning();
    if (!rc.effort().empty() &&
        policy_.Send("config.reasoning.effort", "reasoning_effort")) {
      // As given: the values keep growing ("minimal", "xhigh", ...), and the
      // upstream knows which ones it takes.
      w_.Key("reasoning_effort").String(rc.effort());
    }
    // The OpenAI format has no token budget for reasoning, whatever the
    // provider's config says.
    if (rc.has_budget_tokens()) {
      policy_.Refuse("config.reasoning.budget_tokens");
    }
    // include_reasoning has no field either, and needs none: the response
    // mapping returns reasoning whenever the upstream sends it.
  }
}

void BodyWriter::WriteResponseFormat(const ResponseFormat& f) {
  switch (f.format_case()) {
    case ResponseFormat::kText:
      // Free text is what every upstream does without the field, so a
      // provider that cannot take it loses nothing: left out, no error.
      if (!policy_.Overridden("response_format") &&
          !policy_.Listed("config.response_format.text")) {
        w_.Key("response_format").BeginObject().Key("type").String("text");
        w_.EndObject();
      }
      break;
    case ResponseFormat::kJsonObject:
      if (policy_.Send("config.response_format.json_object",
                       "response_format")) {
        w_.Key("response_format")
            .BeginObject()
            .Key("type")
            .String("json_object");
        w_.EndObject();
      }
      break;
    case ResponseFormat::kJsonSchema: {
      if (!policy_.Send("config.response_format.json_schema",
                        "response_format"))
        break;
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

absl::StatusOr<std::string> BodyWriter::Build() {
  // Both checks are the API layer's job; repeated because the body would be
  // silently wrong without them.
  if (absl::Status s = providers::CheckPromptOrMessages(r_); !s.ok()) {
    return s;
  }
  policy_.CheckProviderOptions(kGatewayKeys);
  if (!policy_.ok()) return policy_.status();

  body_.reserve(providers::EstimateBodySize(
      r_, o_.upstream_model, policy_.provider_options(), kFraming));
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
    if (!policy_.ok()) return policy_.status();
  }
  w_.EndArray();

  WriteTools();
  if (r_.has_config()) WriteConfig(r_.config());
  if (!r_.end_user_id().empty() && policy_.Send("end_user_id", "user")) {
    w_.Key("user").String(r_.end_user_id());
  }
  if (!policy_.ok()) return policy_.status();
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
  policy_.WriteProviderOptions(w_);
  w_.EndObject();
  return std::move(body_);
}

}  // namespace

absl::StatusOr<std::string> BuildChatRequest(
    const GenerateRequest& request, const ChatRequestOptions& options) {
  absl::StatusOr<std::string> body = BodyWriter(request, options).Build();
  // Every error above is INVALID_ARGUMENT "<field path>: <problem>".
  if (!body.ok()) return providers::WithFieldDetails(body.status());
  return body;
}

}  // namespace llmgateway::openai
