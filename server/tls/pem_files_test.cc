#include "server/tls/pem_files.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tls/test_certs.h"

namespace llmgateway::tls {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const testing::TestCerts& Certs() {
  static const auto* certs = new testing::TestCerts("pem_files_test");
  return *certs;
}

NamedFile Cert(const std::string& file) { return {"tls.cert_file", Certs().Path(file)}; }
NamedFile Key(const std::string& file) { return {"tls.key_file", Certs().Path(file)}; }

TEST(LoadIdentityTest, ReadsAMatchingPair) {
  absl::StatusOr<Identity> identity = LoadIdentity(Cert("server.pem"), Key("server.key"));
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(identity->cert_chain_pem, Certs().Read("server.pem"));
  EXPECT_EQ(identity->private_key_pem, Certs().Read("server.key"));
  EXPECT_THAT(identity->summary, StartsWith("CN=gateway-1, expires "));
}

TEST(LoadIdentityTest, AMissingFileNamesTheFieldAndPath) {
  absl::StatusOr<Identity> identity = LoadIdentity(Cert("server.pem"), Key("nope.key"));
  EXPECT_EQ(identity.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(identity.status().message()),
              StartsWith("tls.key_file: cannot read " + Certs().Path("nope.key")));
}

TEST(LoadIdentityTest, AKeyOfAnotherCertificateIsRefused) {
  absl::StatusOr<Identity> identity = LoadIdentity(Cert("server.pem"), Key("server2.key"));
  EXPECT_EQ(identity.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(identity.status().message()), StartsWith("tls.key_file: "));
  EXPECT_THAT(identity.status().message(), HasSubstr("does not match the certificate in"));
}

TEST(LoadIdentityTest, NotPemIsRefusedNamingTheFile) {
  // A key where the certificate should be, and the other way round.
  absl::StatusOr<Identity> identity = LoadIdentity(Cert("server.key"), Key("server.key"));
  EXPECT_THAT(identity.status().message(),
              HasSubstr("tls.cert_file: " + Certs().Path("server.key") + " holds no PEM certificate"));
  identity = LoadIdentity(Cert("server.pem"), Key("server.pem"));
  EXPECT_THAT(identity.status().message(),
              HasSubstr("tls.key_file: " + Certs().Path("server.pem") + " holds no PEM private key"));
}

TEST(LoadIdentityTest, AnEncryptedKeyIsRefusedWithoutPrompting) {
  absl::StatusOr<Identity> identity = LoadIdentity(Cert("server.pem"), Key("encrypted.key"));
  EXPECT_EQ(identity.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(identity.status().message(), HasSubstr("encrypted private key"));
}

TEST(LoadCaBundleTest, ReadsCertificatesAndRefusesOtherFiles) {
  absl::StatusOr<std::string> bundle = LoadCaBundle({"tls.client_ca_file", Certs().Path("ca.pem")});
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(*bundle, Certs().Read("ca.pem"));
  bundle = LoadCaBundle({"providers[0].ca_file", Certs().Path("ca.key")});
  EXPECT_THAT(std::string(bundle.status().message()),
              StartsWith("providers[0].ca_file: " + Certs().Path("ca.key") + " holds no PEM"));
}

}  // namespace
}  // namespace llmgateway::tls
