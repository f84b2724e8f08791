// Request checks shared by the body builders (see request_checks.h).
#include "server/providers/common/request_checks.h"

#include <cstddef>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/common/status_details.h"

namespace llmgateway::providers {

std::string PartPath(int message, int part) {
  return absl::StrCat("messages[", message, "].parts[", part, "]");
}

absl::Status CheckPromptOrMessages(const v1::GenerateRequest& r) {
  if (!r.prompt().empty() && r.messages_size() > 0) {
    return absl::InvalidArgumentError(
        "prompt: must not be set together with messages");
  }
  if (r.prompt().empty() && r.messages_size() == 0) {
    return absl::InvalidArgumentError(
        "messages: either messages or prompt must be set");
  }
  return absl::OkStatus();
}

absl::Status CheckRole(const v1::Message& m, int i) {
  switch (m.role()) {
    case v1::ROLE_SYSTEM:
    case v1::ROLE_DEVELOPER:
    case v1::ROLE_USER:
    case v1::ROLE_ASSISTANT:
    case v1::ROLE_TOOL:
      return absl::OkStatus();
    case v1::ROLE_UNSPECIFIED:
      return absl::InvalidArgumentError(
          absl::StrCat("messages[", i, "].role: must be set"));
    default:
      // Open enum: a value from a newer client.
      return absl::InvalidArgumentError(
          absl::StrCat("messages[", i, "].role: unknown value ",
                       static_cast<int>(m.role())));
  }
}

absl::Status CheckToolChoice(const v1::ToolChoice& tc) {
  if (!tc.function_name().empty() &&
      tc.mode() != v1::ToolChoice::MODE_REQUIRED) {
    return absl::InvalidArgumentError(
        "tool_choice.function_name: only with MODE_REQUIRED");
  }
  if (!v1::ToolChoice::Mode_IsValid(tc.mode())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tool_choice.mode: unknown value ", static_cast<int>(tc.mode())));
  }
  return absl::OkStatus();
}

absl::Status WithFieldDetails(absl::Status status) {
  if (status.code() != absl::StatusCode::kInvalidArgument ||
      GetErrorInfo(status).has_value()) {
    return status;
  }
  const absl::string_view message = status.message();
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos) return status;
  return InvalidField(message.substr(0, colon), message.substr(colon + 2));
}

}  // namespace llmgateway::providers
