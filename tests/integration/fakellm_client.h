// Test support: reads what fakellm recorded (GET /_requests, /_stats) so a
// test can check exactly what the gateway sent upstream.
#ifndef LLM_GATEWAY_TESTS_INTEGRATION_FAKELLM_CLIENT_H_
#define LLM_GATEWAY_TESTS_INTEGRATION_FAKELLM_CLIENT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace llmgateway::testing {

struct RecordedRequest {
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // minified JSON
};

// Blocking HTTP GET on 127.0.0.1:port (tests only). Returns the body.
std::string HttpGet(int port, const std::string& path);

// Blocking HTTP request with any method (PUT /_fault, DELETE /_stats, ...)
// on 127.0.0.1:port; `body` is sent as application/json when not empty.
// Returns the response body.
std::string HttpRequest(int port, const std::string& method, const std::string& path,
                        const std::string& body = "");

// Every chat request fakellm has recorded, oldest first.
std::vector<RecordedRequest> RecordedRequests(int port);

// The last recorded request whose body contains `marker`.
std::optional<RecordedRequest> FindRequest(int port, const std::string& marker);

// The value at a JSON pointer ("/messages/0/content") of a JSON text, as
// minified JSON ("\"hi\"", "0.5", "[...]"), or "<missing>".
std::string JsonAt(const std::string& json, const std::string& pointer);

// An integer field of GET /_stats (e.g. "closed_early").
long FakeLlmStat(int port, const std::string& name);

}  // namespace llmgateway::testing

#endif  // LLM_GATEWAY_TESTS_INTEGRATION_FAKELLM_CLIENT_H_
