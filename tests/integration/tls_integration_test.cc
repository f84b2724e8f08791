// TLS through the real llm_gateway binary (issue 16): the gRPC port with TLS
// and mTLS, certificates reloaded on SIGHUP, start-up refusing bad TLS
// files, and an https:// upstream (fakellm over TLS) trusted through a
// provider's ca_file. Certificates are made at test time (tests/tls).
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/credentials.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/subprocess.h"
#include "tests/tls/test_certs.h"

namespace llmgateway {
namespace {

using ::llmgateway::testing::CallError;
using ::llmgateway::testing::Decode;
using ::llmgateway::testing::RunfilePath;
using ::llmgateway::testing::RunToExit;
using ::llmgateway::testing::StartFakeLlm;
using ::llmgateway::testing::StartGateway;
using ::llmgateway::testing::Subprocess;
using ::llmgateway::testing::TempPath;
using ::llmgateway::testing::TestCerts;
using ::llmgateway::testing::WriteFile;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;
using ::llmgateway::v1::GenerateStreamResponse;
using ::testing::HasSubstr;
using ::testing::Not;

const TestCerts& Certs() {
  static const auto* certs = new TestCerts("tls_integration");
  return *certs;
}

// One plaintext fakellm for every gateway here.
class FakeLlmEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { fakellm = StartFakeLlm("tls-fakellm.log"); }
  void TearDown() override { fakellm.reset(); }
  std::unique_ptr<Subprocess> fakellm;
};
FakeLlmEnvironment* const environment = static_cast<FakeLlmEnvironment*>(
    ::testing::AddGlobalTestEnvironment(new FakeLlmEnvironment()));

Subprocess& FakeLlm() { return *environment->fakellm; }

// TLS client credentials trusting `ca` ("" : plaintext), presenting the
// certificate `client` ("": none).
std::shared_ptr<grpc::ChannelCredentials> Credentials(const std::string& ca,
                                                      const std::string& client = "") {
  if (ca.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = Certs().Read(ca);
  if (!client.empty()) {
    options.pem_cert_chain = Certs().Read(client + ".pem");
    options.pem_private_key = Certs().Read(client + ".key");
  }
  return grpc::SslCredentials(options);
}

// A channel that makes its own connection (no subchannel shared with
// earlier channels), so it sees the certificate served now.
std::shared_ptr<grpc::Channel> NewChannel(const Subprocess& gateway,
                                          std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", gateway.port()), credentials,
                                   args);
}

struct CallResult {
  grpc::Status status;
  std::string text;
  // The gateway's certificate's CN, as the client saw it.
  std::string server_cn;
};

CallResult Generate(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::Generation::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  GenerateRequest request;
  request.set_model("tls-test");
  request.set_prompt("hello over TLS");
  GenerateResponse response;
  CallResult result;
  result.status = stub->Generate(&context, request, &response);
  result.text = response.text();
  if (std::shared_ptr<const grpc::AuthContext> auth = context.auth_context()) {
    for (const grpc::string_ref& cn : auth->FindPropertyValues("x509_common_name")) {
      result.server_cn.assign(cn.data(), cn.size());
    }
  }
  return result;
}

std::string ServerCn(const Subprocess& gateway) {
  return Generate(NewChannel(gateway, Credentials("ca.pem"))).server_cn;
}

std::unique_ptr<Subprocess> TlsGateway(const std::string& name,
                                       std::vector<std::string> extra_args = {}) {
  std::vector<std::string> args = {"--tls_cert=" + Certs().Path("server.pem"),
                                   "--tls_key=" + Certs().Path("server.key")};
  for (std::string& arg : extra_args) args.push_back(std::move(arg));
  return StartGateway(testing::FakeLlmBaseUrl(FakeLlm()), std::move(args), name + ".log");
}

TEST(TlsIntegrationTest, GenerateAndStreamOverTls) {
  std::unique_ptr<Subprocess> gateway = TlsGateway("tls-roundtrip");
  std::shared_ptr<grpc::Channel> channel = NewChannel(*gateway, Credentials("ca.pem"));
  CallResult unary = Generate(channel);
  ASSERT_TRUE(unary.status.ok()) << unary.status.error_message();
  EXPECT_FALSE(unary.text.empty());
  EXPECT_EQ(unary.server_cn, "gateway-1");

  auto stub = v1::Generation::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  GenerateRequest request;
  request.set_model("tls-test");
  request.set_prompt("stream over TLS");
  auto reader = stub->GenerateStream(&context, request);
  GenerateStreamResponse message;
  std::string text;
  int messages = 0;
  while (reader->Read(&message)) {
    text += message.text();
    ++messages;
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(messages, 1);
  EXPECT_FALSE(text.empty());
  EXPECT_THAT(gateway->ReadStderr(), HasSubstr("TLS on the gRPC port: CN=gateway-1"));
}

TEST(TlsIntegrationTest, PlaintextAndUntrustingClientsAreRefused) {
  std::unique_ptr<Subprocess> gateway = TlsGateway("tls-refused");
  CallResult plaintext = Generate(NewChannel(*gateway, Credentials("")));
  EXPECT_EQ(plaintext.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // A client that trusts another CA does not accept the gateway.
  CallResult untrusting = Generate(NewChannel(*gateway, Credentials("other_ca.pem")));
  EXPECT_EQ(untrusting.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // And the gateway still serves a client that does.
  EXPECT_TRUE(Generate(NewChannel(*gateway, Credentials("ca.pem"))).status.ok());
}

TEST(TlsIntegrationTest, MutualTlsRequiresAClientCertificateFromTheCa) {
  std::unique_ptr<Subprocess> gateway =
      TlsGateway("tls-mtls", {"--tls_client_ca=" + Certs().Path("ca.pem")});
  CallResult with_cert = Generate(NewChannel(*gateway, Credentials("ca.pem", "client")));
  EXPECT_TRUE(with_cert.status.ok()) << with_cert.status.error_message();
  CallResult without = Generate(NewChannel(*gateway, Credentials("ca.pem")));
  EXPECT_EQ(without.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  CallResult stranger = Generate(NewChannel(*gateway, Credentials("ca.pem", "other_client")));
  EXPECT_EQ(stranger.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(gateway->ReadStderr(), HasSubstr("client certificates required"));
}

TEST(TlsIntegrationTest, LlmgwSpeaksTlsAndMutualTls) {
  std::unique_ptr<Subprocess> gateway =
      TlsGateway("tls-llmgw", {"--tls_client_ca=" + Certs().Path("ca.pem")});
  const std::string llmgw = absl::StrCat(RunfilePath("client/llmgw"),
                                         " --addr=127.0.0.1:", gateway->port(),
                                         " --max_attempts=1 --model=tls-test");
  const std::string client_cert = " --tls_cert=" + Certs().Path("client.pem") +
                                  " --tls_key=" + Certs().Path("client.key");
  testing::RunResult run =
      RunToExit(llmgw + " --tls_ca=" + Certs().Path("ca.pem") + client_cert + " generate hi");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_FALSE(run.output.empty());
  // No client certificate: the handshake fails, UNAVAILABLE (14).
  run = RunToExit(llmgw + " --tls_ca=" + Certs().Path("ca.pem") + " generate hi");
  EXPECT_EQ(run.exit_code, 14) << run.output;
  // The system's CAs do not know the test CA.
  run = RunToExit(llmgw + " --tls" + client_cert + " generate hi");
  EXPECT_EQ(run.exit_code, 14) << run.output;
  run = RunToExit(llmgw + " --tls_ca=" + Certs().Path("nope.pem") + " generate hi");
  EXPECT_EQ(run.exit_code, 64);
  EXPECT_THAT(run.output, HasSubstr("cannot read " + Certs().Path("nope.pem")));
}

TEST(TlsIntegrationTest, OptionalClientCertificatesAreCheckedWhenPresented) {
  const std::string config = TempPath("tls-optional.textproto");
  WriteFile(config, absl::StrCat("tls { cert_file: \"", Certs().Path("server.pem"),
                                 "\" key_file: \"", Certs().Path("server.key"),
                                 "\" client_ca_file: \"", Certs().Path("ca.pem"),
                                 "\" client_cert_optional: true }\n"));
  std::unique_ptr<Subprocess> gateway = StartGateway(
      testing::FakeLlmBaseUrl(FakeLlm()), {"--config=" + config}, "tls-optional.log");
  EXPECT_TRUE(Generate(NewChannel(*gateway, Credentials("ca.pem"))).status.ok());
  EXPECT_TRUE(Generate(NewChannel(*gateway, Credentials("ca.pem", "client"))).status.ok());
  EXPECT_EQ(Generate(NewChannel(*gateway, Credentials("ca.pem", "other_client"))).status
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST(TlsIntegrationTest, SighupReloadsTheCertificateForNewConnections) {
  const std::string cert = TempPath("tls-reload.pem");
  const std::string key = TempPath("tls-reload.key");
  WriteFile(cert, Certs().Read("server.pem"));
  WriteFile(key, Certs().Read("server.key"));
  std::unique_ptr<Subprocess> gateway =
      StartGateway(testing::FakeLlmBaseUrl(FakeLlm()), {"--tls_cert=" + cert, "--tls_key=" + key},
                   "tls-reload.log");
  std::shared_ptr<grpc::Channel> old_connection = NewChannel(*gateway, Credentials("ca.pem"));
  ASSERT_EQ(Generate(old_connection).server_cn, "gateway-1");

  // Rotating the files alone changes nothing, even after gRPC's provider has
  // polled its files twice (once a second).
  WriteFile(cert, Certs().Read("server2.pem"));
  WriteFile(key, Certs().Read("server2.key"));
  absl::SleepFor(absl::Milliseconds(2500));
  EXPECT_EQ(ServerCn(*gateway), "gateway-1");

  const absl::Time signalled = absl::Now();
  gateway->Signal(SIGHUP);
  EXPECT_THAT(gateway->WaitForStderr("SIGHUP: TLS certificates reloaded"),
              HasSubstr("SIGHUP: TLS certificates reloaded (CN=gateway-2"));
  std::string cn;
  for (const absl::Time give_up = absl::Now() + absl::Seconds(10);
       absl::Now() < give_up && cn != "gateway-2"; absl::SleepFor(absl::Milliseconds(200))) {
    cn = ServerCn(*gateway);
  }
  EXPECT_EQ(cn, "gateway-2");
  // Expected: up to gRPC's 1 s poll plus a handshake (200 ms steps).
  std::printf("new certificate seen by a new connection %lld ms after SIGHUP\n",
              static_cast<long long>(absl::ToInt64Milliseconds(absl::Now() - signalled)));
  // A connection made before the reload goes on working.
  EXPECT_TRUE(Generate(old_connection).status.ok());

  // Half a rotation (a new certificate, the old key): refused, and the
  // gateway keeps serving gateway-2.
  WriteFile(cert, Certs().Read("server.pem"));
  gateway->Signal(SIGHUP);
  EXPECT_THAT(gateway->WaitForStderr("TLS reload failed"),
              HasSubstr("TLS reload failed, still serving the previous certificates: "
                        "tls.key_file: the private key in " + key + " does not match"));
  absl::SleepFor(absl::Milliseconds(2500));
  CallResult after = Generate(NewChannel(*gateway, Credentials("ca.pem")));
  EXPECT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(after.server_cn, "gateway-2");
}

TEST(TlsIntegrationTest, StartUpFailsNamingTheTlsFieldAndPath) {
  const std::string gateway = RunfilePath("server/llm_gateway");
  const std::string base = " --listen=127.0.0.1:0 --openai_base_url=http://127.0.0.1:1/v1";
  testing::RunResult run =
      RunToExit(gateway + base + " --tls_cert=" + Certs().Path("server.pem"));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.output, HasSubstr("tls.key_file: is required with tls.cert_file"));

  const std::string missing = Certs().Path("no-such.pem");
  run = RunToExit(gateway + base + " --tls_cert=" + missing +
                  " --tls_key=" + Certs().Path("server.key"));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.output, HasSubstr("tls.cert_file: cannot read " + missing));

  run = RunToExit(gateway + base + " --tls_cert=" + Certs().Path("server.pem") +
                  " --tls_key=" + Certs().Path("server.key") +
                  " --tls_client_ca=" + Certs().Path("client.key"));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.output, HasSubstr("tls.client_ca_file: " + Certs().Path("client.key") +
                                    " holds no PEM certificate"));
}

TEST(TlsIntegrationTest, HttpsUpstreamIsTrustedThroughCaFileOnly) {
  std::unique_ptr<Subprocess> https_fakellm =
      StartFakeLlm("tls-https-fakellm.log", {"--tls_cert", Certs().Path("server.pem"),
                                             "--tls_key", Certs().Path("server.key")});
  const std::string base_url = absl::StrCat("https://127.0.0.1:", https_fakellm->port(), "/v1");
  const std::string config = TempPath("tls-upstream.textproto");
  WriteFile(config, absl::StrCat("providers { name: \"openai\" kind: \"openai\" base_url: \"",
                                 base_url, "\" api_key_env: \"OPENAI_API_KEY\" ca_file: \"",
                                 Certs().Path("ca.pem"), "\" }\n"));
  std::unique_ptr<Subprocess> trusting =
      StartGateway(base_url, {"--config=" + config}, "tls-upstream-trusting.log");
  CallResult ok = Generate(NewChannel(*trusting, Credentials("")));
  EXPECT_TRUE(ok.status.ok()) << ok.status.error_message();
  EXPECT_FALSE(ok.text.empty());

  // The system's trust store does not know the test CA.
  std::unique_ptr<Subprocess> default_trust =
      StartGateway(base_url, {}, "tls-upstream-default.log");
  CallResult refused = Generate(NewChannel(*default_trust, Credentials("")));
  const CallError error = Decode(refused.status);
  // The gateway's setup, not an outage: INTERNAL with its own reason, and
  // no retry on the same upstream (one attempt).
  EXPECT_EQ(error.code, grpc::StatusCode::INTERNAL) << error.message;
  EXPECT_EQ(error.info.reason(), "UPSTREAM_TLS_UNTRUSTED");
  EXPECT_THAT(error.message, HasSubstr("TLS certificate the gateway does not trust"));
  EXPECT_THAT(error.message, HasSubstr("ca_file"));
  EXPECT_THAT(error.message, Not(HasSubstr("127.0.0.1")));
  EXPECT_THAT(error.message, Not(HasSubstr(testing::kTestApiKey)));
  const std::string log = default_trust->WaitForStderr("code=INTERNAL");
  EXPECT_THAT(log, HasSubstr("attempts=1 ["));
  EXPECT_THAT(log, HasSubstr("SSL certificate problem"));  // curl's words, for operators
  EXPECT_THAT(log, Not(HasSubstr(testing::kTestApiKey)));
}

}  // namespace
}  // namespace llmgateway
