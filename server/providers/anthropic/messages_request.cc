// GenerateRequest -> Anthropic Messages API body, written once with
// JsonWriter after a planning pass (system text and merged turns). A field
// the format cannot carry fails loudly (or is left out when the provider's
// config says to drop unsupported fields) instead of being dropped silently.
#include "server/providers/anthropic/messages_request.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/providers/anthropic/json_response_tool.h"
#include "server/providers/common/body_size.h"
#include "server/providers/common/field_policy.h"
#include "server/providers/common/media.h"
#include "server/providers/common/request_checks.h"
#include "server/providers/json/json_writer.h"
#include "simdjson.h"

namespace llmgateway::anthropic {
namespace {

using ::llmgateway::json::JsonWriter;
using ::llmgateway::providers::Base64Literal;
using ::llmgateway::providers::Base64Payload;
using ::llmgateway::providers::FieldPolicy;
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
constexpr absl::string_view kProviderKind = "anthropic";

// Body keys the gateway owns: an option overriding them would send the
// request somewhere else (model), change the conversation behind the
// gateway's back (messages) or break the response parser (stream).
constexpr absl::string_view kGatewayKeys[] = {"model", "messages", "stream"};

// What this format writes around the request's text: media and tool
// results in blocks, signed reasoning sent back, the JSON response tool's
// description around a json_schema.
constexpr providers::BodyFraming kFraming = [] {
  providers::BodyFraming f;
  f.media = 96;
  f.tool_result = 64;
  f.reasoning = true;
  f.json_schema = 160;
  return f;
}();

constexpr int kDefaultMaxTokens = 4096;
// Anthropic rejects a smaller thinking budget.
constexpr int64_t kMinThinkingBudget = 1024;

// config.reasoning.effort -> thinking budget (see the header). "none" turns
// thinking off.
struct EffortBudget {
  absl::string_view effort;
  int64_t budget;
};
constexpr EffortBudget kEffortBudgets[] = {
    {"none", 0},        {"minimal", 1024}, {"low", 2048},
    {"medium", 4096},   {"high", 16384},   {"xhigh", 32768},
};

// Past this size a tool call's arguments are checked with a parser of its
// own, freed afterwards: the thread's parser keeps its buffers for good.
constexpr size_t kMaxReusedParserCapacity = size_t{1} << 20;

bool IsHttpUrl(absl::string_view uri) {
  return absl::StartsWithIgnoreCase(uri, "https://") ||
         absl::StartsWithIgnoreCase(uri, "http://");
}

bool ParsesAsObject(simdjson::dom::parser& parser, absl::string_view json) {
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return false;
  return root.type() == simdjson::dom::element_type::OBJECT;
}

// Whether `json` is one whole JSON object: the Messages API takes a tool
// call's input as an object, where v1 (like OpenAI) carries text.
bool IsJsonObject(absl::string_view json) {
  if (json.size() <= kMaxReusedParserCapacity) {
    thread_local simdjson::dom::parser parser;
    return ParsesAsObject(parser, json);
  }
  simdjson::dom::parser parser;
  return ParsesAsObject(parser, json);
}

// A part of some message, where it goes in the body.
struct Block {
  const Part* part;
  int i;  // Message index, for error paths.
  int j;  // Part index.
};

// One user or assistant turn: adjacent messages of the same side merged.
struct Turn {
  bool assistant = false;
  std::vector<Block> blocks;
};

// Writes one request body. Errors are kept in `policy_` (the first one wins)
// so that every mapped field checks the unsupported-field policy in one line;
// Build() looks at it between stages and throws the half-written body away.
class BodyWriter {
 public:
  BodyWriter(const GenerateRequest& request,
             const MessagesRequestOptions& options)
      : r_(request),
        o_(options),
        policy_(request, kProviderKind, options.provider_name,
                options.unsupported_fields, options.drop_unsupported) {}

  absl::StatusOr<std::string> Build();

 private:
  void Fail(absl::Status s) { policy_.Fail(std::move(s)); }
  void Fail(absl::string_view field, absl::string_view problem) {
    Fail(absl::InvalidArgumentError(absl::StrCat(field, ": ", problem)));
  }

