// Messages API stream events -> v1 GenerateStreamResponse deltas, with one
// simdjson On-Demand pass per event: every field any event type uses is read
// in whatever order it comes, then the event's `type` decides what counts.
#include "server/providers/anthropic/messages_stream.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/providers/anthropic/error_body.h"
#include "server/providers/anthropic/json_response_tool.h"
#include "server/providers/common/stream_error.h"
#include "server/providers/upstream_error.h"
#include "server/providers/json/json_input.h"
#include "server/providers/json/json_read.h"
#include "simdjson.h"

namespace llmgateway::anthropic {
namespace {

namespace od = ::simdjson::ondemand;
using ::llmgateway::json::AbslView;
using ::llmgateway::json::CheckNull;
using ::llmgateway::json::FieldError;
using ::llmgateway::json::ForEachField;
using ::llmgateway::json::ForEachRootField;
using ::llmgateway::json::Malformed;
using ::llmgateway::json::ParseEvent;
using ::llmgateway::json::ReadInt;
using ::llmgateway::json::ReadRawObject;
using ::llmgateway::json::ReadString;
using ::simdjson::error_code;

void Append(std::string_view from, std::string* to) {
  // mutable_*()->append, not set_*(p, n): protobuf 3.21's setter builds a
  // temporary std::string first.
  to->append(from.data(), from.size());
}

// The status an error event's type stands for: the code its HTTP
// counterpart gets in upstream_error.h's table. Unknown types are a broken
// stream, UNAVAILABLE.
absl::StatusCode CodeForErrorType(absl::string_view type) {
  if (type == "invalid_request_error" || type == "request_too_large") {
    return absl::StatusCode::kInvalidArgument;
  }
  if (type == "authentication_error" || type == "permission_error") {
    return absl::StatusCode::kInternal;
  }
  if (type == "not_found_error") return absl::StatusCode::kNotFound;
  if (type == "rate_limit_error") return absl::StatusCode::kResourceExhausted;
  return absl::StatusCode::kUnavailable;
}

absl::Status StreamError(absl::string_view provider, absl::string_view data) {
  ErrorBody body = ParseErrorBody(data);
  const absl::StatusCode code = CodeForErrorType(body.type);
  // The gateway's own key was refused: its message may quote the key.
  const std::string message =
      code == absl::StatusCode::kInternal
          ? std::string("the gateway's credentials were rejected")
          : BoundUpstreamMessage(
                !body.message.empty() ? std::move(body.message)
                : !body.type.empty()  ? std::move(body.type)
                                      : std::string("no details"));
  return providers::MidStreamError(code, provider, message);
}

}  // namespace

// Every field any event type carries; the views point into the parser's
// buffer (strings) or the event's copy (raw input): valid until the next
// event.
struct MessagesStreamDecoder::Event {
  std::string_view type;
  std::optional<int64_t> index;
  // message_start's `message`.
  std::string_view message_id;
  std::string_view message_model;
  // content_block_start's `content_block`.
  std::string_view block_type;
  std::string_view block_text;
  std::string_view block_thinking;
  std::string_view block_signature;
  std::string_view block_data;
  std::string_view block_id;
  std::string_view block_name;
  std::string_view block_input;
  // content_block_delta's and message_delta's `delta`.
  std::string_view delta_type;
  std::string_view delta_text;
  std::string_view delta_partial_json;
  std::string_view delta_thinking;
  std::string_view delta_signature;
  std::string_view stop_reason;
  // message_start's message.usage and message_delta's usage, over what the
  // decoder had: a count not sent keeps its value.
  TokenUsage usage;
  bool has_usage = false;
};

namespace {

using Event = MessagesStreamDecoder::Event;

absl::Status ReadMessage(od::value v, Event* ev) {
  constexpr absl::string_view kPath = "message";
  return ForEachField(v, kPath, [&](std::string_view key, od::value fv) {
    error_code e = simdjson::SUCCESS;
    if (key == "id") {
      e = ReadString(fv, &ev->message_id);
    } else if (key == "model") {
      e = ReadString(fv, &ev->message_model);
    } else if (key == "usage") {
      ev->has_usage = true;
      return ParseUsage(fv, "message.usage", &ev->usage);
    }
    return e ? FieldError(kPath, key, e) : absl::OkStatus();
  });
}

absl::Status ReadContentBlock(od::value v, Event* ev) {
  constexpr absl::string_view kPath = "content_block";
  return ForEachField(v, kPath, [&](std::string_view key, od::value fv) {
    error_code e = simdjson::SUCCESS;
    if (key == "type") {
      e = ReadString(fv, &ev->block_type);
    } else if (key == "text") {
      e = ReadString(fv, &ev->block_text);
    } else if (key == "thinking") {
      e = ReadString(fv, &ev->block_thinking);
    } else if (key == "signature") {
      e = ReadString(fv, &ev->block_signature);
    } else if (key == "data") {
      e = ReadString(fv, &ev->block_data);
    } else if (key == "id") {
      e = ReadString(fv, &ev->block_id);
    } else if (key == "name") {
      e = ReadString(fv, &ev->block_name);
    } else if (key == "input") {
      e = ReadRawObject(fv, &ev->block_input);
    }
    return e ? FieldError(kPath, key, e) : absl::OkStatus();
  });
}

absl::Status ReadDelta(od::value v, Event* ev) {
  constexpr absl::string_view kPath = "delta";
  return ForEachField(v, kPath, [&](std::string_view key, od::value fv) {
    error_code e = simdjson::SUCCESS;
    if (key == "type") {
      e = ReadString(fv, &ev->delta_type);
    } else if (key == "text") {
      e = ReadString(fv, &ev->delta_text);
    } else if (key == "partial_json") {
      e = ReadString(fv, &ev->delta_partial_json);
    } else if (key == "thinking") {
      e = ReadString(fv, &ev->delta_thinking);
    } else if (key == "signature") {
      e = ReadString(fv, &ev->delta_signature);
    } else if (key == "stop_reason") {
      e = ReadString(fv, &ev->stop_reason);
    }
    return e ? FieldError(kPath, key, e) : absl::OkStatus();
  });
}

absl::Status ReadEvent(od::parser& parser, simdjson::padded_string_view json,
                       Event* ev) {
  return ForEachRootField(
      parser, json, [&](std::string_view key, od::value v) -> absl::Status {
        absl::Status s;
        error_code e = simdjson::SUCCESS;
        if (key == "type") {
          e = ReadString(v, &ev->type);
        } else if (key == "index") {
          int64_t index = 0;
          bool is_null = false;
          if (!(e = CheckNull(v, &is_null)) && !is_null &&
              !(e = ReadInt(v, &index))) {
            ev->index = index;
          }
        } else if (key == "message") {
          s = ReadMessage(v, ev);
        } else if (key == "content_block") {
          s = ReadContentBlock(v, ev);
        } else if (key == "delta") {
          s = ReadDelta(v, ev);
        } else if (key == "usage") {
          ev->has_usage = true;
          s = ParseUsage(v, "usage", &ev->usage);
        }
        // Only the keys above set `e`: naming the key quotes nothing unknown.
        if (e) return Malformed(AbslView(key), e);
        return s;
      });
}

// A tool_use block's input at its start: Anthropic sends {} and the real
// input in input_json_delta events; anything else is the input itself.
bool HasInput(std::string_view input) {
  if (input.empty()) return false;
  const absl::string_view inner = absl::StripAsciiWhitespace(
      AbslView(input).substr(1, input.size() > 1 ? input.size() - 2 : 0));
  return !inner.empty();
}

}  // namespace

MessagesStreamDecoder::MessagesStreamDecoder(std::string provider)
    : envelope_(std::move(provider)) {}

absl::Status MessagesStreamDecoder::StartBlock(
    const Event& ev, v1::GenerateStreamResponse* delta) {
  Block block;
  if (ev.block_type == "text") {
    block.kind = BlockKind::kText;
    Append(ev.block_text, delta->mutable_text());
  } else if (ev.block_type == "thinking") {
    block.kind = BlockKind::kThinking;
    if (!ev.block_thinking.empty()) {
      Append(ev.block_thinking, delta->mutable_reasoning()->mutable_text());
    }
    if (!ev.block_signature.empty()) {
      Append(ev.block_signature,
             delta->mutable_reasoning()->mutable_signature());
    }
  } else if (ev.block_type == "redacted_thinking") {
    block.kind = BlockKind::kRedactedThinking;
    if (!ev.block_data.empty()) {
      Append(ev.block_data, delta->mutable_reasoning()->mutable_redacted_data());
    }
  } else if (ev.block_type == "tool_use") {
    // A call without a name is no call the caller could make sense of.
    if (ev.block_name.empty()) {
      return Malformed("content_block.name: missing in a tool_use block",
                       simdjson::NO_SUCH_FIELD);
    }
    if (ev.block_name == kJsonResponseToolName) {
      block.kind = BlockKind::kJsonAnswer;
      json_answer_ = true;
      if (HasInput(ev.block_input)) Append(ev.block_input, delta->mutable_text());
    } else {
      block.kind = BlockKind::kToolUse;
      block.tool_index = tool_calls_++;
      // The call's first fragment: the only one with its id and name.
      v1::ToolCallDelta* call = delta->add_tool_calls();
      call->set_index(block.tool_index);
      Append(ev.block_id, call->mutable_id());
      Append(ev.block_name, call->mutable_name());
      if (HasInput(ev.block_input)) {
        Append(ev.block_input, call->mutable_arguments());
      }
    }
  }
  // A repeated start for the same index replaces the block (last wins).
  blocks_[*ev.index] = block;
  return absl::OkStatus();
}

absl::Status MessagesStreamDecoder::ApplyBlockDelta(
    const Event& ev, v1::GenerateStreamResponse* delta) {
  if (ev.delta_type == "text_delta") {
    Append(ev.delta_text, delta->mutable_text());
  } else if (ev.delta_type == "thinking_delta") {
    if (!ev.delta_thinking.empty()) {
      Append(ev.delta_thinking, delta->mutable_reasoning()->mutable_text());
    }
  } else if (ev.delta_type == "signature_delta") {
    if (!ev.delta_signature.empty()) {
      Append(ev.delta_signature,
             delta->mutable_reasoning()->mutable_signature());
    }
  } else if (ev.delta_type == "input_json_delta") {
    // Which call the fragment belongs to is known only from its block's
    // start.
    auto it = blocks_.find(*ev.index);
    if (it == blocks_.end()) {
      return Malformed("input_json_delta for a block that never started",
                       simdjson::NO_SUCH_FIELD);
    }
    // The first fragment is often empty: nothing to send.
    if (ev.delta_partial_json.empty()) return absl::OkStatus();
    const Block& block = it->second;
    if (block.kind == BlockKind::kJsonAnswer) {
      Append(ev.delta_partial_json, delta->mutable_text());
    } else if (block.kind == BlockKind::kToolUse) {
      v1::ToolCallDelta* call = delta->add_tool_calls();
      call->set_index(block.tool_index);
      Append(ev.delta_partial_json, call->mutable_arguments());
    }
    // Other blocks' input (server tools) is not part of the v1 answer.
  }
  // Other delta types (citations_delta, newer kinds) carry nothing v1 has.
  return absl::OkStatus();
}

absl::Status MessagesStreamDecoder::Apply(const Event& ev,
                                          v1::GenerateStreamResponse* delta) {
  if (ev.type == "message_start") {
    envelope_.Name(ev.message_id, ev.message_model);
    if (ev.has_usage) usage_ = ev.usage;
    return absl::OkStatus();
  }
  if (ev.type == "content_block_start" || ev.type == "content_block_delta") {
    if (!ev.index.has_value()) {
      return Malformed("index: missing", simdjson::NO_SUCH_FIELD);
    }
    return ev.type == "content_block_start" ? StartBlock(ev, delta)
                                            : ApplyBlockDelta(ev, delta);
  }
  if (ev.type == "message_delta") {
    if (!ev.stop_reason.empty()) {
      stop_reason_.assign(ev.stop_reason.data(), ev.stop_reason.size());
    }
    if (ev.has_usage) usage_ = ev.usage;
    return absl::OkStatus();
  }
  if (ev.type == "message_stop") done_ = true;
  // content_block_stop, ping, and event types newer than this code: nothing
  // to send.
  return absl::OkStatus();
}

absl::StatusOr<MessagesStreamDecoder::Result> MessagesStreamDecoder::Decode(
    absl::string_view event_type, absl::string_view data,
    v1::GenerateStreamResponse* delta) {
  // message_stop completed the answer; whatever an upstream sends after it
  // is not part of it (the caller stops feeding at kDone anyway).
  if (done_) return Result::kNothing;
  // An event with blank data is a keep-alive, not a malformed event.
  if (absl::StripAsciiWhitespace(data).empty()) {
    if (event_type == "error") return StreamError(envelope_.provider(), data);
    return Result::kNothing;
  }

  // Parses and applies the event while `parser` (whose buffer the Event's
  // views point into) is alive.
  const absl::Status status = ParseEvent(
      data, &scratch_,
      [&](od::parser& parser,
          simdjson::padded_string_view json) -> absl::Status {
        Event ev;
        ev.usage = usage_;
        absl::Status s = ReadEvent(parser, json, &ev);
        // The JSON's own type is the event's kind; the SSE name stands in
        // for a missing one (some proxies strip fields, never the framing).
        if (s.ok() && ev.type.empty()) {
          ev.type = std::string_view(event_type.data(), event_type.size());
        }
        if (ev.type == "error" || (!s.ok() && event_type == "error")) {
          return StreamError(envelope_.provider(), data);
        }
        if (s.ok()) s = Apply(ev, delta);
        if (!s.ok()) {
          return providers::MalformedEvent(envelope_.provider(),
                                           "Anthropic stream event", s);
        }
        return absl::OkStatus();
      });
  if (!status.ok()) {
    delta->Clear();
    return status;
  }
  if (done_) return Result::kDone;

  const v1::ReasoningDelta& reasoning = delta->reasoning();
  if (delta->text().empty() && reasoning.ByteSizeLong() == 0 &&
      delta->tool_calls_size() == 0) {
    delta->Clear();
    return Result::kNothing;
  }
  envelope_.StampFirst(delta);
  return Result::kDelta;
}

void MessagesStreamDecoder::Finish(v1::GenerateStreamResponse* last) {
  envelope_.StampLast(last);
  last->set_finish_reason(AnswerFinishReason(stop_reason_, tool_calls_,
                                             json_answer_));
  // Always present, zero if the upstream sent none: the contract promises
  // usage on the last message.
  ToV1Usage(usage_, last->mutable_usage());
}

}  // namespace llmgateway::anthropic
