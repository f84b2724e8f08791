// chat.completion.chunk events -> v1 GenerateStreamResponse deltas, with one
// simdjson On-Demand pass per event (any key order, unknown fields skipped).
#include "server/providers/openai/chat_stream.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/providers/common/stream_error.h"
#include "server/providers/upstream_error.h"
#include "server/providers/json/json_input.h"
#include "server/providers/json/json_read.h"
#include "server/providers/openai/chat_response.h"
#include "server/providers/openai/error_body.h"
#include "server/providers/openai/json_fields.h"
#include "simdjson.h"

namespace llmgateway::openai {
namespace {

namespace od = ::simdjson::ondemand;
using ::llmgateway::json::AbslView;
using ::llmgateway::json::CheckNull;
using ::llmgateway::json::FieldError;
using ::llmgateway::json::ForEachElement;
using ::llmgateway::json::ForEachField;
using ::llmgateway::json::ForEachRootField;
using ::llmgateway::json::Malformed;
using ::llmgateway::json::ParseEvent;
using ::llmgateway::json::ReadInt;
using ::llmgateway::json::ReadString;
using ::simdjson::error_code;

// Error paths are constants: building "choices[3]" for each event would
// allocate on the hot path. The position is rarely what matters.
constexpr absl::string_view kChoicePath = "choices[]";
constexpr absl::string_view kDeltaPath = "choices[].delta";
constexpr absl::string_view kToolCallsPath = "choices[].delta.tool_calls";
constexpr absl::string_view kToolCallPath = "choices[].delta.tool_calls[]";
constexpr absl::string_view kFunctionPath =
    "choices[].delta.tool_calls[].function";

// Appends one tool_calls element to `delta`, unless it carries nothing (no
// id, name or arguments: some servers send such fragments).
absl::Status ParseToolCall(od::value v, size_t position,
                           v1::GenerateStreamResponse* delta) {
  // Servers that leave `index` out (some OpenAI-compatible ones do) send
  // each call whole, so its place in the array is the best index there is.
  int64_t index = static_cast<int64_t>(position);
  std::string_view id, name, arguments;
  absl::Status s =
      ForEachField(v, kToolCallPath, [&](std::string_view key, od::value fv) {
        error_code e = simdjson::SUCCESS;
        if (key == "index") {
          e = ReadInt(fv, &index);
        } else if (key == "id") {
          e = ReadString(fv, &id);
        } else if (key == "function") {
          return ForEachField(
              fv, kFunctionPath, [&](std::string_view fkey, od::value f) {
                error_code fe = simdjson::SUCCESS;
                if (fkey == "name") {
                  fe = ReadString(f, &name);
                } else if (fkey == "arguments") {
                  fe = ReadString(f, &arguments);
                }
                return fe ? FieldError(kFunctionPath, fkey, fe)
                          : absl::OkStatus();
              });
        }
        return e ? FieldError(kToolCallPath, key, e) : absl::OkStatus();
      });
  if (!s.ok()) return s;
  if (index < 0 || index > std::numeric_limits<int32_t>::max()) {
    return Malformed(absl::StrCat(kToolCallPath, ".index"),
                     simdjson::NUMBER_OUT_OF_RANGE);
  }
  if (id.empty() && name.empty() && arguments.empty()) return absl::OkStatus();
  v1::ToolCallDelta* call = delta->add_tool_calls();
  call->set_index(static_cast<int32_t>(index));
  // id and name come in a call's first fragment only; the rest leave them
  // empty, as the v1 contract says. mutable_*()->assign, not set_*(p, n):
  // protobuf 3.21's setter builds a temporary std::string first.
  if (!id.empty()) call->mutable_id()->assign(id.data(), id.size());
  if (!name.empty()) call->mutable_name()->assign(name.data(), name.size());
  if (!arguments.empty()) {
    call->mutable_arguments()->assign(arguments.data(), arguments.size());
  }
  return absl::OkStatus();
}

// One element of `choices`, read in any key order. Its strings point into
// the parser's buffer; they are applied once the whole choice is read, since
// only then is its index known.
struct Choice {
  int64_t index = 0;
  std::string_view content;
  std::string_view refusal;
  std::string_view reasoning_content;  // DeepSeek, older vLLM
  std::string_view reasoning;          // OpenRouter, Ollama, newer vLLM
  std::string_view finish_reason;
};

// Reads `delta`: strings into *c, tool-call fragments straight into *out
// (the caller drops them again if the choice is not index 0).
absl::Status ParseDelta(od::value v, Choice* c, int tools_mark,
                        v1::GenerateStreamResponse* out) {
  return ForEachField(v, kDeltaPath, [&](std::string_view key, od::value fv) {
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
      // A repeated key replaces, as for the strings (last wins).
      out->mutable_tool_calls()->DeleteSubrange(
          tools_mark, out->tool_calls_size() - tools_mark);
      return ForEachElement(fv, kToolCallsPath, [&](size_t i, od::value tv) {
        return ParseToolCall(tv, i, out);
      });
    }
    return e ? FieldError(kDeltaPath, key, e) : absl::OkStatus();
  });
}

// Reads one choice and, if it is index 0, adds its delta to *out and its
// finish_reason to *finish_reason. Other indexes (a request sent with n > 1
// through provider_options) are not part of the v1 answer: dropped.
absl::Status ParseChoice(od::value v, size_t position,
                         v1::GenerateStreamResponse* out,
                         std::string_view* finish_reason) {
  Choice c;
  c.index = static_cast<int64_t>(position);
  const int tools_mark = out->tool_calls_size();
  absl::Status s =
      ForEachField(v, kChoicePath, [&](std::string_view key, od::value fv) {
        if (key == "delta") {
          // A repeated key replaces (last wins): the first one's fragments go.
          c.content = c.refusal = c.reasoning_content = c.reasoning = {};
          out->mutable_tool_calls()->DeleteSubrange(
              tools_mark, out->tool_calls_size() - tools_mark);
          return ParseDelta(fv, &c, tools_mark, out);
        }
        error_code e = simdjson::SUCCESS;
        if (key == "index") {
          e = ReadInt(fv, &c.index);
        } else if (key == "finish_reason") {
          e = ReadString(fv, &c.finish_reason);
        }
        return e ? FieldError(kChoicePath, key, e) : absl::OkStatus();
      });
  if (!s.ok()) return s;
  if (c.index != 0) {
    out->mutable_tool_calls()->DeleteSubrange(
        tools_mark, out->tool_calls_size() - tools_mark);
    return absl::OkStatus();
  }
  // Each mutable_*() only for something to add: on a fresh message it
  // allocates the field (and an empty submessage would still be sent).
  if (!c.content.empty()) {
    out->mutable_text()->append(c.content.data(), c.content.size());
  }
  // A refusal is what the model says instead of an answer: the caller shows
  // it as text (the unary path joins it into `text` likewise).
  if (!c.refusal.empty()) {
    out->mutable_text()->append(c.refusal.data(), c.refusal.size());
  }
  // Servers that send both send the same text; reasoning_content wins so the
  // choice does not depend on key order (as in ParseChatResponse).
  const std::string_view reasoning =
      c.reasoning_content.empty() ? c.reasoning : c.reasoning_content;
  if (!reasoning.empty()) {
    out->mutable_reasoning()->mutable_text()->append(reasoning.data(),
                                                     reasoning.size());
  }
  if (!c.finish_reason.empty()) *finish_reason = c.finish_reason;
  return absl::OkStatus();
}

// What the top level of a chunk said besides its choices. The views point
// into the parser's buffer: copy them before its next document.
struct Chunk {
  std::string_view id;
  std::string_view model;
  std::string_view finish_reason;
  // An error payload instead of a chunk: {"error": ...}, or vLLM's older
  // top-level {"object": "error", "message": ...}.
  bool is_error = false;
};

absl::Status ParseChunk(od::parser& parser, simdjson::padded_string_view json,
                        Chunk* chunk, v1::Usage* usage,
                        v1::GenerateStreamResponse* out) {
  return ForEachRootField(
      parser, json,
      [&](std::string_view key, od::value v) -> absl::Status {
        error_code e = simdjson::SUCCESS;
        if (key == "id") {
          e = ReadString(v, &chunk->id);
        } else if (key == "model") {
          e = ReadString(v, &chunk->model);
        } else if (key == "choices") {
          // A repeated key replaces (last wins), as everywhere in a chunk.
          out->clear_text();
          out->clear_reasoning();
          out->clear_tool_calls();
          chunk->finish_reason = {};
          return ForEachElement(v, "choices", [&](size_t i, od::value cv) {
            return ParseChoice(cv, i, out, &chunk->finish_reason);
          });
        } else if (key == "usage") {
          bool is_null;
          if ((e = CheckNull(v, &is_null))) return Malformed("usage", e);
          if (!is_null) {
            // The latest usage replaces any earlier one (vLLM's
            // continuous_usage_stats sends running totals in every chunk).
            usage->Clear();
            return json::ParseUsage(v, usage);
          }
        } else if (key == "error") {
          bool is_null = false;
          if ((e = CheckNull(v, &is_null))) return Malformed("error", e);
          // The rest of the document does not matter (is_error ends the
          // walk): the caller reads the error with ParseErrorBody, which
          // tolerates any shape.
          if (!is_null) chunk->is_error = true;
        } else if (key == "object") {
          // Only "error" matters; any other value (or type) is ignored.
          std::string_view object;
          if (!ReadString(v, &object) && object == "error") {
            chunk->is_error = true;
          }
        }
        // Only the keys above set `e`: naming the key quotes nothing unknown.
        if (e) return Malformed(AbslView(key), e);
        return absl::OkStatus();
      },
      &chunk->is_error);
}

// The message of an error payload, bounded.
std::string UpstreamMessage(absl::string_view data) {
  ErrorBody body = ParseErrorBody(data);
  return BoundUpstreamMessage(
      !body.message.empty() ? std::move(body.message)
      : !body.code.empty()  ? std::move(body.code)
      : !body.type.empty()  ? std::move(body.type)
                            : std::string("no details"));
}

}  // namespace

