// The envelope of a stream's messages: who answers (provider, and the id and
// model the upstream named). Every stream decoder puts it on the first delta
// and on the last message only, so the caller learns who answers from the
// first message it gets and the deltas between stay lean.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_COMMON_STREAM_ENVELOPE_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_COMMON_STREAM_ENVELOPE_H_

#include <string>
#include <string_view>

#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::providers {

class StreamEnvelope {
 public:
  // `provider` is the config name.
  explicit StreamEnvelope(std::string provider);

  const std::string& provider() const { return provider_; }

  // The first event that names an id (a model) wins: later ones repeat the
  // same. Empty names nothing.
  void Name(std::string_view id, std::string_view model);

  // Puts the envelope on `delta` if it is the stream's first delta.
  void StampFirst(llmgateway::v1::GenerateStreamResponse* delta);
  // Puts it on the stream's last message.
  void StampLast(llmgateway::v1::GenerateStreamResponse* last) const;

 private:
  std::string provider_;
  std::string id_;
  std::string model_;
  bool sent_first_ = false;
};

}  // namespace llmgateway::providers

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_COMMON_STREAM_ENVELOPE_H_
