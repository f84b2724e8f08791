// Decodes an Anthropic Messages API event stream (message_start,
// content_block_start/delta/stop, message_delta, message_stop, ping, error)
// into v1 GenerateStreamResponse deltas. Pure: no I/O, one decoder per
// attempt, fed one SSE event at a time.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_MESSAGES_STREAM_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_MESSAGES_STREAM_H_

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/adapter.h"
#include "server/providers/anthropic/message_fields.h"
#include "server/providers/common/stream_envelope.h"

namespace llmgateway::anthropic {

class MessagesStreamDecoder final : public StreamDecoder {
 public:
  using Result = StreamDecoder::Result;

  // `provider` is the config name put on the first and last messages.
  explicit MessagesStreamDecoder(std::string provider);

  // The event's kind is the JSON `type` of `data` (`event_type`, the SSE
  // `event:` name, is used only when the JSON has none, or is broken in an
  // `error` event). Deltas: text_delta -> text; thinking_delta ->
  // reasoning.text; signature_delta -> reasoning.signature; a
  // redacted_thinking block -> reasoning.redacted_data; a tool_use block's
  // start -> tool_calls[{index, id, name}], its input_json_delta ->
  // tool_calls[{index, arguments}] (index: the call's ordinal among the
  // answer's tool calls, not Anthropic's block index). The JSON response
  // tool's input (json_response_tool.h) is text instead. message_start,
  // content_block_stop, message_delta (held for Finish), ping, blank data,
  // unknown event types and anything after message_stop are kNothing;
  // message_stop is kDone. An `error` event is a non-OK status (reason
  // UPSTREAM_STREAM_ERROR, code from the error's type: overloaded_error and
  // api_error UNAVAILABLE, rate_limit_error RESOURCE_EXHAUSTED, ...; the
  // upstream's message kept, bounded to 1 KiB); data that is not an event
  // is UNAVAILABLE UPSTREAM_BAD_RESPONSE, never quoting the data.
  absl::StatusOr<Result> Decode(
      absl::string_view event_type, absl::string_view data,
      llmgateway::v1::GenerateStreamResponse* delta) override;

  // The last message: id, model, provider, finish_reason and usage (both
  // always set: FINISH_REASON_UNSPECIFIED / zero usage if the upstream sent
  // none).
  void Finish(llmgateway::v1::GenerateStreamResponse* last) override;

  bool done() const override { return done_; }

  // One event's fields, as read (defined in the .cc).
  struct Event;

 private:

  // What a content block (by Anthropic's index) turned out to be.
  enum class BlockKind {
    kText,
    kThinking,
    kRedactedThinking,
    kToolUse,
    kJsonAnswer,  // The JSON response tool: its input is the answer's text.
    kOther,       // Server tools' blocks, newer kinds: not forwarded.
  };
  struct Block {
    BlockKind kind = BlockKind::kOther;
    int32_t tool_index = 0;  // kToolUse: the call's ordinal.
  };

  absl::Status Apply(const Event& event,
                     llmgateway::v1::GenerateStreamResponse* delta);
  absl::Status StartBlock(const Event& event,
                          llmgateway::v1::GenerateStreamResponse* delta);
  absl::Status ApplyBlockDelta(const Event& event,
                               llmgateway::v1::GenerateStreamResponse* delta);

  providers::StreamEnvelope envelope_;
  bool done_ = false;
  std::string stop_reason_;
  TokenUsage usage_;
  absl::flat_hash_map<int64_t, Block> blocks_;
  // Tool calls started so far (the next call's index), the JSON tool's not
  // counted.
  int32_t tool_calls_ = 0;
  bool json_answer_ = false;
  // Holds each event's JSON plus simdjson's padding (zeroed, inside the
  // string): the SSE data points into curl's buffer, which has none. One
  // copy per event, no allocation once it has grown (released after an
  // event past 1 MiB).
  std::string scratch_;
};

}  // namespace llmgateway::anthropic

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_MESSAGES_STREAM_H_
