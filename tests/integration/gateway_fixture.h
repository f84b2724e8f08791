// Test support: starts fakellm and the real gateway binary, and decodes the
// google.rpc details of a failed call, for the integration suites.
#ifndef LLM_GATEWAY_TESTS_INTEGRATION_GATEWAY_FIXTURE_H_
#define LLM_GATEWAY_TESTS_INTEGRATION_GATEWAY_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/integration/subprocess.h"

namespace llmgateway::testing {

// The key the fixture's gateways get in OPENAI_API_KEY: tests check that it
// reaches fakellm and nothing else.
inline constexpr char kTestApiKey[] = "sk-test-SECRET-do-not-log-0123456789";

// $TEST_TMPDIR/name.
std::string TempPath(const std::string& name);

// fakellm with `extra_args` (e.g. {"--api_key", kTestApiKey}).
std::unique_ptr<Subprocess> StartFakeLlm(const std::string& log_name = "fakellm.log",
                                         std::vector<std::string> extra_args = {});

// The gateway with --openai_base_url=base_url plus `extra_args`, and
// `extra_env` ("NAME=value") added to its environment.
std::unique_ptr<Subprocess> StartGateway(const std::string& base_url,
                                         std::vector<std::string> extra_args,
                                         const std::string& log_name,
                                         std::vector<std::string> extra_env = {});

std::string FakeLlmBaseUrl(const Subprocess& fakellm);

std::shared_ptr<grpc::Channel> ChannelTo(const Subprocess& gateway);

// One fakellm and one gateway (in front of it) for a whole test binary:
//   Servers* const servers = AddServers("name");
class Servers : public ::testing::Environment {
 public:
  explicit Servers(std::string name) : name_(std::move(name)) {}
  void SetUp() override;
  void TearDown() override;

  std::unique_ptr<Subprocess> fakellm;
  std::unique_ptr<Subprocess> gateway;
  std::shared_ptr<grpc::Channel> channel;

 private:
  std::string name_;
};

// Registers a Servers environment (logs: $TEST_TMPDIR/<name>-*.log).
Servers* AddServers(const std::string& name);

// What a caller sees of a failed call.
struct CallError {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  google::rpc::ErrorInfo info;
  bool has_retry_info = false;
  google::rpc::RetryInfo retry;
};

CallError Decode(const grpc::Status& status);

}  // namespace llmgateway::testing

#endif  // LLM_GATEWAY_TESTS_INTEGRATION_GATEWAY_FIXTURE_H_
