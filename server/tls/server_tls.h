// TLS credentials for the gRPC listener whose certificates can be replaced
// while serving (SIGHUP). gRPC 1.51 offers no C++ certificate provider that
// takes new key material from code (only static data, or files it polls), so
// the gateway hands gRPC's file-watching provider files of its own: in-memory
// files (memfd) whose content changes only when Reload() has read and checked
// new certificates. The key never goes to disk a second time, and gRPC never
// sees a half-rotated pair. See docs/engineering-notes.md ("TLS reload").
#ifndef LLM_GATEWAY_SERVER_TLS_SERVER_TLS_H_
#define LLM_GATEWAY_SERVER_TLS_SERVER_TLS_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "server/config/config.pb.h"

namespace llmgateway::tls {

// gRPC's provider re-reads its files this often (1 s is its minimum): the
// longest a reloaded certificate waits before new connections get it.
inline constexpr unsigned int kRefreshIntervalSeconds = 1;

class ServerTls {
 public:
  // Reads and checks the files `config` names (errors name the field and
  // the path). `config.cert_file` must be set.
  static absl::StatusOr<std::unique_ptr<ServerTls>> Create(const config::ServerTls& config);
  ~ServerTls();

  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  // For grpc::ServerBuilder::AddListeningPort.
  std::shared_ptr<grpc::ServerCredentials> credentials() const { return credentials_; }

  // Re-reads and checks the configured files. OK: gRPC serves them to new
  // connections within kRefreshIntervalSeconds; returns the new
  // certificate's summary for the log. Not OK: nothing changes. Thread-safe.
  absl::StatusOr<std::string> Reload();

  // The summary of the certificate being served (for the start-up log).
  std::string summary() const;

  // What gRPC reads: the key and chain together (one file, swapped whole),
  // and the client CA bundle ("" without mTLS). For tests.
  std::string identity_path() const;
  std::string client_ca_path() const;

 private:
  explicit ServerTls(config::ServerTls config) : config_(std::move(config)) {}

  // Reads the files into new memfds and puts them in place of the old ones.
  absl::StatusOr<std::string> Publish();

  const config::ServerTls config_;
  mutable std::mutex mu_;
  // Fixed descriptor numbers: gRPC reads /proc/self/fd/N.
  int identity_fd_ = -1;
  int client_ca_fd_ = -1;
  // Modification time (seconds) of the last file published; see Publish().
  long last_mtime_ = 0;
  std::string summary_;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
};

}  // namespace llmgateway::tls

#endif  // LLM_GATEWAY_SERVER_TLS_SERVER_TLS_H_
