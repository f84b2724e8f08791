// streamGenerateContent chunks -> v1 GenerateStreamResponse deltas, one
// simdjson On-Demand pass per chunk (content_fields), the delta built while
// the parser still holds the chunk's views.
#include "server/providers/gemini/generate_content_stream.h"

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "server/providers/common/stream_error.h"
#include "server/providers/gemini/error_body.h"
#include "server/providers/json/json_input.h"
#include "server/providers/json/json_read.h"
#include "server/providers/upstream_error.h"
#include "simdjson.h"

namespace llmgateway::gemini {
namespace {

namespace od = ::simdjson::ondemand;
using ::llmgateway::json::AbslView;
using ::llmgateway::json::ParseEvent;

void Append(std::string_view from, std::string* to) {
  // mutable_*()->append, not set_*(p, n): protobuf 3.21's setter builds a
  // temporary std::string first.
  to->append(from.data(), from.size());
}

// The code an error chunk stands for: its google.rpc status name, else its
// HTTP code, mapped as upstream_error.h's table maps the HTTP status.
absl::StatusCode CodeForError(const ErrorBody& error) {
  if (!error.status.empty()) return CodeForGoogleStatus(error.status);
  switch (error.code) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
    case 403:
      return absl::StatusCode::kInternal;
    case 404:
      return absl::StatusCode::kNotFound;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kUnavailable;
  }
}

absl::Status StreamError(absl::string_view provider, absl::string_view data) {
  ErrorBody body = ParseErrorBody(data);
  const absl::StatusCode code =
      SaysKeyRejected(body) ? absl::StatusCode::kInternal : CodeForError(body);
  // The gateway's own key was refused: its message may quote the key.
  const std::string message =
      code == absl::StatusCode::kInternal
          ? std::string("the gateway's credentials were rejected")
          : BoundUpstreamMessage(
                !body.message.empty()  ? std::move(body.message)
                : !body.status.empty() ? std::move(body.status)
                                       : std::string("no details"));
  return providers::MidStreamError(code, provider, message);
}

bool HasContent(const v1::GenerateStreamResponse& delta) {
  return !delta.text().empty() || delta.reasoning().ByteSizeLong() > 0 ||
         delta.tool_calls_size() > 0;
}

}  // namespace

GenerateContentStreamDecoder::GenerateContentStreamDecoder(std::string provider)
    : envelope_(std::move(provider)) {}

absl::Status GenerateContentStreamDecoder::Apply(
    const ResponseView& view, v1::GenerateStreamResponse* delta) {
  envelope_.Name(view.response_id, view.model_version);
  if (response_id_.empty()) Append(view.response_id, &response_id_);
  if (view.candidates == 0 && !view.block_reason.empty()) {
    return PromptBlocked(envelope_.provider(), AbslView(view.block_reason));
  }
  if (view.has_usage) usage_ = view.usage;
  v1::ReasoningDelta* reasoning = nullptr;
  auto sign = [&](std::string_view signature) {
    if (signature.empty()) return;
    if (reasoning == nullptr) reasoning = delta->mutable_reasoning();
    // One signature per message: a second would run into the first.
    if (reasoning->signature().empty()) {
      Append(signature, reasoning->mutable_signature());
    }
  };
  for (const PartView& p : *view.parts) {
    if (p.thought) {
      if (!p.text.empty()) {
        if (reasoning == nullptr) reasoning = delta->mutable_reasoning();
        Append(p.text, reasoning->mutable_text());
      }
      sign(p.thought_signature);
      continue;
    }
    sign(p.thought_signature);
    if (p.function_call) {
      v1::ToolCallDelta* call = delta->add_tool_calls();
      call->set_index(tool_calls_);
      *call->mutable_id() = ToolCallId(p.call_id, response_id_, tool_calls_);
      ++tool_calls_;
      Append(p.call_name, call->mutable_name());
      Append(p.call_args.empty() ? std::string_view("{}") : p.call_args,
             call->mutable_arguments());
    } else {
      Append(p.text, delta->mutable_text());
    }
  }
  if (EndsCandidate(AbslView(view.finish_reason))) {
    finish_reason_.assign(view.finish_reason.data(), view.finish_reason.size());
    done_ = true;
  }
  return absl::OkStatus();
}

void GenerateContentStreamDecoder::ReadLateUsage(absl::string_view data) {
  // Whatever else such a chunk holds is past the answer; a broken one is
  // ignored like the rest of it.
  ParseEvent(data, &scratch_,
             [&](od::parser& parser,
                 simdjson::padded_string_view json) -> absl::Status {
               ResponseView view;
               view.parts = &parts_;
               absl::Status s = ReadResponse(parser, json, &view);
               if (s.ok() && !view.error && view.has_usage) usage_ = view.usage;
               return absl::OkStatus();
             })
      .IgnoreError();
}

absl::StatusOr<GenerateContentStreamDecoder::Result>
GenerateContentStreamDecoder::Decode(absl::string_view /*event_type*/,
                                     absl::string_view data,
                                     v1::GenerateStreamResponse* delta) {
  // An event with blank data is a keep-alive, not a malformed chunk.
  if (absl::StripAsciiWhitespace(data).empty()) return Result::kNothing;
  if (done_) {
    ReadLateUsage(data);
    return Result::kNothing;
  }

  // Parses and applies the chunk while `parser` (whose buffer the views
  // point into) is alive.
  const absl::Status status = ParseEvent(
      data, &scratch_,
      [&](od::parser& parser,
          simdjson::padded_string_view json) -> absl::Status {
        ResponseView view;
        view.parts = &parts_;
        absl::Status s = ReadResponse(parser, json, &view);
        if (view.error) return StreamError(envelope_.provider(), data);
        if (!s.ok()) {
          return providers::MalformedEvent(envelope_.provider(),
                                           "Gemini stream chunk", s);
        }
        return Apply(view, delta);
      });
  if (!status.ok()) {
    delta->Clear();
    return status;
  }
  if (HasContent(*delta)) {
    envelope_.StampFirst(delta);
    return Result::kDelta;
  }
  delta->Clear();
  return done_ ? Result::kDone : Result::kNothing;
}

void GenerateContentStreamDecoder::Finish(v1::GenerateStreamResponse* last) {
  envelope_.StampLast(last);
  last->set_finish_reason(AnswerFinishReason(finish_reason_, tool_calls_));
  // Always present, zero if the upstream sent none: the contract promises
  // usage on the last message.
  ToV1Usage(usage_, last->mutable_usage());
}

}  // namespace llmgateway::gemini
