// Messages API `message` JSON -> v1 GenerateResponse with simdjson
// On-Demand: one pass per object, switching on each key, so key order does
// not matter and unknown fields cost only a skip.
#include "server/providers/anthropic/messages_response.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/providers/anthropic/json_response_tool.h"
#include "server/providers/anthropic/message_fields.h"
#include "server/providers/common/response_body.h"
#include "server/providers/json/json_read.h"
#include "simdjson.h"

namespace llmgateway::anthropic {
namespace {

namespace od = ::simdjson::ondemand;
using ::llmgateway::json::AbslView;
using ::llmgateway::json::CheckNull;
using ::llmgateway::json::FieldError;
using ::llmgateway::json::ForEachElement;
using ::llmgateway::json::ForEachField;
using ::llmgateway::json::ForEachRootField;
using ::llmgateway::json::Malformed;
using ::llmgateway::json::ReadRawObject;
using ::llmgateway::json::ReadString;
using ::simdjson::error_code;

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

// The body's root object into *r, in any key order.
absl::Status Parse(od::parser& parser, simdjson::padded_string_view json,
                   v1::GenerateResponse* r) {
  Answer answer;
  bool has_content = false;
  std::string_view type;
  std::string_view stop_reason;
  TokenUsage usage;
  bool has_usage = false;
  const absl::Status status = ForEachRootField(
      parser, json, [&](std::string_view key, od::value v) -> absl::Status {
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
        if (e) return Malformed(AbslView(key), e);
        return s;
      });
  if (!status.ok()) return status;
  if (type == "error") {
    return absl::UnavailableError("the body is an error object");
  }
  if (!has_content) return absl::UnavailableError("no content");

  r->mutable_message()->set_role(v1::ROLE_ASSISTANT);
  r->set_finish_reason(AnswerFinishReason(
      AbslView(stop_reason), answer.tool_calls, answer.json_answer));
  if (has_usage) ToV1Usage(usage, r->mutable_usage());
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseMessagesResponse(const std::string& body,
                                   v1::GenerateResponse* out) {
  return providers::ParseResponseBody(
      body, kMalformed,
      [](od::parser& parser, simdjson::padded_string_view json,
         v1::GenerateResponse* r) { return Parse(parser, json, r); },
      out);
}

}  // namespace llmgateway::anthropic
