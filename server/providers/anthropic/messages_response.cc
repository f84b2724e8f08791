// Messages API `message` JSON -> v1 GenerateResponse with simdjson
// On-Demand: one pass per object, switching on each key, so key order does
// not matter and unknown fields cost only a skip.
#include "server/providers/anthropic/messages_response.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/providers/anthropic/json_response_tool.h"
#include "server/providers/anthropic/message_fields.h"
#include "server/providers/openai/json_fields.h"
#include "simdjson.h"

namespace llmgateway::anthropic {
namespace {

namespace od = ::simdjson::ondemand;
using ::llmgateway::openai::json::CheckNull;
using ::llmgateway::openai::json::FieldError;
using ::llmgateway::openai::json::ForEachElement;
using ::llmgateway::openai::json::ForEachField;
using ::llmgateway::openai::json::Malformed;
using ::llmgateway::openai::json::ReadObject;
using ::llmgateway::openai::json::ReadString;
using ::simdjson::error_code;

// Past this size a body gets a parser of its own, freed afterwards: the
// thread's parser keeps its buffers (several times the body's size) for
// good, and one huge answer should not pin that much memory per thread.
constexpr size_t kMaxReusedParserCapacity = size_t{1} << 20;

constexpr absl::string_view kMalformed =
    "upstream returned a malformed Anthropic message: ";

// One element of `content`, read in any key order. The strings point into
// the parser's buffer, `input` into the body: both live until the parse ends.
struct ContentBlock {
  std::string_view type;
  std::string_view text;
  std::string_view thinking;
  std::string_view signature;
  std::string_view data;
  std::string_view id;
  std::string_view name;
  std::string_view input;
};

// The answer so far: the message's parts go straight into the response.
struct Answer {
  int tool_calls = 0;
  bool json_answer = false;
};

// An object's JSON text exactly as sent (a tool call's input: v1 carries it
// as text), without the whitespace after it.
error_code ReadRawObject(od::value v, std::string_view* out) {
  std::optional<od::object> obj;
  if (error_code e = ReadObject(v, &obj); e || !obj) return e;
  std::string_view raw;
  if (error_code e = obj->raw_json().get(raw)) return e;
  const absl::string_view trimmed =
      absl::StripTrailingAsciiWhitespace(absl::string_view(raw.data(), raw.size()));
  *out = std::string_view(trimmed.data(), trimmed.size());
  return simdjson::SUCCESS;
}

absl::Status ReadContentBlock(od::value v, const std::string& path,
                              ContentBlock* b) {
  return ForEachField(v, path, [&](std::string_view key, od::value fv) {
    error_code e = simdjson::SUCCESS;
    if (key == "type") {
      e = ReadString(fv, &b->type);
    } else if (key == "text") {
      e = ReadString(fv, &b->text);
    } else if (key == "thinking") {
      e = ReadString(fv, &b->thinking);
    } else if (key == "signature") {
      e = ReadString(fv, &b->signature);
    } else if (key == "data") {
      e = ReadString(fv, &b->data);
    } else if (key == "id") {
      e = ReadString(fv, &b->id);
    } else if (key == "name") {
      e = ReadString(fv, &b->name);
    } else if (key == "input") {
      e = ReadRawObject(fv, &b->input);
    }
    return e ? FieldError(path, key, e) : absl::OkStatus();
  });
}

void Assign(std::string_view from, std::string* to) {
  to->assign(from.data(), from.size());
}

void AddText(std::string_view text, v1::GenerateResponse* r) {
  if (text.empty()) return;
  r->mutable_text()->append(text.data(), text.size());
  Assign(text, r->mutable_message()->add_parts()->mutable_text());
}

// Appends the block's part, in content order. Unknown block types (server
// tools' blocks, newer kinds) have no v1 part and are skipped.
absl::Status AddBlock(const ContentBlock& b, const std::string& path,
                      Answer* a, v1::GenerateResponse* r) {
  v1::Message* m = r->mutable_message();
  if (b.type == "text") {
    AddText(b.text, r);
  } else if (b.type == "thinking") {
    if (b.thinking.empty() && b.signature.empty()) return absl::OkStatus();
    v1::Reasoning* reasoning = m->add_parts()->mutable_reasoning();
    Assign(b.thinking, reasoning->mutable_text());
    Assign(b.signature, reasoning->mutable_signature());
  } else if (b.type == "redacted_thinking") {
    if (b.data.empty()) return absl::OkStatus();
    Assign(b.data, m->add_parts()->mutable_reasoning()->mutable_redacted_data());
  } else if (b.type == "tool_use") {
    // A call without a name is no call the caller could make.
    if (b.name.empty()) {
      return Malformed(absl::StrCat(path, ".name: missing in a tool_use block"),
                       simdjson::NO_SUCH_FIELD);
    }
    if (b.name == kJsonResponseToolName) {
      // The JSON response format's answer: text, as the caller asked.
      a->json_answer = true;
      AddText(b.input, r);
      return absl::OkStatus();
    }
    ++a->tool_calls;
    v1::ToolCall* call = m->add_parts()->mutable_tool_call();
    Assign(b.id, call->mutable_id());
    Assign(b.name, call->mutable_name());
    Assign(b.input, call->mutable_arguments());
  }
  return absl::OkStatus();
}

absl::Status ParseDocument(od::document& doc, v1::GenerateResponse* r) {
  od::object root;
  if (error_code e = doc.get_object().get(root)) {
    return Malformed("expected a JSON object", e);
  }
  Answer answer;
  bool has_content = false;
  std::string_view type;
  std::string_view stop_reason;
  TokenUsage usage;
  bool has_usage = false;
  for (auto field : root) {
    std::string_view key;
    if (error_code e = field.unescaped_key().get(key)) {
      return Malformed("top-level object", e);
    }
    od::value v;
    if (error_code e = field.value().get(v)) {
      return Malformed("top-level object", e);
    }
    absl::Status s;
    error_code e = simdjson::SUCCESS;
    if (key == "id") {
      e = ReadString(v, r->mutable_id());
    } else if (key == "model") {
      e = ReadString(v, r->mutable_model());
    } else if (key == "type") {
      e = ReadString(v, &type);
    } else if (key == "stop_reason") {
      e = ReadString(v, &stop_reason);
    } else if (key == "content") {
      // A repeated key replaces, as JSON parsers usually do (last wins).
      r->clear_message();
      r->clear_text();
      answer = Answer();
      has_content = true;
      s = ForEachElement(v, "content", [&](size_t i, od::value bv) {
        ContentBlock block;
        const std::string path = absl::StrCat("content[", i, "]");
        absl::Status bs = ReadContentBlock(bv, path, &block);
        if (bs.ok()) bs = AddBlock(block, path, &answer, r);
        return bs;
      });
    } else if (key == "usage") {
      usage = TokenUsage();
      bool is_null;
      if ((e = CheckNull(v, &is_null))) return Malformed("usage", e);
      has_usage = !is_null;
      if (has_usage) s = ParseUsage(v, "usage", &usage);
    }
    if (e) {
      return Malformed(absl::string_view(key.data(), key.size()), e);
    }
    if (!s.ok()) return s;
  }
  // Closing the root object does not end the document: `{...} garbage` (two
  // bodies run together, a proxy's appendix) is not a message.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return Malformed("trailing content after the JSON object",
                     simdjson::TRAILING_CONTENT);
  }
  if (type == "error") {
    return absl::UnavailableError("the body is an error object");
  }
  if (!has_content) return absl::UnavailableError("no content");

