// Calls llmgateway.v1.Generation/Generate through the stubs generated in
// @llm_gateway and prints the reply's text.
//
//   generate_with_stubs HOST:PORT [MODEL [PROMPT]]
//
// Exit 0 with the text on stdout; 1 with the gRPC status on stderr; 2 on bad
// usage.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "llmgateway/v1/generation.grpc.pb.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::cerr << "usage: " << argv[0] << " HOST:PORT [MODEL [PROMPT]]\n";
    return 2;
  }
  const std::string address = argv[1];
  llmgateway::v1::GenerateRequest request;
  request.set_model(argc > 2 ? argv[2] : "fake-model");
  request.set_prompt(argc > 3 ? argv[3] : "Hello from a monorepo");

  std::unique_ptr<llmgateway::v1::Generation::Stub> stub = llmgateway::v1::Generation::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  llmgateway::v1::GenerateResponse reply;
  const grpc::Status status = stub->Generate(&context, request, &reply);
  if (!status.ok()) {
    std::cerr << "Generate failed: code " << status.error_code() << ": " << status.error_message()
              << "\n";
    return 1;
  }
  std::cout << reply.text() << "\n";
  return 0;
}
