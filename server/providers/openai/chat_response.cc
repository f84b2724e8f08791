// chat.completion JSON -> v1 GenerateResponse with simdjson On-Demand: one
// pass per object, switching on each key, so key order does not matter and
// unknown fields cost only a skip.
#include "server/providers/openai/chat_response.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace llmgateway::openai {
namespace {

namespace od = ::simdjson::ondemand;
using ::simdjson::error_code;

// Past this size a body gets a parser of its own, freed afterwards: the
// thread's parser keeps its buffers (several times the body's size) for
// good, and one huge answer should not pin that much memory per thread.
constexpr size_t kMaxReusedParserCapacity = size_t{1} << 20;

const char* ErrorName(error_code e) {
  switch (e) {
    case simdjson::SUCCESS:
      return "SUCCESS";
    case simdjson::CAPACITY:
      return "CAPACITY";
    case simdjson::MEMALLOC:
      return "MEMALLOC";
    case simdjson::TAPE_ERROR:
      return "TAPE_ERROR";
    case simdjson::DEPTH_ERROR:
      return "DEPTH_ERROR";
    case simdjson::STRING_ERROR:
      return "STRING_ERROR";
    case simdjson::T_ATOM_ERROR:
      return "T_ATOM_ERROR";
    case simdjson::F_ATOM_ERROR:
      return "F_ATOM_ERROR";
    case simdjson::N_ATOM_ERROR:
      return "N_ATOM_ERROR";
    case simdjson::NUMBER_ERROR:
      return "NUMBER_ERROR";
    case simdjson::UTF8_ERROR:
      return "UTF8_ERROR";
    case simdjson::UNINITIALIZED:
      return "UNINITIALIZED";
    case simdjson::EMPTY:
      return "EMPTY";
    case simdjson::UNESCAPED_CHARS:
      return "UNESCAPED_CHARS";
    case simdjson::UNCLOSED_STRING:
      return "UNCLOSED_STRING";
    case simdjson::UNSUPPORTED_ARCHITECTURE:
      return "UNSUPPORTED_ARCHITECTURE";
    case simdjson::INCORRECT_TYPE:
      return "INCORRECT_TYPE";
    case simdjson::NUMBER_OUT_OF_RANGE:
      return "NUMBER_OUT_OF_RANGE";
    case simdjson::INDEX_OUT_OF_BOUNDS:
      return "INDEX_OUT_OF_BOUNDS";
    case simdjson::NO_SUCH_FIELD:
      return "NO_SUCH_FIELD";
    case simdjson::IO_ERROR:
      return "IO_ERROR";
    case simdjson::INVALID_JSON_POINTER:
      return "INVALID_JSON_POINTER";
    case simdjson::INVALID_URI_FRAGMENT:
      return "INVALID_URI_FRAGMENT";
    case simdjson::UNEXPECTED_ERROR:
      return "UNEXPECTED_ERROR";
    case simdjson::PARSER_IN_USE:
      return "PARSER_IN_USE";
    case simdjson::OUT_OF_ORDER_ITERATION:
      return "OUT_OF_ORDER_ITERATION";
    case simdjson::INSUFFICIENT_PADDING:
      return "INSUFFICIENT_PADDING";
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      return "INCOMPLETE_ARRAY_OR_OBJECT";
    case simdjson::SCALAR_DOCUMENT_AS_VALUE:
      return "SCALAR_DOCUMENT_AS_VALUE";
    case simdjson::OUT_OF_BOUNDS:
      return "OUT_OF_BOUNDS";
    case simdjson::TRAILING_CONTENT:
      return "TRAILING_CONTENT";
    default:
      return "UNKNOWN_ERROR";
  }
}

constexpr absl::string_view kMalformed =
    "upstream returned a malformed chat.completion: ";

// UNAVAILABLE: to the caller a broken answer is a failed upstream call (the
// routing layer may retry or fall back). Never quotes the body: it may hold
// the end user's data.
absl::Status Malformed(absl::string_view what, error_code e) {
  return absl::UnavailableError(
      absl::StrCat(kMalformed, what, " (simdjson: ", ErrorName(e), ")"));
}

// Each Read* takes a value that may be JSON null (servers send null for
// "absent" freely): null leaves *out as it was. Any other type than the one
// asked for is INCORRECT_TYPE.
error_code CheckNull(od::value& v, bool* is_null) {
  od::json_type t;
  if (error_code e = v.type().get(t)) return e;
  *is_null = false;
  if (t != od::json_type::null) return simdjson::SUCCESS;
  // type() looks at the first byte only; is_null() checks the whole atom.
  if (error_code e = v.is_null().get(*is_null)) return e;
  return *is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
}

error_code ReadString(od::value v, std::string* out) {
  bool is_null;
  if (error_code e = CheckNull(v, &is_null); e || is_null) return e;
  std::string_view s;
  if (error_code e = v.get_string().get(s)) return e;
  out->assign(s.data(), s.size());
  return simdjson::SUCCESS;
}

error_code ReadInt(od::value v, int64_t* out) {
  bool is_null;
  if (error_code e = CheckNull(v, &is_null); e || is_null) return e;
  return v.get_int64().get(*out);
}

// Yields the object, or none for JSON null.
error_code ReadObject(od::value v, std::optional<od::object>* out) {
  bool is_null;
  if (error_code e = CheckNull(v, &is_null); e || is_null) return e;
  od::object obj;
  if (error_code e = v.get_object().get(obj)) return e;
  out->emplace(std::move(obj));
  return simdjson::SUCCESS;
}

error_code ReadArray(od::value v, std::optional<od::array>* out) {
  bool is_null;
  if (error_code e = CheckNull(v, &is_null); e || is_null) return e;
  od::array arr;
  if (error_code e = v.get_array().get(arr)) return e;
  out->emplace(std::move(arr));
  return simdjson::SUCCESS;
}

// Runs `on_field(key, value)` for each member of `v` (an object or null).
// Errors of the iteration itself are reported at `path`; on_field returns an
// absl::Status naming its own path.
template <typename OnField>
absl::Status ForEachField(od::value v, absl::string_view path,
                          OnField&& on_field) {
  std::optional<od::object> obj;
  if (error_code e = ReadObject(v, &obj)) {
    return Malformed(absl::StrCat(path, ": expected an object"), e);
  }
  if (!obj) return absl::OkStatus();
  for (auto field : *obj) {
    std::string_view key;
    if (error_code e = field.unescaped_key().get(key)) {
      return Malformed(path, e);
    }
    od::value fv;
    if (error_code e = field.value().get(fv)) return Malformed(path, e);
    if (absl::Status s = on_field(key, fv); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Runs `on_element(index, value)` for each element of `v` (an array or null).
template <typename OnElement>
absl::Status ForEachElement(od::value v, absl::string_view path,
                            OnElement&& on_element) {
  std::optional<od::array> arr;
  if (error_code e = ReadArray(v, &arr)) {
    return Malformed(absl::StrCat(path, ": expected an array"), e);
  }
  if (!arr) return absl::OkStatus();
  size_t i = 0;
  for (auto element : *arr) {
    od::value ev;
    if (error_code e = std::move(element).get(ev)) return Malformed(path, e);
    if (absl::Status s = on_element(i, ev); !s.ok()) return s;
    ++i;
  }
  return absl::OkStatus();
}

absl::Status FieldError(absl::string_view path, std::string_view key,
                        error_code e) {
  // Debian's absl::string_view is its own class, not std::string_view.
  return Malformed(
      absl::StrCat(path, ".", absl::string_view(key.data(), key.size())), e);
}

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

absl::Status ParseUsage(od::value v, v1::Usage* u) {
  return ForEachField(v, "usage", [&](std::string_view key, od::value fv) {
    error_code e = simdjson::SUCCESS;
    int64_t n = 0;
    if (key == "prompt_tokens") {
      if (!(e = ReadInt(fv, &n))) u->set_prompt_tokens(n);
    } else if (key == "completion_tokens") {
      if (!(e = ReadInt(fv, &n))) u->set_completion_tokens(n);
    } else if (key == "total_tokens") {
      if (!(e = ReadInt(fv, &n))) u->set_total_tokens(n);
    } else if (key == "prompt_tokens_details") {
      return ForEachField(fv, "usage.prompt_tokens_details",
                          [&](std::string_view dkey, od::value dv) {
                            int64_t d = 0;
                            if (dkey != "cached_tokens")
                              return absl::OkStatus();
                            if (error_code de = ReadInt(dv, &d)) {
                              return FieldError("usage.prompt_tokens_details",
                                                dkey, de);
                            }
                            u->set_cached_prompt_tokens(d);
                            return absl::OkStatus();
                          });
    } else if (key == "completion_tokens_details") {
      return ForEachField(fv, "usage.completion_tokens_details",
                          [&](std::string_view dkey, od::value dv) {
                            int64_t d = 0;
                            if (dkey != "reasoning_tokens")
                              return absl::OkStatus();
                            if (error_code de = ReadInt(dv, &d)) {
                              return FieldError(
                                  "usage.completion_tokens_details", dkey, de);
                            }
                            u->set_reasoning_tokens(d);
                            return absl::OkStatus();
                          });
    }
    return e ? FieldError("usage", key, e) : absl::OkStatus();
  });
}

void AddText(std::string&& text, v1::GenerateResponse* r) {
  if (text.empty()) return;
  absl::StrAppend(r->mutable_text(), text);
  r->mutable_message()->add_parts()->set_text(std::move(text));
}

absl::Status ParseDocument(od::document& doc, v1::GenerateResponse* r) {
  od::object root;
  if (error_code e = doc.get_object().get(root)) {
    return Malformed("expected a JSON object", e);
  }
  Choice choice;
  bool has_choice = false;
  bool has_error_object = false;
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
      s = ForEachElement(v, "choices", [&](size_t i, od::value cv) {
        // One answer per call in the v1 API (no `n`): later choices are
        // skipped unread.
        if (i > 0) return absl::OkStatus();
        has_choice = true;
        return ParseChoice(cv, &choice);
      });
    } else if (key == "usage") {
      r->clear_usage();
      bool is_null;
      if (error_code e = CheckNull(v, &is_null)) return Malformed("usage", e);
      if (!is_null) s = ParseUsage(v, r->mutable_usage());
    } else if (key == "error") {
      bool is_null = false;
      has_error_object = !CheckNull(v, &is_null) && !is_null;
    }
    if (!s.ok()) return s;
  }
  // Closing the root object does not end the document: `{...} garbage` (two
  // bodies run together, a proxy's appendix) is not a chat.completion.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return Malformed("trailing content after the JSON object",
                     simdjson::TRAILING_CONTENT);
  }
  if (!has_choice) {
    return absl::UnavailableError(
        absl::StrCat(kMalformed, "no choices",
                     has_error_object ? " (the body is an error object)" : ""));
  }

  // Some servers leave total_tokens out (or null); the v1 API promises it.
  int64_t total = 0;
  if (r->has_usage() && r->usage().total_tokens() == 0 &&
      !__builtin_add_overflow(r->usage().prompt_tokens(),
                              r->usage().completion_tokens(), &total)) {
    r->mutable_usage()->set_total_tokens(total);
  }
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

absl::Status Parse(od::parser& parser, simdjson::padded_string_view json,
                   v1::GenerateResponse* r) {
  od::document doc;
  if (error_code e = parser.iterate(json).get(doc)) {
    return Malformed("not JSON", e);
  }
  return ParseDocument(doc, r);
}

}  // namespace

absl::Status ParseChatResponse(const std::string& body,
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
  if (!s.ok()) return s;

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