  void PlanMessages();
  void PlanMessage(const Message& m, int i);
  void AddBlock(bool assistant, const Part& p, int i, int j);
  void PlanLimits();
  void WriteSystem();
  void WriteMessages();
  void WriteBlock(const Block& b);
  void WriteMedia(const Media& media, int i, int j);
  void WriteToolUse(const v1::ToolCall& call, int i, int j);
  void WriteTools();
  void WriteJsonResponseTool(const ResponseFormat& f);
  void WriteToolChoice(bool json, bool caller_tools);
  void WriteSampling(const GenerationConfig& c);

  const GenerateRequest& r_;
  const MessagesRequestOptions& o_;
  FieldPolicy policy_;
  // Planned before anything is written.
  std::vector<const Part*> system_;
  std::vector<Turn> turns_;
  int64_t max_tokens_ = 0;  // 0: provider_options sets max_tokens.
  int64_t budget_ = 0;      // Thinking budget; 0: thinking off.
  std::string body_;
  JsonWriter w_{&body_};
};

void BodyWriter::AddBlock(bool assistant, const Part& p, int i, int j) {
  if (turns_.empty() || turns_.back().assistant != assistant) {
    turns_.emplace_back().assistant = assistant;
  }
  turns_.back().blocks.push_back(Block{&p, i, j});
}

void BodyWriter::PlanMessages() {
  for (int i = 0; i < r_.messages_size() && policy_.ok(); ++i) {
    PlanMessage(r_.messages(i), i);
  }
  // The Messages API wants a user turn's tool results before anything else
  // in it; a user message merged ahead of a tool message would break that.
  for (Turn& t : turns_) {
    if (t.assistant) continue;
    std::stable_partition(t.blocks.begin(), t.blocks.end(), [](const Block& b) {
      return b.part->has_tool_result();
    });
  }
}

void BodyWriter::PlanMessage(const Message& m, int i) {
  if (absl::Status s = providers::CheckRole(m, i); !s.ok()) return Fail(s);
  if (m.role() == v1::ROLE_TOOL && m.parts_size() == 0) {
    return Fail(absl::StrCat("messages[", i, "].parts"),
                "a tool message holds tool_result parts");
  }
  const bool system =
      m.role() == v1::ROLE_SYSTEM || m.role() == v1::ROLE_DEVELOPER;
  const bool assistant = m.role() == v1::ROLE_ASSISTANT;
  for (int j = 0; j < m.parts_size(); ++j) {
    const Part& p = m.parts(j);
    const std::string path = PartPath(i, j);
    if (m.role() == v1::ROLE_TOOL && !p.has_tool_result()) {
      return Fail(path, "a tool message holds tool_result parts");
    }
    switch (p.kind_case()) {
      case Part::kText:
        // The Messages API rejects empty text blocks; an empty part says
        // nothing, so it is left out.
        if (p.text().empty()) break;
        if (system) {
          system_.push_back(&p);
        } else {
          AddBlock(assistant, p, i, j);
        }
        break;
      case Part::kMedia:
        if (m.role() != v1::ROLE_USER) {
          return Fail(absl::StrCat(path, ".media"),
                      absl::StrCat("provider \"", o_.provider_name,
                                   "\" takes media in user messages only"));
        }
        AddBlock(false, p, i, j);
        break;
      case Part::kToolCall:
        if (!assistant) {
          return Fail(path, "a tool_call part belongs in an assistant message");
        }
        if (p.tool_call().id().empty()) {
          return Fail(absl::StrCat(path, ".tool_call.id"), "must be set");
        }
        if (p.tool_call().name().empty()) {
          return Fail(absl::StrCat(path, ".tool_call.name"), "must be set");
        }
        AddBlock(true, p, i, j);
        break;
      case Part::kToolResult:
        if (m.role() != v1::ROLE_TOOL) {
          return Fail(path, "a tool_result part belongs in a tool message");
        }
        if (p.tool_result().tool_call_id().empty()) {
          return Fail(absl::StrCat(path, ".tool_result.tool_call_id"),
                      "must be set");
        }
        AddBlock(false, p, i, j);
        break;
      case Part::kReasoning:
        // Only the model's own thinking goes back, and only what Anthropic
        // can verify: unsigned reasoning (another provider's) is left out.
        if (assistant && (!p.reasoning().signature().empty() ||
                          !p.reasoning().redacted_data().empty())) {
          AddBlock(true, p, i, j);
        }
        break;
      case Part::KIND_NOT_SET:
        return Fail(path, "must be set");
    }
  }
}

// Sets max_tokens_ and budget_ (see the header for the rules).
void BodyWriter::PlanLimits() {
  const GenerationConfig& c = r_.config();
  int64_t caller_max = 0;
  if (c.has_max_output_tokens() &&
      policy_.Send("config.max_output_tokens", "max_tokens")) {
    caller_max = c.max_output_tokens();
  }
  if (c.has_reasoning()) {
    const v1::ReasoningConfig& rc = c.reasoning();
    if (rc.has_budget_tokens()) {
      // An explicit budget wins over an effort.
      if (rc.budget_tokens() < 0) {
        return Fail("config.reasoning.budget_tokens", "must not be negative");
      }
      if (policy_.Send("config.reasoning.budget_tokens", "thinking")) {
        budget_ = rc.budget_tokens();
      }
      if (budget_ > 0 && caller_max > 0 && budget_ >= caller_max) {
        return Fail(
            "config.reasoning.budget_tokens",
            absl::StrCat("must be less than config.max_output_tokens (",
                         caller_max, "): provider \"", o_.provider_name,
                         "\" counts thinking in its max_tokens"));
      }
    } else if (!rc.effort().empty() &&
               policy_.Send("config.reasoning.effort", "thinking")) {
      const std::string effort = absl::AsciiStrToLower(rc.effort());
      const EffortBudget* found = nullptr;
      for (const EffortBudget& e : kEffortBudgets) {
        if (e.effort == effort) found = &e;
      }
      if (found == nullptr) {
        return Fail("config.reasoning.effort",
                    absl::StrCat("\"", rc.effort(), "\" is not an effort ",
                                 "provider \"", o_.provider_name,
                                 "\" maps to a thinking budget (none, "
                                 "minimal, low, medium, high, xhigh)"));
      }
      budget_ = found->budget;
      if (budget_ > 0 && caller_max > 0) {
        // The caller's limit covers thinking and answer alike: the effort
        // gets at most half of it.
        if (caller_max <= kMinThinkingBudget) {
          return Fail("config.max_output_tokens",
                      absl::StrCat("must be above ", kMinThinkingBudget,
                                   " for reasoning with provider \"",
                                   o_.provider_name,
                                   "\" (its thinking budget is at least ",
                                   kMinThinkingBudget,
                                   " and counts in max_tokens)"));
        }
        budget_ = std::max(kMinThinkingBudget, std::min(budget_, caller_max / 2));
      }
    }
    // include_reasoning: nothing to send (see the header).
  }
  if (policy_.Overridden("max_tokens")) return;
  if (caller_max > 0) {
    max_tokens_ = caller_max;
  } else {
    const int64_t base =
        o_.default_max_tokens > 0 ? o_.default_max_tokens : kDefaultMaxTokens;
    max_tokens_ = base + budget_;
  }
}

void BodyWriter::WriteSystem() {
  if (system_.empty() || policy_.Overridden("system")) return;
  w_.Key("system");
  if (system_.size() == 1) {
    w_.String(system_[0]->text());
    return;
  }
  w_.BeginArray();
  for (const Part* p : system_) {
    w_.BeginObject().Key("type").String("text").Key("text").String(p->text());
    w_.EndObject();
  }
  w_.EndArray();
}

void BodyWriter::WriteMessages() {
  w_.Key("messages").BeginArray();
  if (r_.messages_size() == 0) {
    w_.BeginObject().Key("role").String("user").Key("content").String(
        r_.prompt());
    w_.EndObject();
  }
  for (const Turn& t : turns_) {
    w_.BeginObject().Key("role").String(t.assistant ? "assistant" : "user");
    w_.Key("content");
    if (t.blocks.size() == 1 && t.blocks[0].part->has_text()) {
      w_.String(t.blocks[0].part->text());
    } else {
      w_.BeginArray();
      for (const Block& b : t.blocks) {
        WriteBlock(b);
        if (!policy_.ok()) return;
      }
      w_.EndArray();
    }
    w_.EndObject();
  }
  w_.EndArray();
}

void BodyWriter::WriteBlock(const Block& b) {
  const Part& p = *b.part;
  switch (p.kind_case()) {
    case Part::kText:
      w_.BeginObject().Key("type").String("text").Key("text").String(p.text());
      w_.EndObject();
      break;
    case Part::kMedia:
      WriteMedia(p.media(), b.i, b.j);
      break;
    case Part::kToolCall:
      WriteToolUse(p.tool_call(), b.i, b.j);
      break;
    case Part::kToolResult: {
      const v1::ToolResult& t = p.tool_result();
      w_.BeginObject().Key("type").String("tool_result");
      w_.Key("tool_use_id").String(t.tool_call_id());
      if (!t.content().empty()) w_.Key("content").String(t.content());
      if (t.is_error()) w_.Key("is_error").Bool(true);
      w_.EndObject();
      break;
    }
    case Part::kReasoning: {
      // Both opaque: sent back exactly as the model produced them.
      const v1::Reasoning& r = p.reasoning();
      if (!r.redacted_data().empty()) {
        w_.BeginObject().Key("type").String("redacted_thinking");
        w_.Key("data").String(r.redacted_data());
      } else {
        w_.BeginObject().Key("type").String("thinking");
        w_.Key("thinking").String(r.text());
        w_.Key("signature").String(r.signature());
      }
      w_.EndObject();
      break;
    }
    case Part::KIND_NOT_SET:
      break;  // Refused by PlanMessage.
  }
}

void BodyWriter::WriteMedia(const Media& media, int i, int j) {
  absl::StatusOr<std::string> checked =
      providers::CheckMedia(media, i, j, o_.media_types, o_.provider_name);
  if (!checked.ok()) return Fail(checked.status());
  const std::string& essence = *checked;
  // The format has blocks for images and PDFs only.
  const bool image = absl::StartsWith(essence, "image/");
  if (!image && essence != "application/pdf") {
    return Fail(providers::UnsupportedMediaType(media, i, j, o_.provider_name));
  }
  absl::string_view payload;
  const bool base64_url = media.has_uri() && Base64Payload(media.uri(), &payload);
  if (media.has_uri() && !base64_url && !IsHttpUrl(media.uri())) {
    return Fail(absl::StrCat(PartPath(i, j), ".media.uri"),
                absl::StrCat("provider \"", o_.provider_name,
                             "\" takes http(s) URLs and base64 data: URLs"));
  }

  w_.BeginObject().Key("type").String(image ? "image" : "document");
  w_.Key("source").BeginObject();
  if (media.has_uri() && !base64_url) {
    w_.Key("type").String("url").Key("url").String(media.uri());
  } else {
    // The essence, not the caller's text: Anthropic checks media_type
    // against a fixed list, and parameters mean nothing to it.
    w_.Key("type").String("base64").Key("media_type").String(essence);
    w_.Key("data");
    if (base64_url) {
      w_.String(payload);
    } else {
      w_.RawJson(Base64Literal("", media.data()));
    }
  }
  w_.EndObject().EndObject();
}

void BodyWriter::WriteToolUse(const v1::ToolCall& call, int i, int j) {
  const absl::string_view arguments =
      absl::StripAsciiWhitespace(call.arguments());
  // A call without arguments is an empty object, as OpenAI's format has it.
  if (!arguments.empty() && !IsJsonObject(arguments)) {
    return Fail(absl::StrCat(PartPath(i, j), ".tool_call.arguments"),
                absl::StrCat("must be a JSON object (provider \"",
                             o_.provider_name,
                             "\" takes a tool call's input as one)"));
  }
  w_.BeginObject().Key("type").String("tool_use");
  w_.Key("id").String(call.id()).Key("name").String(call.name());
  w_.Key("input").RawJson(arguments.empty() ? "{}" : arguments);
  w_.EndObject();
}

void BodyWriter::WriteTools() {
  const ResponseFormat& f = r_.config().response_format();
  const absl::string_view json_field =
      f.has_json_schema() ? "config.response_format.json_schema"
                          : "config.response_format.json_object";
  bool json = false;
  if (f.has_json_schema() || f.has_json_object()) {
    // The JSON format is a tool call here: a provider without tools cannot
    // take it either.
    json = !(policy_.Listed(json_field) || policy_.Listed("tools")) ||
           policy_.Refuse(json_field);
  }
  if (json) {
    if (policy_.Overridden("tools") || policy_.Overridden("tool_choice")) {
      return Fail(json_field,
                  absl::StrCat("provider \"", o_.provider_name,
                               "\" answers in JSON through a forced tool "
                               "call, and provider_options[\"",
                               kProviderKind,
                               "\"] sets tools or tool_choice itself"));
    }
    if (budget_ > 0) {
      return Fail(json_field,
                  absl::StrCat("provider \"", o_.provider_name,
                               "\" answers in JSON through a forced tool "
                               "call, which it does not allow with reasoning "
                               "(config.reasoning)"));
    }
  }

  const bool caller_tools =
      r_.tools_size() > 0 && policy_.Send("tools", "tools");
  if (caller_tools || json) {
    w_.Key("tools").BeginArray();
    for (int k = 0; caller_tools && k < r_.tools_size(); ++k) {
      const v1::Tool& t = r_.tools(k);
      const std::string name_path = absl::StrCat("tools[", k, "].name");
      if (t.name().empty()) return Fail(name_path, "must be set");
      if (t.name() == kJsonResponseToolName) {
        return Fail(name_path, "reserved by the gateway");
      }
      w_.BeginObject().Key("name").String(t.name());
      if (!t.description().empty()) {
        w_.Key("description").String(t.description());
      }
      // Required by the Messages API; a tool without parameters takes an
      // empty object.
      w_.Key("input_schema");
      if (t.has_parameters()) {
        w_.ProtoStruct(t.parameters());
      } else {
        w_.BeginObject().Key("type").String("object").EndObject();
      }
      w_.EndObject();
    }
    if (json) WriteJsonResponseTool(f);
    w_.EndArray();
  }
  WriteToolChoice(json, caller_tools);
}

void BodyWriter::WriteJsonResponseTool(const ResponseFormat& f) {
  w_.BeginObject().Key("name").String(kJsonResponseToolName);
  w_.Key("description");
  if (f.has_json_schema() && !f.json_schema().name().empty()) {
    w_.String(absl::StrCat(
        "Give your whole answer as this tool's input: JSON that follows the "
        "schema \"",
        f.json_schema().name(), "\"."));
  } else {
    w_.String("Give your whole answer as this tool's input: a JSON object.");
  }
  w_.Key("input_schema");
  if (f.has_json_schema() && f.json_schema().has_schema()) {
    w_.ProtoStruct(f.json_schema().schema());
  } else {
    w_.BeginObject().Key("type").String("object").EndObject();
  }
  w_.EndObject();
}

// `json`: the reserved tool is in the body; `caller_tools`: so are the
// caller's.
void BodyWriter::WriteToolChoice(bool json, bool caller_tools) {
  const ToolChoice& tc = r_.tool_choice();
  if (absl::Status s = providers::CheckToolChoice(tc); !s.ok()) {
    return Fail(s);
  }
  // Both settings go into the body's tool_choice, so that is the key an
  // option would override.
  ToolChoice::Mode mode = tc.mode();
  if (mode != ToolChoice::MODE_UNSPECIFIED &&
      !policy_.SendToolSetting("tool_choice", "tool_choice")) {
    mode = ToolChoice::MODE_UNSPECIFIED;
  }
  const GenerationConfig& c = r_.config();
  // Parallel calls are the default: only "false" has anything to send.
  const bool serial =
      c.has_parallel_tool_calls() && !c.parallel_tool_calls() &&
      policy_.SendToolSetting("config.parallel_tool_calls", "tool_choice");
  if (!policy_.ok() || policy_.Overridden("tool_choice")) return;

  absl::string_view type;
  absl::string_view name;
  bool disable_parallel = serial;
  if (json) {
    if (mode == ToolChoice::MODE_REQUIRED) {
      // A tool call is the answer this turn; the JSON tool is one choice
      // when no tool is named.
      type = tc.function_name().empty() ? "any" : "tool";
      name = tc.function_name();
    } else if (caller_tools && mode != ToolChoice::MODE_NONE) {
      // The model calls one of the caller's tools, or answers through the
      // JSON tool: never in free text.
      type = "any";
    } else {
      type = "tool";
      name = kJsonResponseToolName;
      disable_parallel = true;  // One answer.
    }
  } else {
    if (!caller_tools && !policy_.Overridden("tools")) {
      // Without tools a tool choice means nothing, except a demand for a
      // call that cannot be made.
      if (mode == ToolChoice::MODE_REQUIRED) {
        return Fail("tool_choice.mode", "MODE_REQUIRED needs tools");
      }
      return;
    }
    switch (mode) {
      case ToolChoice::MODE_UNSPECIFIED:
        if (!serial) return;  // Auto with parallel calls: the default.
        type = "auto";
        break;
      case ToolChoice::MODE_AUTO:
        type = "auto";
        break;
      case ToolChoice::MODE_NONE:
        type = "none";
        disable_parallel = false;  // No calls, and no such field.
        break;
      case ToolChoice::MODE_REQUIRED:
        type = tc.function_name().empty() ? "any" : "tool";
        name = tc.function_name();
        break;
      default:
        return;  // Refused above.
    }
  }
  w_.Key("tool_choice").BeginObject().Key("type").String(type);
  if (!name.empty()) w_.Key("name").String(name);
  if (disable_parallel) w_.Key("disable_parallel_tool_use").Bool(true);
  w_.EndObject();
}

void BodyWriter::WriteSampling(const GenerationConfig& c) {
  if (c.has_temperature() &&
      policy_.Send("config.temperature", "temperature")) {
    w_.Key("temperature").Double(c.temperature());
  }
  if (c.has_top_p() && policy_.Send("config.top_p", "top_p")) {
    w_.Key("top_p").Double(c.top_p());
  }
  if (c.has_top_k() && policy_.Send("config.top_k", "top_k")) {
    w_.Key("top_k").Int(c.top_k());
  }
  if (c.stop_sequences_size() > 0 &&
      policy_.Send("config.stop_sequences", "stop_sequences")) {
    w_.Key("stop_sequences").BeginArray();
    for (const std::string& s : c.stop_sequences()) w_.String(s);
    w_.EndArray();
  }
  // The Messages API has no field for these, whatever the config says.
  if (c.has_seed()) policy_.Refuse("config.seed");
  if (c.has_presence_penalty()) policy_.Refuse("config.presence_penalty");
  if (c.has_frequency_penalty()) policy_.Refuse("config.frequency_penalty");
}

absl::StatusOr<std::string> BodyWriter::Build() {
  // Both checks are the API layer's job; repeated because the body would be
  // silently wrong without them.
  if (absl::Status s = providers::CheckPromptOrMessages(r_); !s.ok()) {
    return s;
  }
  policy_.CheckProviderOptions(kGatewayKeys);
  PlanMessages();
  if (!policy_.ok()) return policy_.status();
  if (r_.messages_size() > 0 && turns_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "messages: provider \"", o_.provider_name,
        "\" needs a user or assistant message with content"));
  }
  PlanLimits();
  if (!policy_.ok()) return policy_.status();

