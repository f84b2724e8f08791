#include "client/batch_jsonl.h"

#include <sstream>
#include <string>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"

namespace llmgateway::client {
namespace {

namespace v1 = ::llmgateway::v1;

constexpr char kLine[] =
    R"({"custom_id": "request-1", "method": "POST", "url": "/v1/chat/completions", )"
    R"("body": {"model": "fake-model", "messages": [{"role": "user", "content": "Hello world!"}], "max_tokens": 1000}})";

TEST(BatchJsonlTest, ReadsOpenAiBatchInputLines) {
  absl::StatusOr<v1::BatchJobItem> item = ParseBatchInputLine(kLine);
  ASSERT_TRUE(item.ok()) << item.status();
  EXPECT_EQ(item->custom_id(), "request-1");
  EXPECT_EQ(item->request().model(), "fake-model");
  EXPECT_EQ(item->request().messages(0).parts(0).text(), "Hello world!");
  EXPECT_EQ(item->request().config().max_output_tokens(), 1000);
}

TEST(BatchJsonlTest, LineErrorsNameTheField) {
  auto error = [](const std::string& line) {
    absl::StatusOr<v1::BatchJobItem> item = ParseBatchInputLine(line);
    EXPECT_FALSE(item.ok()) << line;
    return std::string(item.status().message());
  };
  EXPECT_EQ(error(R"({"body": {}})"), "custom_id: is required (a non-empty string)");
  EXPECT_EQ(error(R"({"custom_id": "a", "url": "/v1/embeddings", "body": {}})"),
            "url: must be \"/v1/chat/completions\" (the only endpoint the gateway batches)");
  EXPECT_EQ(error(R"({"custom_id": "a", "method": "GET", "body": {}})"), "method: must be \"POST\"");
  EXPECT_EQ(error(R"({"custom_id": "a"})"), "body: is required (a chat completions request object)");
  EXPECT_EQ(error(R"({"custom_id": "a", "body": {"messages": []}})"), "body.model: is required");
  EXPECT_EQ(error("[1, 2]").rfind("not a JSON object: ", 0), 0u);
  EXPECT_EQ(error("{\"custom_id\": ").rfind("not a JSON object: ", 0), 0u);
}

TEST(BatchJsonlTest, ReadsAFileSkippingBlankLinesAndNamingTheBadLine) {
  std::istringstream good(std::string(kLine) + "\n\n" +
                          R"({"custom_id": "request-2", "body": {"model": "m", "messages": []}})" + "\n");
  v1::CreateBatchJobRequest request;
  ASSERT_TRUE(ReadBatchInput(good, &request).ok());
  ASSERT_EQ(request.items_size(), 2);
  EXPECT_EQ(request.items(1).custom_id(), "request-2");

  std::istringstream bad(std::string(kLine) + "\n" + R"({"custom_id": "x", "body": {"model": 1}})");
  v1::CreateBatchJobRequest ignored;
  absl::Status status = ReadBatchInput(bad, &ignored);
  EXPECT_EQ(status.message(), "line 2: body.model: must be a string");

  std::istringstream repeated(std::string(kLine) + "\n" + kLine + "\n");
  status = ReadBatchInput(repeated, &ignored);
  EXPECT_EQ(status.message(), "line 2: custom_id \"request-1\" repeats line 1");
}

google::protobuf::Struct ParseOutput(const std::string& line) {
  EXPECT_EQ(line.find('\n'), std::string::npos);
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &s).ok()) << line;
  return s;
}

TEST(BatchJsonlTest, WritesOpenAiBatchOutputForAResponse) {
  v1::BatchJobResult result;
  result.set_index(4);
  result.set_custom_id("req \"4\"\n");
  result.mutable_response()->set_id("gen-1");
  result.mutable_response()->set_text("Hi");
  result.mutable_response()->set_finish_reason(v1::FINISH_REASON_STOP);
  google::protobuf::Struct line = ParseOutput(FormatBatchOutputLine("job-9", result));
  const auto& f = line.fields();
  EXPECT_EQ(f.at("id").string_value(), "job-9-4");
  EXPECT_EQ(f.at("custom_id").string_value(), "req \"4\"\n");
  EXPECT_EQ(f.at("error").kind_case(), google::protobuf::Value::kNullValue);
  const auto& response = f.at("response").struct_value().fields();
  EXPECT_EQ(response.at("status_code").number_value(), 200);
  EXPECT_EQ(response.at("request_id").string_value(), "gen-1");
  const auto& choice = response.at("body").struct_value().fields().at("choices").list_value()
                           .values(0).struct_value().fields();
  EXPECT_EQ(choice.at("message").struct_value().fields().at("content").string_value(), "Hi");
  EXPECT_EQ(choice.at("finish_reason").string_value(), "stop");
}

TEST(BatchJsonlTest, WritesTheReasonAndMessageOfAFailedItem) {
  v1::BatchJobResult result;
  result.set_index(0);
  result.set_custom_id("a");
  result.mutable_error()->set_code(5);
  result.mutable_error()->set_message("model \"nope\" is not configured");
  google::rpc::ErrorInfo info;
  info.set_reason("MODEL_NOT_FOUND");
  result.mutable_error()->add_details()->PackFrom(info);
  google::protobuf::Struct line = ParseOutput(FormatBatchOutputLine("j", result));
  EXPECT_EQ(line.fields().at("response").kind_case(), google::protobuf::Value::kNullValue);
  const auto& error = line.fields().at("error").struct_value().fields();
  EXPECT_EQ(error.at("code").string_value(), "MODEL_NOT_FOUND");
  EXPECT_EQ(error.at("message").string_value(), "model \"nope\" is not configured");

  result.mutable_error()->clear_details();
  line = ParseOutput(FormatBatchOutputLine("j", result));
  EXPECT_EQ(line.fields().at("error").struct_value().fields().at("code").string_value(), "NOT_FOUND");
}

}  // namespace
}  // namespace llmgateway::client
