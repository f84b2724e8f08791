// chat.completion JSON -> v1 GenerateResponse with simdjson On-Demand: one
// pass per object, switching on each key, so key order does not matter and
// unknown fields cost only a skip.
#include "server/providers/openai/chat_response.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/providers/common/response_body.h"
#include "server/providers/json/json_read.h"
#include "server/providers/openai/json_fields.h"
#include "simdjson.h"

namespace llmgateway::openai {
namespace {

namespace od = ::simdjson::ondemand;
using ::llmgateway::json::CheckNull;
using ::llmgateway::json::FieldError;
using ::llmgateway::json::ForEachElement;
using ::llmgateway::json::ForEachField;
using ::llmgateway::json::ForEachRootField;
using ::llmgateway::json::Malformed;
using ::llmgateway::json::ReadString;
using ::simdjson::error_code;

// choices[0], collected in any key order and assembled into parts at the
// end, in the order the v1 API fixes: reasoning, text, tool calls.
struct Choice {
  std::string content;
  std::string refusal;
  std::string reasoning_content;  // DeepSeek, vLLM
  std::string reasoning;          // OpenRouter, Ollama, newer vLLM
  std::vector<v1::ToolCall> tool_calls;
  std::string finish_reason;
};

absl::Status ParseToolCall(od::value v, size_t i, v1::ToolCall* call) {
  const std::string path =
      absl::StrCat("choices[0].message.tool_calls[", i, "]");
  return ForEachField(v, path, [&](std::string_view key, od::value fv) {
    if (key == "id") {
      if (error_code e = ReadString(fv, call->mutable_id())) {
        return FieldError(path, key, e);
      }
    } else if (key == "function") {
      const std::string fpath = absl::StrCat(path, ".function");
      return ForEachField(fv, fpath, [&](std::string_view fkey, od::value f) {
        error_code e = simdjson::SUCCESS;
        if (fkey == "name") {
          e = ReadString(f, call->mutable_name());
        } else if (fkey == "arguments") {
          e = ReadString(f, call->mutable_arguments());
        }
        return e ? FieldError(fpath, fkey, e) : absl::OkStatus();
      });
    }
    return absl::OkStatus();
  });
}

absl::Status ParseMessage(od::value v, Choice* c) {
  constexpr absl::string_view kPath = "choices[0].message";
  return ForEachField(v, kPath, [&](std::string_view key, od::value fv) {
    error_code e = simdjson::SUCCESS;
    if (key == "content") {
      e = ReadString(fv, &c->content);
    } else if (key == "refusal") {
      e = ReadString(fv, &c->refusal);
    } else if (key == "reasoning_content") {
      e = ReadString(fv, &c->reasoning_content);
    } else if (key == "reasoning") {
      e = ReadString(fv, &c->reasoning);
    } else if (key == "tool_calls") {
      // A repeated key replaces, as JSON parsers usually do (last wins).
      c->tool_calls.clear();
      return ForEachElement(
          fv, absl::StrCat(kPath, ".tool_calls"), [&](size_t i, od::value tv) {
            return ParseToolCall(tv, i, &c->tool_calls.emplace_back());
          });
    }
    return e ? FieldError(kPath, key, e) : absl::OkStatus();
  });
}

absl::Status ParseChoice(od::value v, Choice* c) {
  return ForEachField(v, "choices[0]", [&](std::string_view key, od::value fv) {
    if (key == "message") return ParseMessage(fv, c);
    if (key == "finish_reason") {
      if (error_code e = ReadString(fv, &c->finish_reason)) {
        return FieldError("choices[0]", key, e);
      }
    }
    return absl::OkStatus();
  });
}

void AddText(std::string&& text, v1::GenerateResponse* r) {
  if (text.empty()) return;
  absl::StrAppend(r->mutable_text(), text);
  r->mutable_message()->add_parts()->set_text(std::move(text));
}

// The body's root object into *r, in any key order.
absl::Status Parse(od::parser& parser, simdjson::padded_string_view json,
                   v1::GenerateResponse* r) {
  Choice choice;
  bool has_choice = false;
  bool has_error_object = false;
  absl::Status s = ForEachRootField(
      parser, json, [&](std::string_view key, od::value v) -> absl::Status {
        if (key == "id") {
          if (error_code e = ReadString(v, r->mutable_id())) {
            return Malformed("id", e);
          }
        } else if (key == "model") {
          if (error_code e = ReadString(v, r->mutable_model())) {
            return Malformed("model", e);
          }
        } else if (key == "choices") {
          choice = Choice();
          has_choice = false;
          return ForEachElement(v, "choices", [&](size_t i, od::value cv) {
            // One answer per call in the v1 API (no `n`): later choices are
            // skipped unread.
            if (i > 0) return absl::OkStatus();
            has_choice = true;
            return ParseChoice(cv, &choice);
          });
        } else if (key == "usage") {
          r->clear_usage();
          bool is_null;
          if (error_code e = CheckNull(v, &is_null)) {
            return Malformed("usage", e);
          }
          if (!is_null) return json::ParseUsage(v, r->mutable_usage());
        } else if (key == "error") {
          bool is_null = false;
          has_error_object = !CheckNull(v, &is_null) && !is_null;
        }
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  if (!has_choice) {
    // ParseChatResponse adds the kMalformed prefix.
    return absl::UnavailableError(
        absl::StrCat("no choices",
                     has_error_object ? " (the body is an error object)" : ""));
  }

  if (r->has_usage()) json::FillTotalTokens(r->mutable_usage());
  r->set_finish_reason(MapFinishReason(choice.finish_reason));
  v1::Message* m = r->mutable_message();
  m->set_role(v1::ROLE_ASSISTANT);
  // Servers that send both send the same text; the older name wins so the
  // choice does not depend on key order.
  std::string& reasoning = choice.reasoning_content.empty()
                               ? choice.reasoning
                               : choice.reasoning_content;
  if (!reasoning.empty()) {
    m->add_parts()->mutable_reasoning()->set_text(std::move(reasoning));
  }
  AddText(std::move(choice.content), r);
  AddText(std::move(choice.refusal), r);
  for (v1::ToolCall& call : choice.tool_calls) {
    *m->add_parts()->mutable_tool_call() = std::move(call);
  }
  return absl::OkStatus();
}

constexpr absl::string_view kMalformed =
    "upstream returned a malformed chat.completion: ";

}  // namespace

absl::Status ParseChatResponse(const std::string& body,
                               v1::GenerateResponse* out) {
  return providers::ParseResponseBody(
      body, kMalformed,
      [](od::parser& parser, simdjson::padded_string_view json,
         v1::GenerateResponse* r) { return Parse(parser, json, r); },
      out);
}

v1::FinishReason MapFinishReason(absl::string_view reason) {
  if (reason.empty()) return v1::FINISH_REASON_UNSPECIFIED;
  if (reason == "stop") return v1::FINISH_REASON_STOP;
  if (reason == "length") return v1::FINISH_REASON_LENGTH;
  if (reason == "content_filter") return v1::FINISH_REASON_CONTENT_FILTER;
  // function_call: the pre-tools name of the same thing.
  if (reason == "tool_calls" || reason == "function_call") {
    return v1::FINISH_REASON_TOOL_CALLS;
  }
  return v1::FINISH_REASON_OTHER;
}

}  // namespace llmgateway::openai
