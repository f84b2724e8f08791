// What the provider fuzzers check of the statuses the gateway makes from a
// hostile upstream's answers: bounded, wire-safe for the caller's stub, with
// a valid RetryInfo, and free of the provider key once redacted.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_UPSTREAM_ERROR_FUZZ_CHECKS_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_UPSTREAM_ERROR_FUZZ_CHECKS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/providers/adapter.h"

namespace llmgateway::fuzz {

// The key fuzzers pretend the gateway sent; seeds quote it.
inline constexpr absl::string_view kFuzzKey = "sk-fuzzKEY0123456789abcdef";

// An upstream's error answer from fuzz input: the first byte picks the HTTP
// status (the ones upstream_error.h's table treats apart) and whether a
// Retry-After came with it; the rest is the body. false for an empty input.
bool FuzzedHttpError(const uint8_t* data, size_t size, HttpErrorResponse* response);

// Aborts unless an error status made from upstream input is bounded
// (kMaxUpstreamMessageBytes plus the gateway's own words), valid UTF-8, and
// a google.rpc.Status the caller's stub can parse. OK passes.
void CheckUpstreamStatus(const absl::Status& status, absl::string_view what);

// Whether two statuses say the same: code, message, and equal ErrorInfo and
// RetryInfo payloads (compared as messages: a serialized ErrorInfo's
// metadata map comes out in a different order from one map to the next).
bool SameStatus(const absl::Status& a, const absl::Status& b);

// Aborts unless `status` (an adapter's MapHttpError of an upstream error
// whose body may quote kFuzzKey) is an error with a bounded, key-free,
// UTF-8 message, an ErrorInfo reason, a valid RetryInfo if any, and a
// google.rpc.Status the caller's stub can parse.
void CheckMappedHttpError(const absl::Status& status);

}  // namespace llmgateway::fuzz

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_UPSTREAM_ERROR_FUZZ_CHECKS_H_
