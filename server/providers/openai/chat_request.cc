// GenerateRequest -> OpenAI /chat/completions body, written once with
// JsonWriter; fields this version cannot map fail loudly instead of being
// dropped.
#include "server/providers/openai/chat_request.h"

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/providers/json/json_writer.h"

namespace llmgateway::openai {
namespace {

using ::llmgateway::json::JsonWriter;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerationConfig;
using ::llmgateway::v1::Message;
using ::llmgateway::v1::Part;

// The key of this adapter's entry in GenerateRequest.provider_options: the
// provider *kind*, whatever name the provider has in the config.
constexpr absl::string_view kProviderKind = "openai";

// The v1 API has the field but this adapter does not map it yet.
absl::Status NotYet(absl::string_view field, const ChatRequestOptions& o) {
  return absl::UnimplementedError(
      absl::StrCat(field, ": not supported yet by the gateway for provider \"",
                   o.provider_name, "\""));
}

// OpenAI's API has no such parameter: no later version will map it.
absl::Status NotSupported(absl::string_view field,
                          const ChatRequestOptions& o) {
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": not supported by provider \"", o.provider_name, "\""));
}

absl::StatusOr<absl::string_view> RoleName(const Message& m, size_t i) {
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

// Everything but text is rejected before any content is written, so the
// caller sees the first unsupported part whatever the content shape.
absl::Status CheckParts(const Message& m, size_t i,
                        const ChatRequestOptions& o) {
  for (int j = 0; j < m.parts_size(); ++j) {
    const char* kind = nullptr;
    switch (m.parts(j).kind_case()) {
      case Part::kText:
        continue;
      case Part::kMedia:
        kind = "media";
        break;
      case Part::kToolCall:
        kind = "tool_call";
        break;
      case Part::kToolResult:
        kind = "tool_result";
        break;
      case Part::kReasoning:
        kind = "reasoning";
        break;
      case Part::KIND_NOT_SET:
        return absl::InvalidArgumentError(
            absl::StrCat("messages[", i, "].parts[", j, "]: must be set"));
    }
    return NotYet(absl::StrCat("messages[", i, "].parts[", j, "].", kind), o);
  }
  return absl::OkStatus();
}

absl::Status WriteMessage(const Message& m, size_t i,
                          const ChatRequestOptions& o, JsonWriter& w) {
  absl::StatusOr<absl::string_view> role = RoleName(m, i);
  if (!role.ok()) return role.status();
  if (absl::Status s = CheckParts(m, i, o); !s.ok()) return s;

  w.BeginObject().Key("role").String(*role);
  if (!m.name().empty()) w.Key("name").String(m.name());
  w.Key("content");
  if (m.parts_size() == 1) {
    w.String(m.parts(0).text());
  } else if (m.parts_size() == 0) {
    // Every role accepts a string; an empty one keeps the turn in place.
    w.String("");
  } else {
    // Separate parts stay separate: joining them would invent a separator.
    w.BeginArray();
    for (const Part& p : m.parts()) {
      w.BeginObject().Key("type").String("text").Key("text").String(p.text());
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return absl::OkStatus();
}

bool HasReasoningSettings(const v1::ReasoningConfig& r) {
  return !r.effort().empty() || r.has_budget_tokens() || r.include_reasoning();
}

absl::Status WriteConfig(const GenerationConfig& c, const ChatRequestOptions& o,
                         JsonWriter& w) {
  if (c.has_top_k()) return NotSupported("config.top_k", o);
  if (c.has_parallel_tool_calls()) {
    return NotYet("config.parallel_tool_calls", o);
  }
  if (c.has_response_format()) {
    switch (c.response_format().format_case()) {
      case v1::ResponseFormat::kJsonObject:
        return NotYet("config.response_format.json_object", o);
      case v1::ResponseFormat::kJsonSchema:
        return NotYet("config.response_format.json_schema", o);
      case v1::ResponseFormat::kText:
      case v1::ResponseFormat::FORMAT_NOT_SET:
        break;  // Free text is what OpenAI does without the field.
    }
  }
  if (c.has_reasoning() && HasReasoningSettings(c.reasoning())) {
    return NotYet("config.reasoning", o);
  }

  if (c.has_temperature()) w.Key("temperature").Double(c.temperature());
  if (c.has_top_p()) w.Key("top_p").Double(c.top_p());
  if (c.has_max_output_tokens()) {
    // max_tokens, not max_completion_tokens: the one name every
    // OpenAI-compatible server (vLLM, llama.cpp, Ollama, ...) understands.
    w.Key("max_tokens").Int(c.max_output_tokens());
  }
  if (c.stop_sequences_size() > 0) {
    w.Key("stop").BeginArray();
    for (const std::string& s : c.stop_sequences()) w.String(s);
    w.EndArray();
  }
  if (c.has_seed()) w.Key("seed").Int(c.seed());
  if (c.has_presence_penalty()) {
    w.Key("presence_penalty").Double(c.presence_penalty());
  }
  if (c.has_frequency_penalty()) {
    w.Key("frequency_penalty").Double(c.frequency_penalty());
  }
  return absl::OkStatus();
}

// A guess at the body's size, so the string grows once in the common case.
size_t EstimateSize(const GenerateRequest& r, const ChatRequestOptions& o) {
  size_t n = 256 + o.upstream_model.size() + r.prompt().size() +
             r.end_user_id().size();
  for (const Message& m : r.messages()) {
    n += 48 + m.name().size();
    for (const Part& p : m.parts()) n += 32 + p.text().size();
  }
  if (r.has_config()) {
    for (const std::string& s : r.config().stop_sequences()) n += 4 + s.size();
  }
  // Escapes (newlines and quotes in prompts) make the body a bit longer than
  // its text.
  return n + n / 16;
}

}  // namespace

absl::StatusOr<std::string> BuildChatRequest(
    const GenerateRequest& request, const ChatRequestOptions& options) {
  // Both checks are the API layer's job; repeated because the body would be
  // silently wrong without them.
  if (!request.prompt().empty() && request.messages_size() > 0) {
    return absl::InvalidArgumentError(
        "prompt: must not be set together with messages");
  }
  if (request.prompt().empty() && request.messages_size() == 0) {
    return absl::InvalidArgumentError(
        "messages: either messages or prompt must be set");
  }
  if (!request.tools().empty()) return NotYet("tools", options);
  if (request.has_tool_choice() &&
      (request.tool_choice().mode() != v1::ToolChoice::MODE_UNSPECIFIED ||
       !request.tool_choice().function_name().empty())) {
    return NotYet("tool_choice", options);
  }
  // Options for other kinds are for other providers (a fallback may use
  // them): only this kind's entry matters here.
  if (request.provider_options().count(std::string(kProviderKind)) > 0) {
    return NotYet(absl::StrCat("provider_options[\"", kProviderKind, "\"]"),
                  options);
  }

  std::string body;
  body.reserve(EstimateSize(request, options));
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("model").String(options.upstream_model);

  w.Key("messages").BeginArray();
  if (request.messages_size() == 0) {
    w.BeginObject()
        .Key("role")
        .String("user")
        .Key("content")
        .String(request.prompt())
        .EndObject();
  }
  for (int i = 0; i < request.messages_size(); ++i) {
    if (absl::Status s = WriteMessage(request.messages(i), i, options, w);
        !s.ok()) {
      return s;
    }
  }
  w.EndArray();

  if (request.has_config()) {
    if (absl::Status s = WriteConfig(request.config(), options, w); !s.ok()) {
      return s;
    }
  }
  if (!request.end_user_id().empty()) {
    w.Key("user").String(request.end_user_id());
  }
  // stream:false is OpenAI's default, so it is left out.
  if (options.stream) {
    w.Key("stream").Bool(true);
    w.Key("stream_options").BeginObject().Key("include_usage").Bool(true);
    w.EndObject();
  }
  w.EndObject();
  return body;
}

}  // namespace llmgateway::openai
