// A guess at the size of a request body, so that the body writers reserve
// once and the string grows once in the common case. The text a body carries
// is the request's whatever the format; what differs is the framing around
// it, which each format gives as a BodyFraming.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_COMMON_BODY_SIZE_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_COMMON_BODY_SIZE_H_

#include <cstddef>

#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::providers {

// Bytes of JSON a format writes around each item's own text.
struct BodyFraming {
  size_t message = 48;
  // Whether Message.name goes into the body.
  bool message_name = false;
  size_t media = 64;
  size_t tool_result = 48;
  // Whether reasoning parts go back upstream, and their framing if so.
  bool reasoning = false;
  size_t reasoning_framing = 64;
  // Around a json_schema response format, besides the schema itself.
  size_t json_schema = 0;
};

// The estimate for `request` sent as `upstream_model` with the
// provider_options entry `provider_options` (may be null) merged in.
size_t EstimateBodySize(const llmgateway::v1::GenerateRequest& request,
                        absl::string_view upstream_model,
                        const google::protobuf::Struct* provider_options,
                        const BodyFraming& framing);

}  // namespace llmgateway::providers

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_COMMON_BODY_SIZE_H_
