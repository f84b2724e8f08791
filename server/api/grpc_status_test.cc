#include "server/api/grpc_status.h"

#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "server/common/status_details.h"

namespace llmgateway {
namespace {

TEST(GrpcStatusTest, OkIsOk) { EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok()); }

TEST(GrpcStatusTest, CodeMessageAndDetailsCross) {
  absl::Status status = WithRetryInfo(
      WithErrorInfo(absl::ResourceExhaustedError("slow down"), "RATE_LIMITED",
                    {{kMetaProvider, "openai"}}),
      absl::Seconds(2));
  grpc::Status grpc_status = ToGrpcStatus(status);
  EXPECT_EQ(grpc_status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(grpc_status.error_message(), "slow down");
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(grpc_status.error_details()));
  EXPECT_EQ(rpc.code(), 8);
  bool saw_info = false, saw_retry = false;
  for (const google::protobuf::Any& any : rpc.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&info)) {
      saw_info = true;
      EXPECT_EQ(info.reason(), "RATE_LIMITED");
      EXPECT_EQ(info.domain(), "llmgateway");
      EXPECT_EQ(info.metadata().at("provider"), "openai");
    } else if (any.UnpackTo(&retry)) {
      saw_retry = true;
      EXPECT_EQ(retry.retry_delay().seconds(), 2);
    }
  }
  EXPECT_TRUE(saw_info);
  EXPECT_TRUE(saw_retry);
}

TEST(GrpcStatusTest, ErrorWithoutInfoGetsOneFromItsCode) {
  google::rpc::Status rpc = ToRpcStatus(absl::UnimplementedError("later"));
  ASSERT_EQ(rpc.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "UNIMPLEMENTED");
  EXPECT_EQ(info.domain(), "llmgateway");
}

}  // namespace
}  // namespace llmgateway
