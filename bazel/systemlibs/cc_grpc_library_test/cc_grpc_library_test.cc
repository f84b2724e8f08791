// The stand-in cc_grpc_library with grpc_only = False: message and service
// code both come from the one target; a call goes through in-process.
#include <memory>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "bazel/systemlibs/cc_grpc_library_test/echo.grpc.pb.h"
#include "bazel/systemlibs/cc_grpc_library_test/echo.pb.h"
#include "bazel/systemlibs/cc_grpc_library_test/ping.grpc.pb.h"
#include "bazel/systemlibs/cc_grpc_library_test/ping_mock.grpc.pb.h"

namespace {

class EchoService final : public ccgrpctest::Echo::Service {
  grpc::Status Echo(grpc::ServerContext*, const ccgrpctest::EchoRequest* request,
                    ccgrpctest::EchoReply* reply) override {
    reply->set_text(request->text() + " after " + std::to_string(request->delay().seconds()) + "s");
    return grpc::Status::OK;
  }
};

TEST(CcGrpcLibraryTest, MessagesAndStubsFromOneTarget) {
  EchoService service;
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  auto stub = ccgrpctest::Echo::NewStub(server->InProcessChannel(grpc::ChannelArguments()));
  ccgrpctest::EchoRequest request;
  request.set_text("hi");
  request.mutable_delay()->set_seconds(2);
  ccgrpctest::EchoReply reply;
  grpc::ClientContext context;
  ASSERT_TRUE(stub->Echo(&context, request, &reply).ok());
  EXPECT_EQ(reply.text(), "hi after 2s");
  server->Shutdown();
}

TEST(CcGrpcLibraryTest, ProtoFileFormWithMocks) {
  ccgrpctest::MockPingStub stub;
  ccgrpctest::PingReply canned;
  canned.set_count(3);
  EXPECT_CALL(stub, Ping(testing::_, testing::_, testing::_))
      .WillOnce(testing::DoAll(testing::SetArgPointee<2>(canned), testing::Return(grpc::Status::OK)));
  google::protobuf::Empty empty;
  ccgrpctest::PingReply reply;
  grpc::ClientContext context;
  ASSERT_TRUE(stub.Ping(&context, empty, &reply).ok());
  EXPECT_EQ(reply.count(), 3);
  EXPECT_EQ(ccgrpctest::Ping::service_full_name(), std::string("ccgrpctest.Ping"));
}

}  // namespace
