// Keys are found by their hash: the gateway never holds a caller's key
// beyond the call that presents it, and comparing hashes through a map
// leaks nothing about a key (an attacker cannot steer SHA-256's output).
#include "server/auth/authorizer.h"

#include "absl/time/clock.h"
#include "server/auth/api_key.h"
#include "server/auth/auth_errors.h"

namespace llmgateway::auth {

Authorizer::Authorizer(const config::Auth& auth) {
  const absl::Time now = absl::Now();
  for (const config::ApiKey& key : auth.keys()) {
    by_hash_[key.sha256()] = std::make_unique<Caller>(key, now);
  }
}

absl::StatusOr<Caller*> Authorizer::Authenticate(
    absl::optional<absl::string_view> authorization) const {
  if (!enabled()) return nullptr;
  if (!authorization.has_value()) return MissingKey();
  absl::StatusOr<absl::string_view> key = BearerKey(*authorization);
  if (!key.ok()) return key.status();
  auto it = by_hash_.find(Sha256Hex(*key));
  if (it == by_hash_.end()) return UnknownKey();
  return it->second.get();
}

}  // namespace llmgateway::auth
