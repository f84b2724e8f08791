#include "server/tls/server_tls.h"

#include <sys/stat.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/tls/pem_files.h"
#include "tests/tls/test_certs.h"

namespace llmgateway::tls {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using llmgateway::testing::TestCerts;
using llmgateway::testing::WriteFile;

const TestCerts& Certs() {
  static const auto* certs = new TestCerts("server_tls_test");
  return *certs;
}

std::string Content(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile({"test", path});
  return text.ok() ? *text : "(" + std::string(text.status().message()) + ")";
}

long Mtime(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_mtime) : -1;
}

// The files a test rotates: copies of server.pem/.key.
config::ServerTls Rotatable(const std::string& name) {
  config::ServerTls config;
  config.set_cert_file(Certs().Path(name + ".pem"));
  config.set_key_file(Certs().Path(name + ".key"));
  WriteFile(config.cert_file(), Certs().Read("server.pem"));
  WriteFile(config.key_file(), Certs().Read("server.key"));
  return config;
}

TEST(ServerTlsTest, ServesKeyAndChainAsOneFile) {
  absl::StatusOr<std::unique_ptr<ServerTls>> tls = ServerTls::Create(Rotatable("one_file"));
  ASSERT_TRUE(tls.ok()) << tls.status();
  ASSERT_NE((*tls)->credentials(), nullptr);
  EXPECT_EQ(Content((*tls)->identity_path()),
            Certs().Read("server.key") + "\n" + Certs().Read("server.pem"));
  EXPECT_EQ((*tls)->client_ca_path(), "");
  EXPECT_THAT((*tls)->summary(), StartsWith("CN=gateway-1"));
}

TEST(ServerTlsTest, ReloadSwapsTheFileInPlaceWithALaterMtime) {
  const config::ServerTls config = Rotatable("rotate");
  absl::StatusOr<std::unique_ptr<ServerTls>> tls = ServerTls::Create(config);
  ASSERT_TRUE(tls.ok()) << tls.status();
  const std::string path = (*tls)->identity_path();
  const long first_mtime = Mtime(path);

  // Replacing the files alone changes nothing that is served.
  WriteFile(config.cert_file(), Certs().Read("server2.pem"));
  WriteFile(config.key_file(), Certs().Read("server2.key"));
  EXPECT_THAT(Content(path), HasSubstr(Certs().Read("server.pem")));

  absl::StatusOr<std::string> summary = (*tls)->Reload();
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_THAT(*summary, StartsWith("CN=gateway-2"));
  EXPECT_EQ((*tls)->identity_path(), path);
  EXPECT_EQ(Content(path), Certs().Read("server2.key") + "\n" + Certs().Read("server2.pem"));
  // gRPC rereads a pair only if the key file's mtime (seconds) moved.
  EXPECT_GT(Mtime(path), first_mtime);
  const long second_mtime = Mtime(path);
  ASSERT_TRUE((*tls)->Reload().ok());
  EXPECT_GT(Mtime(path), second_mtime);
}

TEST(ServerTlsTest, ABadReloadKeepsServingThePreviousPair) {
  const config::ServerTls config = Rotatable("bad_reload");
  absl::StatusOr<std::unique_ptr<ServerTls>> tls = ServerTls::Create(config);
  ASSERT_TRUE(tls.ok()) << tls.status();
  const std::string served = Content((*tls)->identity_path());

  // Half a rotation: the new certificate with the old key.
  WriteFile(config.cert_file(), Certs().Read("server2.pem"));
  absl::StatusOr<std::string> summary = (*tls)->Reload();
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(summary.status().message(), HasSubstr("does not match"));
  EXPECT_EQ(Content((*tls)->identity_path()), served);
  EXPECT_THAT((*tls)->summary(), StartsWith("CN=gateway-1"));

  WriteFile(config.cert_file(), "");
  EXPECT_THAT((*tls)->Reload().status().message(), HasSubstr("tls.cert_file: "));
  EXPECT_EQ(Content((*tls)->identity_path()), served);
}

TEST(ServerTlsTest, ClientCaIsServedForMutualTls) {
  config::ServerTls config = Rotatable("mtls");
  config.set_client_ca_file(Certs().Path("ca.pem"));
  absl::StatusOr<std::unique_ptr<ServerTls>> tls = ServerTls::Create(config);
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ(Content((*tls)->client_ca_path()), Certs().Read("ca.pem"));

  config.set_client_ca_file(Certs().Path("missing-ca.pem"));
  tls = ServerTls::Create(config);
  EXPECT_EQ(tls.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(tls.status().message()), StartsWith("tls.client_ca_file: cannot read "));
}

}  // namespace
}  // namespace llmgateway::tls