ChatStreamDecoder::ChatStreamDecoder(std::string provider)
    : envelope_(std::move(provider)) {}

absl::StatusOr<ChatStreamDecoder::Result> ChatStreamDecoder::Decode(
    absl::string_view data, v1::GenerateStreamResponse* delta) {
  // [DONE] completed the answer; whatever an upstream sends after it is not
  // part of it (the caller stops feeding at kDone anyway).
  if (done_) return Result::kNothing;
  const absl::string_view trimmed = absl::StripAsciiWhitespace(data);
  // An event with blank data is a keep-alive, not a malformed chunk.
  if (trimmed.empty()) return Result::kNothing;
  if (trimmed == "[DONE]") {
    done_ = true;
    return Result::kDone;
  }

  // Parses and copies out everything it needs while `parser` (whose buffer
  // the Chunk's views point into) is alive.
  const absl::Status status = ParseEvent(
      data, &scratch_,
      [&](od::parser& parser,
          simdjson::padded_string_view json) -> absl::Status {
        Chunk chunk;
        if (absl::Status s = ParseChunk(parser, json, &chunk, &usage_, delta);
            !s.ok() || chunk.is_error) {
          delta->Clear();
          if (!s.ok()) {
            return providers::MalformedEvent(envelope_.provider(),
                                             "chat.completion.chunk", s);
          }
          return providers::MidStreamError(absl::StatusCode::kUnavailable,
                                           envelope_.provider(),
                                           UpstreamMessage(data));
        }
        envelope_.Name(chunk.id, chunk.model);
        if (!chunk.finish_reason.empty()) {
          finish_reason_ = MapFinishReason(AbslView(chunk.finish_reason));
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;

  if (delta->text().empty() && delta->reasoning().text().empty() &&
      delta->tool_calls_size() == 0) {
    return Result::kNothing;
  }
  envelope_.StampFirst(delta);
  return Result::kDelta;
}

void ChatStreamDecoder::Finish(v1::GenerateStreamResponse* last) {
  envelope_.StampLast(last);
  last->set_finish_reason(finish_reason_);
  // Always present, zero if the upstream sent none: the contract promises
  // usage on the last message.
  v1::Usage* usage = last->mutable_usage();
  *usage = usage_;
  json::FillTotalTokens(usage);
}

}  // namespace llmgateway::openai
