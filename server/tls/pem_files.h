// Reads PEM certificates and keys from files and checks them with OpenSSL
// before anything serves or trusts them: a typo'd path, a truncated file or a
// key that belongs to another certificate fails here, naming the path,
// instead of as a handshake error on every connection later.
#ifndef LLM_GATEWAY_SERVER_TLS_PEM_FILES_H_
#define LLM_GATEWAY_SERVER_TLS_PEM_FILES_H_

#include <string>

#include "absl/status/statusor.h"

namespace llmgateway::tls {

// A certificate chain and its private key, as PEM text.
struct Identity {
  std::string cert_chain_pem;
  std::string private_key_pem;
  // For logs: "CN=..., expires 2027-11-29 08:00:00 UTC" (nothing secret).
  std::string summary;
};

// A file and the setting that named it: every error starts with the
// setting, then names the path, e.g.
// "tls.key_file: cannot read /etc/gw/key.pem: No such file or directory".
struct NamedFile {
  std::string field;
  std::string path;
};

// Reads the file whole. NOT_FOUND, PERMISSION_DENIED or INVALID_ARGUMENT.
absl::StatusOr<std::string> ReadFile(const NamedFile& file);

// The chain in `cert` (one or more certificates, leaf first) and the
// unencrypted private key in `key`, which must be the leaf's.
// INVALID_ARGUMENT naming the file that is wrong: no PEM certificate, no
// key, an encrypted key, a key that does not match the certificate.
absl::StatusOr<Identity> LoadIdentity(const NamedFile& cert, const NamedFile& key);

// A bundle of one or more CA certificates (PEM), returned as read.
absl::StatusOr<std::string> LoadCaBundle(const NamedFile& file);

}  // namespace llmgateway::tls

#endif  // LLM_GATEWAY_SERVER_TLS_PEM_FILES_H_
