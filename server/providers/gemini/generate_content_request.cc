// GenerateRequest -> Gemini API request body, written once with JsonWriter
// after a planning pass (system text, merged turns, the signatures'
// places, the tool results' function names). A field the format cannot
// carry fails loudly (or is left out when the provider's config says to drop
// unsupported fields) instead of being dropped silently.
#include "server/providers/gemini/generate_content_request.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "server/providers/common/body_size.h"
#include "server/providers/common/field_policy.h"
#include "server/providers/common/media.h"
#include "server/providers/common/request_checks.h"
#include "server/providers/json/json_writer.h"
#include "simdjson.h"

namespace llmgateway::gemini {
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
constexpr absl::string_view kProviderKind = "gemini";

// Body keys the gateway owns: an option replacing the conversation would
// change it behind the gateway's back. (The model and the stream switch are
// in the URL.)
constexpr absl::string_view kGatewayKeys[] = {"contents"};

// The generationConfig member merged key by key (see the header).
constexpr absl::string_view kGenerationConfig = "generationConfig";

// What this format writes around the request's text: media and tool
// results in parts, thought parts and signatures sent back.
constexpr providers::BodyFraming kFraming = [] {
  providers::BodyFraming f;
  f.message = 40;
  f.media = 80;
  f.tool_result = 96;
  f.reasoning = true;
  f.reasoning_framing = 64;
  f.json_schema = 96;
  return f;
}();

// config.reasoning.effort -> thinkingBudget (see the header). "none" turns
// thinking off.
struct EffortBudget {
  absl::string_view effort;
  int64_t budget;
};
constexpr EffortBudget kEffortBudgets[] = {
    {"none", 0},      {"minimal", 512}, {"low", 1024},
    {"medium", 8192}, {"high", 24576},  {"xhigh", 32768},
};

// Past this size JSON is checked with a parser of its own, freed
// afterwards: the thread's parser keeps its buffers for good.
constexpr size_t kMaxReusedParserCapacity = size_t{1} << 20;

bool ParsesAsObject(simdjson::dom::parser& parser, absl::string_view json) {
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return false;
  return root.type() == simdjson::dom::element_type::OBJECT;
}

// Whether `json` is one whole JSON object: Gemini takes a call's args and a
// function's response as objects, where v1 (like OpenAI) carries text.
bool IsJsonObject(absl::string_view json) {
  if (json.empty() || json.front() != '{') return false;
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
  // The thoughtSignature this part carries: the one a Reasoning part just
  // before it held (a Reasoning part with text carries its own).
  const std::string* signature = nullptr;
  // A tool result's function name.
  absl::string_view function_name;
};

// One user or model turn: adjacent messages of the same side merged.
struct Turn {
  bool model = false;
  std::vector<Block> blocks;
};

// Writes one request body. Errors are kept in `policy_` (the first one wins)
// so that every mapped field checks the unsupported-field policy in one line;
// Build() looks at it between stages and throws the half-written body away.
class BodyWriter {
 public:
  BodyWriter(const GenerateRequest& request,
             const GenerateContentRequestOptions& options)
      : r_(request),
        o_(options),
        policy_(request, kProviderKind, options.provider_name,
                options.unsupported_fields, options.drop_unsupported) {
    const google::protobuf::Struct* po = policy_.provider_options();
    if (po != nullptr) {
      auto it = po->fields().find(std::string(kGenerationConfig));
      if (it != po->fields().end() && it->second.has_struct_value()) {
        generation_options_ = &it->second.struct_value();
      }
    }
  }

  absl::StatusOr<std::string> Build();

 private:
  void Fail(absl::Status s) { policy_.Fail(std::move(s)); }
  void Fail(absl::string_view field, absl::string_view problem) {
    Fail(absl::InvalidArgumentError(absl::StrCat(field, ": ", problem)));
  }

  void PlanMessages();
  void PlanMessage(const Message& m, int i);
  void AddBlock(bool model, Block b);
  void WriteSystem();
  void WriteContents();
  void WriteBlock(const Block& b);
  void WriteMedia(const Media& media, int i, int j);
  void WriteFunctionCall(const v1::ToolCall& call, int i, int j);
  void WriteFunctionResponse(const v1::ToolResult& result,
                             absl::string_view name);
  bool WriteTools();
  void WriteToolConfig(bool tools);
  void WriteGenerationConfig();
  void WriteResponseFormat(const ResponseFormat& f);
  void WriteThinking(const v1::ReasoningConfig& rc);
  void WriteProviderOptions();

