// Checks a GenerateRequest before any upstream sees it. Every error is
// INVALID_ARGUMENT naming the field path (`messages[2].parts[0].media`), with
// a BadRequest detail, so a caller can fix the request without guessing.
#ifndef LLM_GATEWAY_SERVER_API_REQUEST_VALIDATION_H_
#define LLM_GATEWAY_SERVER_API_REQUEST_VALIDATION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/map.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway {

absl::Status ValidateGenerateRequest(const llmgateway::v1::GenerateRequest& request);

// Labels follow Google Cloud's rules, so they are safe in log lines and as
// metric label values: at most 64; keys 1-63 lowercase letters, digits, `_`
// or `-`, starting with a letter; values up to 63 of the same (or empty).
inline constexpr int kMaxLabels = 64;
inline constexpr size_t kMaxLabelBytes = 63;
absl::Status ValidateLabels(const google::protobuf::Map<std::string, std::string>& labels,
                            absl::string_view field);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_REQUEST_VALIDATION_H_
