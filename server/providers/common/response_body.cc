// Hands a parsed answer over to the caller (see response_body.h).
#include "server/providers/common/response_body.h"

#include <utility>

namespace llmgateway::providers {

void MoveAnswer(v1::GenerateResponse* from, v1::GenerateResponse* to) {
  to->set_id(std::move(*from->mutable_id()));
  to->set_model(std::move(*from->mutable_model()));
  to->mutable_message()->Swap(from->mutable_message());
  to->set_text(std::move(*from->mutable_text()));
  to->set_finish_reason(from->finish_reason());
  if (from->has_usage()) {
    to->mutable_usage()->Swap(from->mutable_usage());
  } else {
    to->clear_usage();
  }
}

}  // namespace llmgateway::providers
