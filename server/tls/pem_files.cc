// PEM reading and checks (OpenSSL's libcrypto).
#include "server/tls/pem_files.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace llmgateway::tls {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

BioPtr MemoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Without a callback OpenSSL would prompt on the terminal for a passphrase.
int NoPassphrase(char*, int, int, void*) { return -1; }

// Every certificate in `pem`, in order (PEM blocks of other types are skipped,
// as OpenSSL does when it loads the chain for a handshake).
std::vector<X509Ptr> ReadCertificates(const std::string& pem) {
  std::vector<X509Ptr> certs;
  BioPtr bio = MemoryBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)) {
    certs.emplace_back(cert);
  }
  ERR_clear_error();  // the loop ends on "no start line"
  return certs;
}

std::string Summary(X509* cert) {
  std::string cn = "(no CN)";
  X509_NAME* subject = X509_get_subject_name(cert);
  char buffer[256];
  if (subject != nullptr &&
      X509_NAME_get_text_by_NID(subject, NID_commonName, buffer, sizeof(buffer)) > 0) {
    cn = buffer;
  }
  std::string expires = "?";
  if (BioPtr out(BIO_new(BIO_s_mem())); out != nullptr &&
                                        ASN1_TIME_print(out.get(), X509_get0_notAfter(cert))) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(out.get(), &data);
    expires.assign(data, static_cast<size_t>(n));
  }
  return absl::StrCat("CN=", cn, ", expires ", expires);
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const NamedFile& file) {
  std::ifstream in(file.path, std::ios::binary);
  if (!in) {
    const int error = errno;
    const std::string message =
        absl::StrCat(file.field, ": cannot read ", file.path, ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    if (error == EACCES) return absl::PermissionDeniedError(message);
    return absl::InvalidArgumentError(message);
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat(file.field, ": cannot read ", file.path));
  return text.str();
}

absl::StatusOr<Identity> LoadIdentity(const NamedFile& cert, const NamedFile& key) {
  absl::StatusOr<std::string> chain = ReadFile(cert);
  if (!chain.ok()) return chain.status();
  absl::StatusOr<std::string> key_pem = ReadFile(key);
  if (!key_pem.ok()) return key_pem.status();
  std::vector<X509Ptr> certs = ReadCertificates(*chain);
  if (certs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        cert.field, ": ", cert.path, " holds no PEM certificate (BEGIN CERTIFICATE)"));
  }
  BioPtr key_bio = MemoryBio(*key_pem);
  PkeyPtr pkey(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  if (pkey == nullptr) {
    ERR_clear_error();
    const bool encrypted = key_pem->find("ENCRYPTED") != std::string::npos;
    return absl::InvalidArgumentError(absl::StrCat(
        key.field, ": ", key.path,
        encrypted ? " holds an encrypted private key; give it unencrypted"
                  : " holds no PEM private key"));
  }
  if (X509_check_private_key(certs.front().get(), pkey.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(key.field, ": the private key in ", key.path,
                                                   " does not match the certificate in ",
                                                   cert.path));
  }
  Identity identity;
  identity.summary = Summary(certs.front().get());
  identity.cert_chain_pem = *std::move(chain);
  identity.private_key_pem = *std::move(key_pem);
  return identity;
}

absl::StatusOr<std::string> LoadCaBundle(const NamedFile& file) {
  absl::StatusOr<std::string> bundle = ReadFile(file);
  if (!bundle.ok()) return bundle.status();
  if (ReadCertificates(*bundle).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        file.field, ": ", file.path, " holds no PEM certificate (BEGIN CERTIFICATE)"));
  }
  return bundle;
}

}  // namespace llmgateway::tls
