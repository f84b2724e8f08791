#include "server/api/batch_job_validation.h"

#include <string>

#include "gtest/gtest.h"
#include "server/common/status_details.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::CreateBatchJobRequest;

CreateBatchJobRequest Job(int items) {
  CreateBatchJobRequest request;
  for (int i = 0; i < items; ++i) {
    auto* item = request.add_items();
    item->mutable_request()->set_model("m");
    item->mutable_request()->set_prompt("hi");
  }
  return request;
}

void ExpectField(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message().substr(0, field.size() + 1), field + ":") << status;
  std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->metadata().at("field"), field);
}

TEST(BatchJobValidationTest, AGoodJobPasses) {
  EXPECT_TRUE(ValidateCreateBatchJobRequest(Job(3), 10).ok());
}

TEST(BatchJobValidationTest, TheFirstBadItemIsNamedWithItsIndexAndField) {
  CreateBatchJobRequest request = Job(5);
  request.mutable_items(3)->mutable_request()->clear_model();
  request.mutable_items(4)->mutable_request()->clear_prompt();
  ExpectField(ValidateCreateBatchJobRequest(request, 10), "items[3].request.model");
}

TEST(BatchJobValidationTest, JobFieldsAreChecked) {
  ExpectField(ValidateCreateBatchJobRequest(Job(0), 10), "items");
  ExpectField(ValidateCreateBatchJobRequest(Job(11), 10), "items");
  CreateBatchJobRequest long_id = Job(1);
  long_id.set_request_id(std::string(129, 'x'));
  ExpectField(ValidateCreateBatchJobRequest(long_id, 10), "request_id");
  long_id.set_request_id(std::string(128, 'x'));
  EXPECT_TRUE(ValidateCreateBatchJobRequest(long_id, 10).ok());
  CreateBatchJobRequest negative = Job(1);
  negative.set_max_concurrency(-1);
  ExpectField(ValidateCreateBatchJobRequest(negative, 10), "max_concurrency");
}

}  // namespace
}  // namespace llmgateway
