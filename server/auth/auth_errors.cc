// Wording and reasons of auth's errors. Messages name the key by its id,
// never by the key.
#include "server/auth/auth_errors.h"

#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"

namespace llmgateway::auth {
namespace {

constexpr absl::string_view kMetaKeyId = "keyId";

absl::Status KeyError(absl::Status status, absl::string_view reason, absl::string_view key_id) {
  return WithErrorInfo(std::move(status), reason, {{kMetaKeyId, key_id}});
}

}  // namespace

absl::Status MissingKey() {
  return WithErrorInfo(
      absl::UnauthenticatedError(
          "this gateway needs an API key: send it as `authorization: Bearer KEY` metadata"),
      "API_KEY_MISSING");
}

absl::Status MalformedAuthorization() {
  return WithErrorInfo(
      absl::UnauthenticatedError("the authorization metadata must be `Bearer KEY`"),
      "API_KEY_INVALID");
}

absl::Status UnknownKey() {
  return WithErrorInfo(absl::UnauthenticatedError("the API key is not valid"),
                       "API_KEY_INVALID");
}

absl::Status ModelNotAllowed(absl::string_view key_id, absl::string_view model) {
  return WithErrorInfo(
      absl::PermissionDeniedError(
          absl::StrCat("key \"", key_id, "\" may not use model \"", model, "\"")),
      "MODEL_NOT_ALLOWED", {{kMetaKeyId, key_id}, {kMetaModel, model}});
}

absl::Status RequestRateExceeded(absl::string_view key_id, int64_t per_minute,
                                 absl::Duration retry_after) {
  return WithRetryInfo(
      KeyError(absl::ResourceExhaustedError(absl::StrCat(
                   "key \"", key_id, "\" is over its ", per_minute, " requests per minute")),
               "KEY_REQUEST_RATE_EXCEEDED", key_id),
      retry_after);
}

absl::Status TokenRateExceeded(absl::string_view key_id, int64_t per_minute,
                               absl::Duration retry_after) {
  return WithRetryInfo(
      KeyError(absl::ResourceExhaustedError(absl::StrCat(
                   "key \"", key_id, "\" is over its ", per_minute, " tokens per minute")),
               "KEY_TOKEN_RATE_EXCEEDED", key_id),
      retry_after);
}

absl::Status TokenBudgetExhausted(absl::string_view key_id, int64_t budget) {
  return KeyError(absl::ResourceExhaustedError(absl::StrCat(
                      "key \"", key_id, "\" has used its budget of ", budget, " tokens")),
                  "KEY_TOKEN_BUDGET_EXHAUSTED", key_id);
}

absl::Status StreamLimit(absl::string_view key_id, int64_t max_streams) {
  return KeyError(absl::ResourceExhaustedError(
                      absl::StrCat("key \"", key_id, "\" already has ", max_streams,
                                   " streams open, its limit")),
                  "KEY_STREAM_LIMIT", key_id);
}

}  // namespace llmgateway::auth
