#include "tests/integration/provider_calls.h"

#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace llmgateway::testing {
namespace {

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(30);
}

}  // namespace

v1::GenerateRequest ParseRequest(const std::string& textproto) {
  v1::GenerateRequest request;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(textproto, &request)) << textproto;
  return request;
}

v1::GenerateRequest Prompt(const std::string& model, const std::string& prompt) {
  v1::GenerateRequest request;
  request.set_model(model);
  request.set_prompt(prompt);
  return request;
}

grpc::Status GenerateOn(grpc::Channel& channel, const v1::GenerateRequest& request,
                        v1::GenerateResponse* response) {
  auto stub = v1::Generation::NewStub(channel.shared_from_this());
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  return stub->Generate(&context, request, response);
}

Collected StreamOn(grpc::Channel& channel, const v1::GenerateRequest& request) {
  auto stub = v1::Generation::NewStub(channel.shared_from_this());
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  auto reader = stub->GenerateStream(&context, request);
  Collected collected;
  v1::GenerateStreamResponse message;
  while (reader->Read(&message)) {
    collected.text += message.text();
    collected.messages.push_back(message);
  }
  collected.status = reader->Finish();
  return collected;
}

std::string FakeNumber(const std::string& id, const std::string& prefix) {
  EXPECT_TRUE(absl::StartsWith(id, prefix)) << id;
  return absl::StartsWith(id, prefix) ? id.substr(prefix.size()) : "<no number>";
}

std::vector<RecordedRequest> SentWith(int port, const std::string& marker) {
  std::vector<RecordedRequest> found;
  for (RecordedRequest& r : RecordedRequests(port)) {
    if (absl::StrContains(r.body, marker)) found.push_back(std::move(r));
  }
  return found;
}

RecordedRequest SentOnceWith(int port, const std::string& marker) {
  std::vector<RecordedRequest> found = SentWith(port, marker);
  EXPECT_EQ(found.size(), 1u) << "upstream requests with " << marker;
  return found.empty() ? RecordedRequest{} : found.back();
}

}  // namespace llmgateway::testing