  // Whether to write the set v1 `field` as generationConfig's `key`: not
  // when provider_options sets that key (or replaces generationConfig
  // whole), nor when the provider cannot take the field.
  bool GenerationSend(absl::string_view field, absl::string_view key);
  bool GenerationOverridden(absl::string_view key) const;
  // generationConfig's `key`, opening the object on first use.
  JsonWriter& GenerationKey(absl::string_view key);

  const GenerateRequest& r_;
  const GenerateContentRequestOptions& o_;
  FieldPolicy policy_;
  // provider_options' generationConfig when it is an object: merged.
  const google::protobuf::Struct* generation_options_ = nullptr;
  bool generation_open_ = false;
  // Planned before anything is written.
  std::vector<const Part*> system_;
  std::vector<Turn> turns_;
  // ToolCall id -> name, for the assistant messages planned so far.
  absl::flat_hash_map<absl::string_view, absl::string_view> call_names_;
  std::string body_;
  JsonWriter w_{&body_};
};

void BodyWriter::AddBlock(bool model, Block b) {
  if (turns_.empty() || turns_.back().model != model) {
    turns_.emplace_back().model = model;
  }
  turns_.back().blocks.push_back(b);
}

void BodyWriter::PlanMessages() {
  for (int i = 0; i < r_.messages_size() && policy_.ok(); ++i) {
    PlanMessage(r_.messages(i), i);
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
  const bool model = m.role() == v1::ROLE_ASSISTANT;
  // A signature-only Reasoning part waiting for the part it signs.
  const Part* pending = nullptr;
  int pending_j = 0;
  auto flush_pending = [&] {
    if (pending != nullptr) AddBlock(true, Block{pending, i, pending_j});
    pending = nullptr;
  };
  auto signed_block = [&](const Part& p, int j) {
    Block b{&p, i, j};
    if (pending != nullptr) b.signature = &pending->reasoning().signature();
    pending = nullptr;
    return b;
  };
  for (int j = 0; j < m.parts_size(); ++j) {
    const Part& p = m.parts(j);
    const std::string path = PartPath(i, j);
    if (m.role() == v1::ROLE_TOOL && !p.has_tool_result()) {
      return Fail(path, "a tool message holds tool_result parts");
    }
    switch (p.kind_case()) {
      case Part::kText:
        if (system) {
          if (!p.text().empty()) system_.push_back(&p);
        } else if (!p.text().empty()) {
          // An empty part says nothing; its signature, if any, goes on.
          AddBlock(model, signed_block(p, j));
        }
        break;
      case Part::kMedia:
        if (system) {
          return Fail(absl::StrCat(path, ".media"),
                      absl::StrCat("provider \"", o_.provider_name,
                                   "\" takes text only in system messages"));
        }
        AddBlock(model, signed_block(p, j));
        break;
      case Part::kToolCall:
        if (!model) {
          return Fail(path, "a tool_call part belongs in an assistant message");
        }
        if (p.tool_call().name().empty()) {
          return Fail(absl::StrCat(path, ".tool_call.name"), "must be set");
        }
        if (!p.tool_call().id().empty()) {
          call_names_[p.tool_call().id()] = p.tool_call().name();
        }
        AddBlock(true, signed_block(p, j));
        break;
      case Part::kToolResult: {
        if (m.role() != v1::ROLE_TOOL) {
          return Fail(path, "a tool_result part belongs in a tool message");
        }
        const v1::ToolResult& t = p.tool_result();
        absl::string_view name = t.name();
        if (name.empty() && !t.tool_call_id().empty()) {
          auto it = call_names_.find(t.tool_call_id());
          if (it != call_names_.end()) name = it->second;
        }
        if (name.empty()) {
          return Fail(
              absl::StrCat(path, ".tool_result.name"),
              t.tool_call_id().empty()
                  ? absl::StrCat("must be set (provider \"", o_.provider_name,
                                 "\" matches results to calls by name), or "
                                 "tool_call_id naming an earlier tool_call")
                  : absl::StrCat("must be set: no earlier tool_call has id \"",
                                 t.tool_call_id(), "\" (provider \"",
                                 o_.provider_name,
                                 "\" matches results to calls by name)"));
        }
        Block b{&p, i, j};
        b.function_name = name;
        AddBlock(false, b);
        break;
      }
      case Part::kReasoning: {
        // Only the model's own reasoning goes back, and only what Gemini can
        // read: redacted_data (Anthropic's) cannot be.
        const v1::Reasoning& r = p.reasoning();
        if (!model) break;
        if (!r.text().empty()) {
          flush_pending();
          AddBlock(true, Block{&p, i, j});
        } else if (!r.signature().empty()) {
          flush_pending();
          pending = &p;
          pending_j = j;
        }
        break;
      }
      case Part::KIND_NOT_SET:
        return Fail(path, "must be set");
    }
  }
  flush_pending();
}

void BodyWriter::WriteSystem() {
  if (system_.empty() || policy_.Overridden("systemInstruction")) return;
  w_.Key("systemInstruction").BeginObject().Key("parts").BeginArray();
  for (const Part* p : system_) {
    w_.BeginObject().Key("text").String(p->text()).EndObject();
  }
  w_.EndArray().EndObject();
}

void BodyWriter::WriteContents() {
  w_.Key("contents").BeginArray();
  if (r_.messages_size() == 0) {
    w_.BeginObject().Key("role").String("user").Key("parts").BeginArray();
    w_.BeginObject().Key("text").String(r_.prompt()).EndObject();
    w_.EndArray().EndObject();
  }
  for (const Turn& t : turns_) {
    w_.BeginObject().Key("role").String(t.model ? "model" : "user");
    w_.Key("parts").BeginArray();
    for (const Block& b : t.blocks) {
      WriteBlock(b);
      if (!policy_.ok()) return;
    }
    w_.EndArray().EndObject();
  }
  w_.EndArray();
}

void BodyWriter::WriteBlock(const Block& b) {
  const Part& p = *b.part;
  w_.BeginObject();
  switch (p.kind_case()) {
    case Part::kText:
      w_.Key("text").String(p.text());
      break;
    case Part::kMedia:
      WriteMedia(p.media(), b.i, b.j);
      break;
    case Part::kToolCall:
      WriteFunctionCall(p.tool_call(), b.i, b.j);
      break;
    case Part::kToolResult:
      WriteFunctionResponse(p.tool_result(), b.function_name);
      break;
    case Part::kReasoning: {
      const v1::Reasoning& r = p.reasoning();
      // With text: a thought part, signed or not. Without: the signature of
      // a part that had no text Gemini would take back (an empty text part,
      // as Gemini's streams end with), on an empty text part again.
      w_.Key("text").String(r.text());
      if (!r.text().empty()) w_.Key("thought").Bool(true);
      if (!r.signature().empty()) {
        w_.Key("thoughtSignature").String(r.signature());
      }
      break;
    }
    case Part::KIND_NOT_SET:
      break;  // Refused by PlanMessage.
  }
  if (b.signature != nullptr) w_.Key("thoughtSignature").String(*b.signature);
  w_.EndObject();
}

void BodyWriter::WriteMedia(const Media& media, int i, int j) {
  absl::StatusOr<std::string> checked =
      providers::CheckMedia(media, i, j, o_.media_types, o_.provider_name);
  if (!checked.ok()) return Fail(checked.status());
  const std::string& essence = *checked;
  if (media.has_uri() && !IsDataUrl(media.uri())) {
    // Files API URIs, gs:// and the like: Gemini fetches them itself.
    w_.Key("file_data").BeginObject().Key("mime_type").String(essence);
    w_.Key("file_uri").String(media.uri()).EndObject();
    return;
  }
  absl::string_view payload;
  if (media.has_uri() && !Base64Payload(media.uri(), &payload)) {
    return Fail(absl::StrCat(PartPath(i, j), ".media.uri"),
                absl::StrCat("provider \"", o_.provider_name,
                             "\" takes base64 data: URLs only"));
  }
  w_.Key("inline_data").BeginObject().Key("mime_type").String(essence);
  w_.Key("data");
  if (media.has_uri()) {
    w_.String(payload);
  } else {
    w_.RawJson(Base64Literal("", media.data()));
  }
  w_.EndObject();
}

void BodyWriter::WriteFunctionCall(const v1::ToolCall& call, int i, int j) {
  const absl::string_view arguments =
      absl::StripAsciiWhitespace(call.arguments());
  // A call without arguments is an empty object, as OpenAI's format has it.
  if (!arguments.empty() && !IsJsonObject(arguments)) {
    return Fail(absl::StrCat(PartPath(i, j), ".tool_call.arguments"),
                absl::StrCat("must be a JSON object (provider \"",
                             o_.provider_name,
                             "\" takes a call's args as one)"));
  }
  w_.Key("functionCall").BeginObject().Key("name").String(call.name());
  w_.Key("args").RawJson(arguments.empty() ? "{}" : arguments);
  w_.EndObject();
}

void BodyWriter::WriteFunctionResponse(const v1::ToolResult& result,
                                       absl::string_view name) {
  const absl::string_view content = absl::StripAsciiWhitespace(result.content());
  const bool object = IsJsonObject(content);
  w_.Key("functionResponse").BeginObject().Key("name").String(name);
  w_.Key("response");
  if (object && !result.is_error()) {
    w_.RawJson(content);
  } else {
    // Google's own examples wrap other results so: {"result": ...} and
    // {"error": ...}.
    w_.BeginObject().Key(result.is_error() ? "error" : "result");
    if (object) {
      w_.RawJson(content);
    } else {
      w_.String(result.content());
    }
    w_.EndObject();
  }
  w_.EndObject();
}

// Writes the caller's tools; whether it did.
bool BodyWriter::WriteTools() {
  if (r_.tools_size() == 0 || !policy_.Send("tools", "tools")) return false;
  w_.Key("tools").BeginArray().BeginObject();
  w_.Key("functionDeclarations").BeginArray();
  for (int k = 0; k < r_.tools_size(); ++k) {
    const v1::Tool& t = r_.tools(k);
    if (t.name().empty()) {
      Fail(absl::StrCat("tools[", k, "].name"), "must be set");
      return false;
    }
    w_.BeginObject().Key("name").String(t.name());
    if (!t.description().empty()) {
      w_.Key("description").String(t.description());
    }
    // Optional here: a function without parameters takes none.
    if (t.has_parameters()) {
      w_.Key("parametersJsonSchema").ProtoStruct(t.parameters());
    }
    w_.EndObject();
  }
  w_.EndArray().EndObject().EndArray();
  return true;
}

// `tools`: the caller's tools are in the body.
void BodyWriter::WriteToolConfig(bool tools) {
  const ToolChoice& tc = r_.tool_choice();
  if (absl::Status s = providers::CheckToolChoice(tc); !s.ok()) {
    return Fail(s);
  }
  ToolChoice::Mode mode = tc.mode();
  if (mode != ToolChoice::MODE_UNSPECIFIED &&
      !policy_.SendToolSetting("tool_choice", "toolConfig")) {
    mode = ToolChoice::MODE_UNSPECIFIED;
  }
  const bool any_tools = tools || policy_.Overridden("tools");
  const GenerationConfig& c = r_.config();
  // Parallel calls are Gemini's only way: "false" cannot be honoured, and
  // means nothing without tools.
  if (any_tools && c.has_parallel_tool_calls() && !c.parallel_tool_calls()) {
    policy_.Refuse("config.parallel_tool_calls");
  }
  if (!policy_.ok() || policy_.Overridden("toolConfig")) return;
  if (!any_tools) {
    // Without tools a tool choice means nothing, except a demand for a
    // call that cannot be made.
    if (mode == ToolChoice::MODE_REQUIRED) {
      return Fail("tool_choice.mode", "MODE_REQUIRED needs tools");
    }
    return;
  }
  absl::string_view gemini_mode;
  switch (mode) {
    case ToolChoice::MODE_AUTO:
      gemini_mode = "AUTO";
      break;
    case ToolChoice::MODE_NONE:
      gemini_mode = "NONE";
      break;
    case ToolChoice::MODE_REQUIRED:
      gemini_mode = "ANY";
      break;
    default:
      return;  // Auto, Gemini's default; unknown modes were refused above.
  }
  w_.Key("toolConfig").BeginObject().Key("functionCallingConfig");
  w_.BeginObject().Key("mode").String(gemini_mode);
  if (!tc.function_name().empty()) {
    w_.Key("allowedFunctionNames").BeginArray().String(tc.function_name());
    w_.EndArray();
  }
  w_.EndObject().EndObject();
}

bool BodyWriter::GenerationOverridden(absl::string_view key) const {
  if (generation_options_ != nullptr) {
    return generation_options_->fields().count(std::string(key)) > 0;
  }
  // Set but not an object: the option replaces generationConfig whole.
  return policy_.Overridden(kGenerationConfig);
}

bool BodyWriter::GenerationSend(absl::string_view field, absl::string_view key) {
  if (GenerationOverridden(key)) return false;
  if (policy_.Listed(field)) return policy_.Refuse(field);
  return true;
}

JsonWriter& BodyWriter::GenerationKey(absl::string_view key) {
  if (!generation_open_) {
    w_.Key(kGenerationConfig).BeginObject();
    generation_open_ = true;
  }
  return w_.Key(key);
}

void BodyWriter::WriteGenerationConfig() {
  const GenerationConfig& c = r_.config();
  if (c.has_temperature() &&
      GenerationSend("config.temperature", "temperature")) {
    GenerationKey("temperature").Double(c.temperature());
  }
  if (c.has_top_p() && GenerationSend("config.top_p", "topP")) {
    GenerationKey("topP").Double(c.top_p());
  }
  if (c.has_top_k() && GenerationSend("config.top_k", "topK")) {
    GenerationKey("topK").Int(c.top_k());
  }
  if (c.has_max_output_tokens() &&
      GenerationSend("config.max_output_tokens", "maxOutputTokens")) {
    GenerationKey("maxOutputTokens").Int(c.max_output_tokens());
  }
  if (c.stop_sequences_size() > 0 &&
      GenerationSend("config.stop_sequences", "stopSequences")) {
    GenerationKey("stopSequences").BeginArray();
    for (const std::string& s : c.stop_sequences()) w_.String(s);
    w_.EndArray();
  }
  if (c.has_seed() && GenerationSend("config.seed", "seed")) {
    if (c.seed() < std::numeric_limits<int32_t>::min() ||
        c.seed() > std::numeric_limits<int32_t>::max()) {
      return Fail("config.seed",
                  absl::StrCat("must fit in 32 bits (provider \"",
                               o_.provider_name, "\" takes an int32 seed)"));
    }
    GenerationKey("seed").Int(c.seed());
  }
  if (c.has_presence_penalty() &&
      GenerationSend("config.presence_penalty", "presencePenalty")) {
    GenerationKey("presencePenalty").Double(c.presence_penalty());
  }
  if (c.has_frequency_penalty() &&
      GenerationSend("config.frequency_penalty", "frequencyPenalty")) {
    GenerationKey("frequencyPenalty").Double(c.frequency_penalty());
  }
  WriteResponseFormat(c.response_format());
  if (c.has_reasoning()) WriteThinking(c.reasoning());
  if (!policy_.ok()) return;
  // The options' own members last, sorted like FieldPolicy's: the same
  // request gives the same bytes.
  if (generation_options_ != nullptr && !generation_options_->fields().empty()) {
    using Entry =
        google::protobuf::Map<std::string, google::protobuf::Value>::value_type;
    std::vector<const Entry*> entries;
    for (const Entry& e : generation_options_->fields()) entries.push_back(&e);
    std::sort(entries.begin(), entries.end(),
              [](const Entry* a, const Entry* b) { return a->first < b->first; });
    for (const Entry* e : entries) GenerationKey(e->first).ProtoValue(e->second);
  }
  if (generation_open_) w_.EndObject();
}

void BodyWriter::WriteResponseFormat(const ResponseFormat& f) {
  if (f.has_json_object()) {
    if (GenerationSend("config.response_format.json_object",
                       "responseMimeType")) {
      GenerationKey("responseMimeType").String("application/json");
    }
  } else if (f.has_json_schema()) {
    constexpr absl::string_view kField = "config.response_format.json_schema";
    if (GenerationSend(kField, "responseMimeType")) {
      GenerationKey("responseMimeType").String("application/json");
    }
    // responseSchema (Google's OpenAPI subset) excludes responseJsonSchema.
    if (f.json_schema().has_schema() &&
        !GenerationOverridden("responseSchema") &&
        GenerationSend(kField, "responseJsonSchema")) {
      GenerationKey("responseJsonSchema").ProtoStruct(f.json_schema().schema());
    }
  }
}

void BodyWriter::WriteThinking(const v1::ReasoningConfig& rc) {
  constexpr absl::string_view kKey = "thinkingConfig";
  std::optional<int64_t> budget;
  if (rc.has_budget_tokens()) {
    // An explicit budget wins over an effort.
    if (rc.budget_tokens() < -1) {
      return Fail("config.reasoning.budget_tokens",
                  "must be -1 (the model decides) or more");
    }
    if (GenerationSend("config.reasoning.budget_tokens", kKey)) {
      budget = rc.budget_tokens();
    }
  } else if (!rc.effort().empty() &&
             GenerationSend("config.reasoning.effort", kKey)) {
    const std::string effort = absl::AsciiStrToLower(rc.effort());
    for (const EffortBudget& e : kEffortBudgets) {
      if (e.effort == effort) budget = e.budget;
    }
    if (!budget.has_value()) {
      return Fail("config.reasoning.effort",
                  absl::StrCat("\"", rc.effort(), "\" is not an effort ",
                               "provider \"", o_.provider_name,
                               "\" maps to a thinking budget (none, minimal, "
                               "low, medium, high, xhigh)"));
    }
  }
  const bool include =
      rc.include_reasoning() &&
      GenerationSend("config.reasoning.include_reasoning", kKey);
  if (!budget.has_value() && !include) return;
  GenerationKey(kKey).BeginObject();
  if (budget.has_value()) w_.Key("thinkingBudget").Int(*budget);
  if (include) w_.Key("includeThoughts").Bool(true);
  w_.EndObject();
}

void BodyWriter::WriteProviderOptions() {
  const google::protobuf::Struct* options = policy_.provider_options();
  if (options == nullptr) return;
  using Entry =
      google::protobuf::Map<std::string, google::protobuf::Value>::value_type;
  std::vector<const Entry*> entries;
  entries.reserve(options->fields().size());
  for (const Entry& e : options->fields()) {
    // Merged into the gateway's generationConfig already.
    if (generation_options_ != nullptr && e.first == kGenerationConfig) continue;
    entries.push_back(&e);
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry* a, const Entry* b) { return a->first < b->first; });
  for (const Entry* e : entries) w_.Key(e->first).ProtoValue(e->second);
}

absl::StatusOr<std::string> BodyWriter::Build() {
  // The API layer's job; repeated because the body would be silently wrong
  // without it.
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

  body_.reserve(providers::EstimateBodySize(
      r_, "", policy_.provider_options(), kFraming));
  w_.BeginObject();
  WriteContents();
  if (!policy_.ok()) return policy_.status();
  WriteSystem();
  const bool tools = WriteTools();
  if (!policy_.ok()) return policy_.status();
  WriteToolConfig(tools);
  if (!policy_.ok()) return policy_.status();
  WriteGenerationConfig();
  // Gemini has no end-user field.
  if (!r_.end_user_id().empty()) policy_.Refuse("end_user_id");
  if (!policy_.ok()) return policy_.status();
  // labels are the gateway's own (logs, metrics, cost) and routing is the
  // router's: neither goes upstream.

  // Last, as the caller's final word on the body; keys the gateway also
  // writes were skipped above (Overridden).
  WriteProviderOptions();
  w_.EndObject();
  return std::move(body_);
}

}  // namespace

absl::StatusOr<std::string> BuildGenerateContentRequest(
    const GenerateRequest& request,
    const GenerateContentRequestOptions& options) {
  absl::StatusOr<std::string> body = BodyWriter(request, options).Build();
  // Every error above is INVALID_ARGUMENT "<field path>: <problem>".
  if (!body.ok()) return providers::WithFieldDetails(body.status());
  return body;
}

}  // namespace llmgateway::gemini