  r->mutable_message()->set_role(v1::ROLE_ASSISTANT);
  r->set_finish_reason(AnswerFinishReason(
      absl::string_view(stop_reason.data(), stop_reason.size()),
      answer.tool_calls, answer.json_answer));
  if (has_usage) ToV1Usage(usage, r->mutable_usage());
  return absl::OkStatus();
}

absl::Status Parse(od::parser& parser, simdjson::padded_string_view json,
                   v1::GenerateResponse* r) {
  od::document doc;
  if (error_code e = parser.iterate(json).get(doc)) {
    return Malformed("not JSON", e);
  }
  return ParseDocument(doc, r);
}

}  // namespace

absl::Status ParseMessagesResponse(const std::string& body,
                                   v1::GenerateResponse* out) {
  // Parsed into a fresh message and moved over at the end, so a failure
  // leaves *out as the caller had it.
  v1::GenerateResponse r;
  simdjson::padded_string copy;
  simdjson::padded_string_view json;
  if (body.capacity() - body.size() >= simdjson::SIMDJSON_PADDING) {
    json =
        simdjson::padded_string_view(body.data(), body.size(), body.capacity());
  } else {
    copy = simdjson::padded_string(body.data(), body.size());
    json = copy;
  }

  absl::Status s;
  if (body.size() <= kMaxReusedParserCapacity) {
    // One parser per thread: On-Demand allows one live document per parser,
    // and nothing here keeps a document past this call.
    thread_local od::parser parser;
    s = Parse(parser, json, &r);
  } else {
    od::parser parser;
    s = Parse(parser, json, &r);
  }
  // UNAVAILABLE: to the caller a broken answer is a failed upstream call (the
  // routing layer may retry or fall back). The messages name paths into the
  // body, never its content: it may hold the end user's data.
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat(kMalformed, s.message()));
  }

  out->set_id(std::move(*r.mutable_id()));
  out->set_model(std::move(*r.mutable_model()));
  out->mutable_message()->Swap(r.mutable_message());
  out->set_text(std::move(*r.mutable_text()));
  out->set_finish_reason(r.finish_reason());
  if (r.has_usage()) {
    out->mutable_usage()->Swap(r.mutable_usage());
  } else {
    out->clear_usage();
  }
  return absl::OkStatus();
}

}  // namespace llmgateway::anthropic