  body_.reserve(providers::EstimateBodySize(
      r_, o_.upstream_model, policy_.provider_options(), kFraming));
  w_.BeginObject();
  w_.Key("model").String(o_.upstream_model);
  if (max_tokens_ > 0) w_.Key("max_tokens").Int(max_tokens_);
  WriteSystem();
  WriteMessages();
  if (!policy_.ok()) return policy_.status();
  WriteTools();
  if (!policy_.ok()) return policy_.status();
  if (r_.has_config()) WriteSampling(r_.config());
  if (budget_ > 0) {
    w_.Key("thinking").BeginObject().Key("type").String("enabled");
    w_.Key("budget_tokens").Int(budget_);
    w_.EndObject();
  }
  if (!r_.end_user_id().empty() && policy_.Send("end_user_id", "metadata")) {
    w_.Key("metadata").BeginObject().Key("user_id").String(r_.end_user_id());
    w_.EndObject();
  }
  if (!policy_.ok()) return policy_.status();
  // labels are the gateway's own (logs, metrics, cost) and routing is the
  // router's: neither goes upstream.

  // stream:false is the default, so it is left out.
  if (o_.stream) w_.Key("stream").Bool(true);
  // Last, as the caller's final word on the body; keys the gateway also
  // writes were skipped above (Overridden).
  policy_.WriteProviderOptions(w_);
  w_.EndObject();
  return std::move(body_);
}

}  // namespace

absl::StatusOr<std::string> BuildMessagesRequest(
    const GenerateRequest& request, const MessagesRequestOptions& options) {
  absl::StatusOr<std::string> body = BodyWriter(request, options).Build();
  // Every error above is INVALID_ARGUMENT "<field path>: <problem>".
  if (!body.ok()) return providers::WithFieldDetails(body.status());
  return body;
}

}  // namespace llmgateway::anthropic
