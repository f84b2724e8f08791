// Test support for the provider suites (Anthropic, Gemini, Azure): a call
// through a gateway channel as a caller makes it, and what fakellm saw of it.
#ifndef LLM_GATEWAY_TESTS_INTEGRATION_PROVIDER_CALLS_H_
#define LLM_GATEWAY_TESTS_INTEGRATION_PROVIDER_CALLS_H_

#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "tests/integration/fakellm_client.h"

namespace llmgateway::testing {

// A get_weather tool (one string parameter, "query"), as GenerateRequest
// text format to append to a request's.
inline constexpr char kWeatherTool[] = R"pb(
  tools {
    name: "get_weather"
    description: "Current weather for a city"
    parameters {
      fields {
        key: "type"
        value { string_value: "object" }
      }
      fields {
        key: "properties"
        value {
          struct_value {
            fields {
              key: "query"
              value {
                struct_value {
                  fields {
                    key: "type"
                    value { string_value: "string" }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
)pb";

// fakellm numbers every id of one answer alike: "msg_fake_12" with prefix
// "msg_fake_" -> "12" (a failure if `id` lacks the prefix).
std::string FakeNumber(const std::string& id, const std::string& prefix);

// A GenerateRequest in text format (a failure if it does not parse).
llmgateway::v1::GenerateRequest ParseRequest(const std::string& textproto);

llmgateway::v1::GenerateRequest Prompt(const std::string& model, const std::string& prompt);

// Generate with a 30 s deadline.
grpc::Status GenerateOn(grpc::Channel& channel, const llmgateway::v1::GenerateRequest& request,
                        llmgateway::v1::GenerateResponse* response);

// A whole stream, as a caller assembles it.
struct Collected {
  std::vector<llmgateway::v1::GenerateStreamResponse> messages;
  std::string text;
  grpc::Status status;
};

// GenerateStream with a 30 s deadline, read to the end.
Collected StreamOn(grpc::Channel& channel, const llmgateway::v1::GenerateRequest& request);

// Every upstream request fakellm (on `port`) recorded whose body contains
// `marker`, oldest first.
std::vector<RecordedRequest> SentWith(int port, const std::string& marker);

// The one such request (a failure if there is not exactly one).
RecordedRequest SentOnceWith(int port, const std::string& marker);

}  // namespace llmgateway::testing

#endif  // LLM_GATEWAY_TESTS_INTEGRATION_PROVIDER_CALLS_H_
