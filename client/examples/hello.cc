#include <iostream>

#include "client/gateway_client.h"

int main(int argc, char** argv) {
  llmgateway::client::ClientOptions options;
  options.target = argc > 1 ? argv[1] : "localhost:50051";
  llmgateway::client::GatewayClient client(options);

  llmgateway::v1::GenerateRequest request;
  request.set_model("fake-model");
  request.set_prompt("Hello!");
  auto reply = client.Generate(request);
  if (!reply.ok()) {
    std::cerr << reply.status() << "\n";
    return 1;
  }
  std::cout << reply->text() << "\n";

  absl::Status streamed = client.GenerateStream(request, [](const auto& chunk) {
    std::cout << chunk.text() << std::flush;
    return true;  // false cancels the stream
  });
  std::cout << "\n" << streamed << "\n";
}
