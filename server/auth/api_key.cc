// SHA-256 and random bytes come from OpenSSL's libcrypto (what gRPC and
// libcurl link already).
#include "server/auth/api_key.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "server/auth/auth_errors.h"

namespace llmgateway::auth {

std::string Sha256Hex(absl::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(key.data(), key.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    // Only a broken libcrypto gets here; a wrong hash would lock callers out
    // silently, so stop loudly instead.
    std::abort();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string GenerateApiKey() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();
  std::string encoded;
  absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)),
                            &encoded);
  return "lgw-" + encoded;
}

absl::StatusOr<absl::string_view> BearerKey(absl::string_view authorization) {
  constexpr absl::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::StartsWithIgnoreCase(authorization, kScheme)) {
    return MalformedAuthorization();
  }
  absl::string_view key = absl::StripAsciiWhitespace(authorization.substr(kScheme.size()));
  if (key.empty()) return MalformedAuthorization();
  return key;
}

}  // namespace llmgateway::auth
