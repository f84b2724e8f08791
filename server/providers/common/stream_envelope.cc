// Who answers a stream, on its first and last messages (see
// stream_envelope.h).
#include "server/providers/common/stream_envelope.h"

#include <utility>

namespace llmgateway::providers {

StreamEnvelope::StreamEnvelope(std::string provider)
    : provider_(std::move(provider)) {}

void StreamEnvelope::Name(std::string_view id, std::string_view model) {
  if (id_.empty()) id_.assign(id.data(), id.size());
  if (model_.empty()) model_.assign(model.data(), model.size());
}

void StreamEnvelope::StampFirst(v1::GenerateStreamResponse* delta) {
  if (sent_first_) return;
  delta->set_id(id_);
  delta->set_model(model_);
  delta->set_provider(provider_);
  sent_first_ = true;
}

void StreamEnvelope::StampLast(v1::GenerateStreamResponse* last) const {
  last->set_id(id_);
  last->set_model(model_);
  last->set_provider(provider_);
}

}  // namespace llmgateway::providers
