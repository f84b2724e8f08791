// Calls the gateway through @llm_gateway//client, the C++ client library
// (deadline, retries and keepalive by default), and prints the reply's text.
//
//   generate_with_client HOST:PORT [MODEL [PROMPT]]
//
// Exit 0 with the text on stdout; 1 with the status on stderr; 2 on bad usage.
#include <iostream>
#include <string>

#include "client/gateway_client.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::cerr << "usage: " << argv[0] << " HOST:PORT [MODEL [PROMPT]]\n";
    return 2;
  }
  llmgateway::client::ClientOptions options;
  options.target = argv[1];
  llmgateway::client::GatewayClient client(options);
  llmgateway::v1::GenerateRequest request;
  request.set_model(argc > 2 ? argv[2] : "fake-model");
  request.set_prompt(argc > 3 ? argv[3] : "Hello from a monorepo");
  absl::StatusOr<llmgateway::v1::GenerateResponse> reply = client.Generate(request);
  if (!reply.ok()) {
    std::cerr << "Generate failed: " << reply.status() << "\n";
    return 1;
  }
  std::cout << reply->text() << "\n";
  return 0;
}
