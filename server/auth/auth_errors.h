// The errors a caller gets from auth and its per-key limits, each with its
// ErrorInfo reason (and RetryInfo where waiting helps), in one place so the
// wording and reasons stay consistent (docs: README "Caller auth").
#ifndef LLM_GATEWAY_SERVER_AUTH_AUTH_ERRORS_H_
#define LLM_GATEWAY_SERVER_AUTH_AUTH_ERRORS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace llmgateway::auth {

// UNAUTHENTICATED, API_KEY_MISSING.
absl::Status MissingKey();
// UNAUTHENTICATED, API_KEY_INVALID: metadata that is not "Bearer KEY".
absl::Status MalformedAuthorization();
// UNAUTHENTICATED, API_KEY_INVALID: a key no config entry hashes to.
absl::Status UnknownKey();
// PERMISSION_DENIED, MODEL_NOT_ALLOWED.
absl::Status ModelNotAllowed(absl::string_view key_id, absl::string_view model);
// RESOURCE_EXHAUSTED, KEY_REQUEST_RATE_EXCEEDED, with RetryInfo.
absl::Status RequestRateExceeded(absl::string_view key_id, int64_t per_minute,
                                 absl::Duration retry_after);
// RESOURCE_EXHAUSTED, KEY_TOKEN_RATE_EXCEEDED, with RetryInfo.
absl::Status TokenRateExceeded(absl::string_view key_id, int64_t per_minute,
                               absl::Duration retry_after);
// RESOURCE_EXHAUSTED, KEY_TOKEN_BUDGET_EXHAUSTED, no RetryInfo: waiting
// does not help.
absl::Status TokenBudgetExhausted(absl::string_view key_id, int64_t budget);
// RESOURCE_EXHAUSTED, KEY_STREAM_LIMIT.
absl::Status StreamLimit(absl::string_view key_id, int64_t max_streams);

}  // namespace llmgateway::auth

#endif  // LLM_GATEWAY_SERVER_AUTH_AUTH_ERRORS_H_
