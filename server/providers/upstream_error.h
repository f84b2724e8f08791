// The one table that turns an upstream's failure (an HTTP error status, a
// transport error, a response that makes no sense) into the gateway's
// absl::Status with its google.rpc ErrorInfo/RetryInfo, as DESIGN.md lists.
// Provider adapters only read their error bodies; the policy lives here.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_UPSTREAM_ERROR_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_UPSTREAM_ERROR_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace llmgateway {

// What an upstream said when it answered with an HTTP error status.
struct UpstreamHttpFailure {
  absl::string_view provider;  // config name, e.g. "openai"
  long http_status = 0;
  // From the provider's error body (may be empty).
  absl::string_view error_type;
  absl::string_view error_code;
  absl::string_view message;
  // From Retry-After (seconds or an HTTP date), if sent.
  std::optional<absl::Duration> retry_after;
  // The upstream's body says the gateway's key was refused, whatever the
  // status (Google answers a bad key with 400 API_KEY_INVALID): mapped as a
  // 401/403 is, with the real status in upstreamStatus.
  bool key_rejected = false;
};

// Upstream HTTP status -> canonical code and reason:
//   key_rejected, 401/403: INTERNAL UPSTREAM_AUTH_FAILED (the gateway's own
//   key; the upstream's message is dropped, as it may quote the key);
//   400/413/422 INVALID_ARGUMENT (CONTENT_FILTERED or CONTEXT_LENGTH_EXCEEDED
//   when the upstream says so, else UPSTREAM_INVALID_REQUEST); 404 NOT_FOUND
//   MODEL_NOT_FOUND;
//   408 DEADLINE_EXCEEDED UPSTREAM_TIMEOUT; 429 RESOURCE_EXHAUSTED
//   RATE_LIMITED with RetryInfo, or QUOTA_EXHAUSTED without it when the quota
//   is spent; 5xx UNAVAILABLE UPSTREAM_UNAVAILABLE; any other UNKNOWN
//   UPSTREAM_ERROR.
absl::Status UpstreamHttpError(const UpstreamHttpFailure& failure);

// A transfer that did not produce a response (http::TransferHandler's
// OnComplete status): DEADLINE_EXCEEDED -> UPSTREAM_TIMEOUT, UNAVAILABLE ->
// UPSTREAM_UNREACHABLE, FAILED_PRECONDITION (an untrusted TLS certificate)
// -> INTERNAL UPSTREAM_TLS_UNTRUSTED, CANCELLED stays CANCELLED. Only the
// transport's generic message is used: its network detail (addresses) stays
// out of what callers see.
absl::Status UpstreamTransportError(absl::string_view provider,
                                    const absl::Status& transport);

// A stream that stopped before its end marker (`data: [DONE]` for OpenAI,
// `message_stop` for Anthropic), whatever came before it: CANCELLED and
// DEADLINE_EXCEEDED transports map as UpstreamTransportError; anything else is
// UNAVAILABLE, reason UPSTREAM_STREAM_BROKEN.
absl::Status UpstreamStreamBroken(absl::string_view provider,
                                  const absl::Status& transport);

// A 2xx response the adapter could not read (malformed JSON, missing fields).
// UNAVAILABLE, reason UPSTREAM_BAD_RESPONSE: like an HTTP 502, the upstream
// is at fault and another attempt or provider may succeed.
absl::Status UpstreamBadResponse(absl::string_view provider,
                                 const absl::Status& parse_error);

// The upstream's own words go into status messages (they help the caller),
// but bounded: status messages travel in gRPC trailers, where a few KiB
// break the caller's connection. UpstreamHttpError bounds its message;
// stream decoders bound theirs with BoundUpstreamMessage.
inline constexpr size_t kMaxUpstreamMessageBytes = 1024;

// `message` cut to kMaxUpstreamMessageBytes at a UTF-8 character boundary,
// with "..." marking the cut; shorter messages as they are.
std::string BoundUpstreamMessage(std::string message);

// Replaces every occurrence of `secret` (an API key) in the status message:
// upstreams have been seen quoting the key they rejected. The key's first
// characters at the message's end (a bounded message cut inside the key,
// "..." or not) are replaced too.
absl::Status RedactSecret(absl::Status status, absl::string_view secret);

// The longest Retry-After the gateway believes (and passes on in RetryInfo).
inline constexpr absl::Duration kMaxRetryAfter = absl::Hours(24);

// Parses a Retry-After header value: delay-seconds or an HTTP-date (relative
// to `now`; a past date is zero). Clamped to [0, kMaxRetryAfter]: "inf" and
// "1e300" give the cap. nullopt for anything else ("nan", negative numbers,
// garbage): no wait is better than a made-up one.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_UPSTREAM_ERROR_H_
