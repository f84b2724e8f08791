// Checks of a v1 GenerateRequest that every adapter's body builder repeats
// (the API layer validates first; these guard input whose body would
// otherwise be silently wrong), and the error convention they all follow:
// INVALID_ARGUMENT "<v1 field path>: <problem>".
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_COMMON_REQUEST_CHECKS_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_COMMON_REQUEST_CHECKS_H_

#include <string>

#include "absl/status/status.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::providers {

// "messages[<message>].parts[<part>]": the path errors about a part start
// with.
std::string PartPath(int message, int part);

// Exactly one of prompt and messages is set.
absl::Status CheckPromptOrMessages(const llmgateway::v1::GenerateRequest& r);

// messages[i].role is one of the roles this code knows: set, and not a value
// from a newer client (the enum is open).
absl::Status CheckRole(const llmgateway::v1::Message& m, int i);

// tool_choice.function_name only with MODE_REQUIRED, and a mode this code
// knows.
absl::Status CheckToolChoice(const llmgateway::v1::ToolChoice& tc);

// Gives an INVALID_ARGUMENT "<field path>: <problem>" the details the API
// promises (ErrorInfo INVALID_REQUEST with the field, a BadRequest
// violation), in one place instead of at every site that fails. Statuses
// that have an ErrorInfo already, other codes, and messages without ": "
// are returned as they are.
absl::Status WithFieldDetails(absl::Status status);

}  // namespace llmgateway::providers

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_COMMON_REQUEST_CHECKS_H_
