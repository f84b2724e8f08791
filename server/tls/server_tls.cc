// Reloadable listener credentials: gRPC's file-watching provider over
// in-memory files that only Reload() replaces.
#include "server/tls/server_tls.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "server/tls/pem_files.h"

namespace llmgateway::tls {
namespace {

std::string FdPath(int fd) { return absl::StrCat("/proc/self/fd/", fd); }

// A new in-memory file holding `content`, modified at `mtime` (seconds).
absl::StatusOr<int> NewMemoryFile(const char* name, const std::string& content, long mtime) {
  const int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("memfd_create: ", std::strerror(errno)));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      close(fd);
      return absl::InternalError(absl::StrCat("writing a memfd: ", std::strerror(error)));
    }
    done += static_cast<size_t>(n);
  }
  const timespec times[2] = {{mtime, 0}, {mtime, 0}};  // access, modification
  if (futimens(fd, times) != 0) {
    const int error = errno;
    close(fd);
    return absl::InternalError(absl::StrCat("futimens on a memfd: ", std::strerror(error)));
  }
  return fd;
}

// Puts `fd` at the number `*slot` holds (or makes it that number, the first
// time). dup3 swaps in one step: whoever opens /proc/self/fd/N gets the old
// file or the new one, never neither.
void Install(int fd, int* slot) {
  if (*slot < 0) {
    *slot = fd;
    return;
  }
  dup3(fd, *slot, O_CLOEXEC);
  close(fd);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerTls>> ServerTls::Create(const config::ServerTls& config) {
  std::unique_ptr<ServerTls> tls(new ServerTls(config));
  absl::StatusOr<std::string> summary = tls->Publish();
  if (!summary.ok()) return summary.status();
  const bool mtls = !config.client_ca_file().empty();
  // The key and the chain are one file (see Publish), named twice.
  tls->provider_ = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls->identity_path(), tls->identity_path(), mtls ? tls->client_ca_path() : std::string(),
      kRefreshIntervalSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(tls->provider_);
  options.watch_identity_key_cert_pairs();
  if (mtls) {
    options.watch_root_certs();
    options.set_cert_request_type(
        config.client_cert_optional()
            ? GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY
            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  tls->credentials_ = grpc::experimental::TlsServerCredentials(options);
  if (tls->credentials_ == nullptr) {
    return absl::InternalError("tls: gRPC refused the TLS server options");
  }
  return tls;
}

ServerTls::~ServerTls() {
  // The provider's thread reads the files: it stops (joins) first.
  credentials_.reset();
  provider_.reset();
  if (identity_fd_ >= 0) close(identity_fd_);
  if (client_ca_fd_ >= 0) close(client_ca_fd_);
}

absl::StatusOr<std::string> ServerTls::Reload() { return Publish(); }

std::string ServerTls::summary() const {
  std::lock_guard<std::mutex> lock(mu_);
  return summary_;
}

std::string ServerTls::identity_path() const {
  std::lock_guard<std::mutex> lock(mu_);
  return FdPath(identity_fd_);
}

std::string ServerTls::client_ca_path() const {
  std::lock_guard<std::mutex> lock(mu_);
  return client_ca_fd_ < 0 ? std::string() : FdPath(client_ca_fd_);
}

absl::StatusOr<std::string> ServerTls::Publish() {
  absl::StatusOr<Identity> identity = LoadIdentity({"tls.cert_file", config_.cert_file()},
                                                   {"tls.key_file", config_.key_file()});
  if (!identity.ok()) return identity.status();
  std::string client_ca;
  if (!config_.client_ca_file().empty()) {
    absl::StatusOr<std::string> bundle =
        LoadCaBundle({"tls.client_ca_file", config_.client_ca_file()});
    if (!bundle.ok()) return bundle.status();
    client_ca = *std::move(bundle);
  }
  // Key and chain in ONE file, so that they change together: gRPC 1.51's
  // provider reads the key path, then the certificate path, and rereads
  // only if the key file's modification time (in whole seconds) moved
  // meanwhile; it never checks that the two match. OpenSSL skips the PEM
  // blocks of the other kind when it loads either. Each new file gets a
  // later modification second than the last, so a swap between gRPC's two
  // reads is always seen and read again.
  const std::string identity_file =
      absl::StrCat(identity->private_key_pem, "\n", identity->cert_chain_pem);
  std::lock_guard<std::mutex> lock(mu_);
  last_mtime_ = std::max<long>(static_cast<long>(std::time(nullptr)), last_mtime_ + 1);
  absl::StatusOr<int> identity_fd = NewMemoryFile("llmgw-tls-identity", identity_file, last_mtime_);
  if (!identity_fd.ok()) return identity_fd.status();
  int client_ca_fd = -1;
  if (!client_ca.empty()) {
    absl::StatusOr<int> fd = NewMemoryFile("llmgw-tls-client-ca", client_ca, last_mtime_);
    if (!fd.ok()) {
      close(*identity_fd);
      return fd.status();
    }
    client_ca_fd = *fd;
  }
  Install(*identity_fd, &identity_fd_);
  if (client_ca_fd >= 0) Install(client_ca_fd, &client_ca_fd_);
  summary_ = identity->summary;
  return summary_;
}

}  // namespace llmgateway::tls
