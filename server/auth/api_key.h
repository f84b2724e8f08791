// Callers' API keys as they travel: the `authorization: Bearer KEY` header,
// the SHA-256 the config keeps instead of the key, and new random keys.
#ifndef LLM_GATEWAY_SERVER_AUTH_API_KEY_H_
#define LLM_GATEWAY_SERVER_AUTH_API_KEY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace llmgateway::auth {

// Lowercase hex SHA-256 of `key`: what config's ApiKey.sha256 holds.
std::string Sha256Hex(absl::string_view key);

// A new key: "lgw-" and 43 characters of base64url (256 random bits from
// the system's CSPRNG).
std::string GenerateApiKey();

// The key in an `authorization` metadata value: "Bearer KEY" (the scheme in
// any case, as RFC 9110 allows). UNAUTHENTICATED when the value has another
// shape; the message never repeats the value.
absl::StatusOr<absl::string_view> BearerKey(absl::string_view authorization);

}  // namespace llmgateway::auth

#endif  // LLM_GATEWAY_SERVER_AUTH_API_KEY_H_
