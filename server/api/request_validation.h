// Checks a GenerateRequest before any upstream sees it. Every error is
// INVALID_ARGUMENT naming the field path (`messages[2].parts[0].media`), with
// a BadRequest detail, so a caller can fix the request without guessing.
#ifndef LLM_GATEWAY_SERVER_API_REQUEST_VALIDATION_H_
#define LLM_GATEWAY_SERVER_API_REQUEST_VALIDATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/map.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway {

// Per-request size limits (config.limits); INVALID_ARGUMENT beyond them,
// naming the field and the limit.
struct RequestLimits {
  // limits.max_messages_per_request
  int max_messages = 10000;
  // limits.max_media_bytes_per_request: inline media of all parts together.
  int64_t max_media_bytes = int64_t{50} << 20;
};

// The process's limits, used by the one-argument ValidateGenerateRequest;
// set once at start-up, before the server serves.
void SetRequestLimits(const RequestLimits& limits);

absl::Status ValidateGenerateRequest(const llmgateway::v1::GenerateRequest& request);
absl::Status ValidateGenerateRequest(const llmgateway::v1::GenerateRequest& request,
                                     const RequestLimits& limits);

// Labels follow Google Cloud's rules, so they are safe in log lines and as
// metric label values: at most 64; keys 1-63 lowercase letters, digits, `_`
// or `-`, starting with a letter; values up to 63 of the same (or empty).
inline constexpr int kMaxLabels = 64;
inline constexpr size_t kMaxLabelBytes = 63;
absl::Status ValidateLabels(const google::protobuf::Map<std::string, std::string>& labels,
                            absl::string_view field);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_REQUEST_VALIDATION_H_
