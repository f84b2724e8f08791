// Requests gRPC cannot deserialize, sent as raw bytes through the real
// binary: each is INVALID_ARGUMENT (MALFORMED_REQUEST) saying what could not
// be parsed, for unary and streaming methods alike, with a call log line and
// no stray protobuf line; the server keeps serving.
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "google/protobuf/struct.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "tests/integration/gateway_fixture.h"

namespace llmgateway {
namespace {

testing::Servers* const servers = testing::AddServers("malformed");

// Sends `payload` as the request message of `method`: the call's status.
grpc::Status CallRaw(const std::string& method, const std::string& payload) {
  grpc::GenericStub stub(servers->channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(payload);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer reply;
  std::mutex mu;
  std::condition_variable done;
  std::optional<grpc::Status> status;
  if (absl::EndsWith(method, "Stream")) {
    // A server stream: read until the end, keep the status.
    grpc::CompletionQueue cq;
    auto call = stub.PrepareCall(&context, method, &cq);
    void* tag;
    bool ok;
    call->StartCall(reinterpret_cast<void*>(1));
    cq.Next(&tag, &ok);
    // The last message: it half-closes the call too.
    call->Write(request, grpc::WriteOptions().set_last_message(), reinterpret_cast<void*>(2));
    cq.Next(&tag, &ok);
    grpc::ByteBuffer message;
    do {
      call->Read(&message, reinterpret_cast<void*>(4));
      cq.Next(&tag, &ok);
    } while (ok);
    grpc::Status finished;
    call->Finish(&finished, reinterpret_cast<void*>(5));
    cq.Next(&tag, &ok);
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    return finished;
  }
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &reply,
                 [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   done.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  done.wait(lock, [&] { return status.has_value(); });
  return *status;
}

constexpr char kGenerate[] = "/llmgateway.v1.Generation/Generate";
constexpr char kStream[] = "/llmgateway.v1.Generation/GenerateStream";

TEST(MalformedRequestTest, TruncatedProtobufIsInvalidArgument) {
  for (const char* method : {kGenerate, kStream}) {
    const testing::CallError error = testing::Decode(CallRaw(method, std::string("\x0a\xff", 2)));
    EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT) << method;
    EXPECT_EQ(error.info.reason(), "MALFORMED_REQUEST");
    EXPECT_EQ(error.message,
              "the request is not a valid llmgateway.v1.GenerateRequest (truncated, or nested "
              "deeper than 100 levels)");
  }
}

TEST(MalformedRequestTest, InvalidUtf8NamesTheField) {
  // field 1 (model), 2 bytes: 0xff 0xfe.
  for (const char* method : {kGenerate, kStream}) {
    const testing::CallError error =
        testing::Decode(CallRaw(method, std::string("\x0a\x02\xff\xfe", 4)));
    EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT) << method;
    EXPECT_EQ(error.message,
              "the request is not a valid llmgateway.v1.GenerateRequest: String field "
              "'llmgateway.v1.GenerateRequest.model' contains invalid UTF-8 data");
    EXPECT_EQ(error.info.metadata().at("field"), "model");
  }
}

TEST(MalformedRequestTest, DeepStructNestingIsRefused) {
  v1::GenerateRequest request;
  request.set_model("fake-model");
  request.set_prompt("hi");
  google::protobuf::Struct& options = (*request.mutable_provider_options())["openai"];
  google::protobuf::Struct* level = &options;
  for (int i = 0; i < 1000; ++i) {
    level = (*level->mutable_fields())["x"].mutable_struct_value();
  }
  const testing::CallError error = testing::Decode(CallRaw(kGenerate, request.SerializeAsString()));
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(error.info.reason(), "MALFORMED_REQUEST");
}

TEST(MalformedRequestTest, EachIsLoggedOnceInTheGatewaysFormatAndServingGoesOn) {
  ASSERT_EQ(CallRaw(kGenerate, std::string("\x0a\x02\xff\xfe", 4)).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  const std::string log =
      servers->gateway->WaitForStderr("contains invalid UTF-8 data\"");
  EXPECT_TRUE(absl::StrContains(log, "WARN rpc=Generate request_id=")) << log;
  EXPECT_FALSE(absl::StrContains(log, "libprotobuf")) << log;
  EXPECT_FALSE(absl::StrContains(log, "when parsing a protocol buffer")) << log;

  v1::GenerateRequest good;
  good.set_model("fake-model");
  good.set_prompt("still there?");
  grpc::ClientContext context;
  v1::GenerateResponse response;
  EXPECT_TRUE(v1::Generation::NewStub(servers->channel)->Generate(&context, good, &response).ok());
}

}  // namespace
}  // namespace llmgateway
