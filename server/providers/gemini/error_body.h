// Reads the error object Google's APIs send with a non-2xx status, and as a
// stream chunk's data when a stream fails midway:
// {"error": {"code": 429, "message": ..., "status": "RESOURCE_EXHAUSTED",
//            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
//                         "retryDelay": "30s"}, ...]}}
// (some front ends wrap it in a one-element array).
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_ERROR_BODY_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_ERROR_BODY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace llmgateway::gemini {

struct ErrorBody {
  // The HTTP status Google meant (error.code); 0 when not sent.
  int64_t code = 0;
  // google.rpc.Code name: INVALID_ARGUMENT, RESOURCE_EXHAUSTED, ...
  std::string status;
  std::string message;
  // The google.rpc.ErrorInfo detail's reason (API_KEY_INVALID, ...).
  std::string reason;
  // The google.rpc.RetryInfo detail's retryDelay ("30s", "1.5s"), clamped
  // like a Retry-After header (upstream_error.h: ParseRetryAfter).
  std::optional<absl::Duration> retry_delay;
};

// Tolerant: a body that is not JSON, or has no `error` object, gives empty
// fields (a proxy's {"message": ...} or {"error": "text"} is read into
// `message`). Never fails.
ErrorBody ParseErrorBody(absl::string_view body);

// Whether the ErrorInfo reason says the API key itself was refused: Google
// answers a bad key with HTTP 400 INVALID_ARGUMENT (reason API_KEY_INVALID),
// which is the gateway's fault, not the caller's.
bool SaysKeyRejected(const ErrorBody& error);

// Whether Google says the input is longer than the model takes ("The input
// token count (1200000) exceeds the maximum number of tokens allowed
// (1048576).").
bool SaysContextLengthExceeded(const ErrorBody& error);

// The canonical code a google.rpc status name stands for, as its HTTP
// counterpart maps in upstream_error.h's table: INVALID_ARGUMENT,
// FAILED_PRECONDITION, OUT_OF_RANGE -> INVALID_ARGUMENT; UNAUTHENTICATED,
// PERMISSION_DENIED -> INTERNAL (the gateway's key); NOT_FOUND -> NOT_FOUND;
// RESOURCE_EXHAUSTED -> RESOURCE_EXHAUSTED; anything else (INTERNAL,
// UNAVAILABLE, DEADLINE_EXCEEDED, unknown names) -> UNAVAILABLE.
absl::StatusCode CodeForGoogleStatus(absl::string_view status);

}  // namespace llmgateway::gemini

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_ERROR_BODY_H_
