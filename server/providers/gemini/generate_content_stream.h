// Decodes a Gemini API stream (streamGenerateContent?alt=sse) into v1
// GenerateStreamResponse deltas. Each SSE event's data is a whole
// GenerateContentResponse chunk; the format has no end marker: the stream
// ends at EOF, and the chunk that carries the candidate's finishReason (with
// the final usageMetadata) is its last. Pure: no I/O, one decoder per
// attempt, fed one SSE event at a time.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_GENERATE_CONTENT_STREAM_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_GENERATE_CONTENT_STREAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/adapter.h"
#include "server/providers/common/stream_envelope.h"
#include "server/providers/gemini/content_fields.h"

namespace llmgateway::gemini {

class GenerateContentStreamDecoder final : public StreamDecoder {
 public:
  using Result = StreamDecoder::Result;

  // `provider` is the config name put on the first and last messages and in
  // errors.
  explicit GenerateContentStreamDecoder(std::string provider);

  // One chunk's first-candidate parts, mapped as content_fields.h says:
  // thought parts -> reasoning {text, signature}; the signature of a text or
  // call part -> reasoning.signature in the same message as that part's
  // text or call (a caller assembling the message puts it in a Reasoning
  // part of its own, before the part); text -> text; functionCall ->
  // tool_calls[{index, id, name, arguments}], whole in one fragment (index:
  // the call's ordinal in the answer; id as in a unary answer). A message
  // carries one signature: a chunk with two signed parts (not seen from
  // Gemini) keeps the first.
  //
  // The chunk with a finishReason ends the answer: done() from then on, and
  // the result is kDone, or kDelta when that chunk also has content. Later
  // chunks are kNothing, though their usageMetadata still counts. A stream
  // that ends without a finishReason is broken (the engine's rule for a
  // stream not done()). A chunk with no candidates and a
  // promptFeedback.blockReason is PromptBlocked (INVALID_ARGUMENT
  // CONTENT_FILTERED); an {"error": ...} chunk is a non-OK status (reason
  // UPSTREAM_STREAM_ERROR, code from its google.rpc status, the upstream's
  // message kept, bounded to 1 KiB); data that is not a chunk is UNAVAILABLE
  // UPSTREAM_BAD_RESPONSE, never quoting the data. Blank data is kNothing.
  absl::StatusOr<Result> Decode(
      absl::string_view event_type, absl::string_view data,
      llmgateway::v1::GenerateStreamResponse* delta) override;

  // The last message: id, model, provider, finish_reason and usage (both
  // always set: FINISH_REASON_UNSPECIFIED / zero usage if the upstream sent
  // none).
  void Finish(llmgateway::v1::GenerateStreamResponse* last) override;

  bool done() const override { return done_; }

 private:
  absl::Status Apply(const ResponseView& view,
                     llmgateway::v1::GenerateStreamResponse* delta);
  // After the end: only a later usageMetadata counts.
  void ReadLateUsage(absl::string_view data);

  providers::StreamEnvelope envelope_;
  bool done_ = false;
  // The first responseId seen: the tool call ids' stem.
  std::string response_id_;
  std::string finish_reason_;
  TokenUsage usage_;
  // Tool calls so far (the next call's index).
  int32_t tool_calls_ = 0;
  // Each chunk's parts: views into the parser, reused from chunk to chunk.
  std::vector<PartView> parts_;
  // Holds each chunk's JSON plus simdjson's padding (zeroed, inside the
  // string): the SSE data points into curl's buffer, which has none. One
  // copy per chunk, no allocation once it has grown (released after a chunk
  // past 1 MiB).
  std::string scratch_;
};

}  // namespace llmgateway::gemini

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_GENERATE_CONTENT_STREAM_H_
