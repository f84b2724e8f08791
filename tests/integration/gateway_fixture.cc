// Process set-up and error decoding shared by the integration suites.
#include "tests/integration/gateway_fixture.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "google/rpc/status.pb.h"

namespace llmgateway::testing {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

std::unique_ptr<Subprocess> StartFakeLlm(const std::string& log_name,
                                         std::vector<std::string> extra_args) {
  std::vector<std::string> argv = {Python(), RunfilePath("tests/fakellm/fakellm.py"), "--listen",
                                   "127.0.0.1:0"};
  for (std::string& arg : extra_args) argv.push_back(std::move(arg));
  return std::make_unique<Subprocess>(std::move(argv), std::vector<std::string>{},
                                      TempPath(log_name));
}

std::unique_ptr<Subprocess> StartGateway(const std::string& base_url,
                                         std::vector<std::string> extra_args,
                                         const std::string& log_name,
                                         std::vector<std::string> extra_env) {
  std::vector<std::string> argv = {RunfilePath("server/llm_gateway"), "--listen=127.0.0.1:0",
                                   "--openai_base_url=" + base_url};
  // Each gateway its own job store (a store is locked by the process that
  // opened it), unless the test gives one.
  bool has_store = false;
  for (const std::string& arg : extra_args) has_store |= arg.rfind("--batch_store=", 0) == 0;
  if (!has_store) argv.push_back("--batch_store=" + TempPath(log_name + ".db"));
  for (std::string& arg : extra_args) argv.push_back(std::move(arg));
  extra_env.push_back(std::string("OPENAI_API_KEY=") + kTestApiKey);
  return std::make_unique<Subprocess>(std::move(argv), std::move(extra_env), TempPath(log_name));
}

std::string FakeLlmBaseUrl(const Subprocess& fakellm) {
  return absl::StrCat("http://127.0.0.1:", fakellm.port(), "/v1");
}

std::shared_ptr<grpc::Channel> ChannelTo(const Subprocess& gateway) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", gateway.port()),
                             grpc::InsecureChannelCredentials());
}

void Servers::SetUp() {
  fakellm = StartFakeLlm(name_ + "-fakellm.log");
  gateway = StartGateway(FakeLlmBaseUrl(*fakellm), {}, name_ + "-gateway.log");
  channel = ChannelTo(*gateway);
}

void Servers::TearDown() {
  channel.reset();
  gateway.reset();
  fakellm.reset();
}

Servers* AddServers(const std::string& name) {
  return static_cast<Servers*>(::testing::AddGlobalTestEnvironment(new Servers(name)));
}

CallError Decode(const grpc::Status& status) {
  CallError error;
  error.code = status.error_code();
  error.message = status.error_message();
  google::rpc::Status rpc;
  if (rpc.ParseFromString(status.error_details())) {
    for (const auto& any : rpc.details()) {
      if (any.UnpackTo(&error.info)) continue;
      if (any.UnpackTo(&error.retry)) error.has_retry_info = true;
    }
  }
  return error;
}

}  // namespace llmgateway::testing
