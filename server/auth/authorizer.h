// Who is calling: the config's API keys, looked up by the SHA-256 of the
// key a call presents. With no keys configured, auth is off and every call
// is served as nobody (no limits).
#ifndef LLM_GATEWAY_SERVER_AUTH_AUTHORIZER_H_
#define LLM_GATEWAY_SERVER_AUTH_AUTHORIZER_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "server/auth/caller.h"
#include "server/config/config.pb.h"

namespace llmgateway::auth {

class Authorizer {
 public:
  explicit Authorizer(const config::Auth& auth);

  bool enabled() const { return !by_hash_.empty(); }

  // `authorization` is the call's metadata value, if any. With auth off:
  // nullptr (nobody). With auth on: the key's Caller (it lives as long as
  // the Authorizer), or UNAUTHENTICATED.
  absl::StatusOr<Caller*> Authenticate(absl::optional<absl::string_view> authorization) const;

 private:
  absl::flat_hash_map<std::string, std::unique_ptr<Caller>> by_hash_;
};

}  // namespace llmgateway::auth

#endif  // LLM_GATEWAY_SERVER_AUTH_AUTHORIZER_H_
