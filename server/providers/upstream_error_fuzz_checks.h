// What the provider fuzzers check of the statuses the gateway makes from a
// hostile upstream's answers: bounded, wire-safe for the caller's stub, with
// a valid RetryInfo, and free of the provider key once redacted.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_UPSTREAM_ERROR_FUZZ_CHECKS_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_UPSTREAM_ERROR_FUZZ_CHECKS_H_

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/config/config.pb.h"
#include "server/providers/adapter.h"
#include "tests/fuzz/fuzz_checks.h"

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

// The adapter an error-body fuzzer maps with: provider "fuzz" of `kind`,
// configured with kFuzzKey (so redaction has a key to hide). Built once.
template <typename AdapterT>
const AdapterT& FuzzAdapter(absl::string_view kind, absl::string_view base_url) {
  static const AdapterT* adapter = [&] {
    config::Provider config;
    config.set_name("fuzz");
    config.set_kind(std::string(kind));
    config.set_base_url(std::string(base_url));
    return new AdapterT(config, std::string(kFuzzKey));
  }();
  return *adapter;
}

// One error-body fuzz input: the HTTP error FuzzedHttpError makes of it,
// mapped by `adapter` (CheckMappedHttpError), and `parse` (the provider's
// ParseErrorBody, its fields as a comparable tuple) giving the same on the
// body in place and on a copy.
template <typename Parse>
void CheckErrorBodyInput(const uint8_t* data, size_t size, const Adapter& adapter, Parse parse) {
  HttpErrorResponse response;
  if (!FuzzedHttpError(data, size, &response)) return;
  CheckMappedHttpError(adapter.MapHttpError(response));
  const std::string copy(response.body);
  if (!(parse(response.body) == parse(copy))) {
    Fail("ParseErrorBody", "differs on a copy of the same body");
  }
}

// A unary body parser (ParseChatResponse and its peers), which may parse a
// body in place when it has spare capacity.
using ResponseParser =
    absl::FunctionRef<absl::Status(const std::string& body, v1::GenerateResponse* response)>;

// One response-body fuzz input: parsed in place (with spare capacity) and
// from a tight copy, which must agree; then what reaches the caller is
// checked: the answer wire-safe, or the UpstreamBadResponse made of the error.
void CheckResponseInput(const uint8_t* data, size_t size, ResponseParser parse);

}  // namespace llmgateway::fuzz

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_UPSTREAM_ERROR_FUZZ_CHECKS_H_
