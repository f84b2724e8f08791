// Checks a GenerateRequest before any upstream sees it. Every error is
// INVALID_ARGUMENT naming the field path (`messages[2].parts[0].media`), with
// a BadRequest detail, so a caller can fix the request without guessing.
#ifndef LLM_GATEWAY_SERVER_API_REQUEST_VALIDATION_H_
#define LLM_GATEWAY_SERVER_API_REQUEST_VALIDATION_H_

#include "absl/status/status.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway {

absl::Status ValidateGenerateRequest(const llmgateway::v1::GenerateRequest& request);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_REQUEST_VALIDATION_H_
