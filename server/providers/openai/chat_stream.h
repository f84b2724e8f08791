// Decodes an OpenAI-compatible chat.completion.chunk stream (the `data:`
// payloads of its SSE events) into v1 GenerateStreamResponse deltas. Pure: no
// I/O, one decoder per stream, fed one event at a time.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_CHAT_STREAM_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_CHAT_STREAM_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/adapter.h"
#include "server/providers/common/stream_envelope.h"

namespace llmgateway::openai {

class ChatStreamDecoder final : public StreamDecoder {
 public:
  using Result = StreamDecoder::Result;

  // `provider` is the config name put on the first and last messages.
  explicit ChatStreamDecoder(std::string provider);

  // Decodes one event's data into `*delta` (which must be empty). The first
  // message sent carries id, model and provider. finish_reason and usage are
  // held back for Finish (OpenAI sends usage in a later chunk than
  // finish_reason). An `{"error": ...}` payload, or data that is not a chunk,
  // is an error (UNAVAILABLE, reason UPSTREAM_STREAM_ERROR /
  // UPSTREAM_BAD_RESPONSE, naming the provider, never quoting the payload;
  // an error event's own message is kept, bounded). Blank data, and anything
  // after [DONE], is kNothing.
  absl::StatusOr<Result> Decode(absl::string_view data,
                                llmgateway::v1::GenerateStreamResponse* delta);
  // The OpenAI format has no `event:` names: only the data matters.
  absl::StatusOr<Result> Decode(absl::string_view event_type, absl::string_view data,
                                llmgateway::v1::GenerateStreamResponse* delta) override {
    return Decode(data, delta);
  }

  // The last message: id, model, provider, finish_reason and usage (both always
  // set: FINISH_REASON_UNSPECIFIED / zero usage if the upstream sent none).
  void Finish(llmgateway::v1::GenerateStreamResponse* last) override;

  // Whether Decode has seen [DONE].
  bool done() const override { return done_; }

 private:
  providers::StreamEnvelope envelope_;
  bool done_ = false;
  llmgateway::v1::FinishReason finish_reason_ = llmgateway::v1::FINISH_REASON_UNSPECIFIED;
  llmgateway::v1::Usage usage_;
  // Holds each event's JSON plus simdjson's padding (zeroed, inside the
  // string): the SSE data points into curl's buffer, which has none. One copy
  // per event, no allocation once it has grown (released after an event
  // past 1 MiB).
  std::string scratch_;
};

}  // namespace llmgateway::openai

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_CHAT_STREAM_H_
