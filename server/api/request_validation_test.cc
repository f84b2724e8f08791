#include "server/api/request_validation.h"

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/common/status_details.h"

namespace llmgateway {
namespace {

v1::GenerateRequest Parse(const std::string& text) {
  v1::GenerateRequest request;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &request)) << text;
  return request;
}

TEST(RequestValidationTest, MediaOverTheCapNamesThePart) {
  v1::GenerateRequest request = Parse(R"pb(
    model: "m"
    messages { role: ROLE_USER parts { text: "look" } parts { media { mime_type: "image/png" } } }
  )pb");
  request.mutable_messages(0)->mutable_parts(1)->mutable_media()->set_data(
      std::string((20 << 20) + 1, 'x'));
  absl::Status status = ValidateGenerateRequest(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().rfind("messages[0].parts[1].media.data:", 0), 0u) << status;
}

TEST(RequestValidationTest, TooManyMessagesNamesTheLimit) {
  v1::GenerateRequest request = Parse(R"pb(model: "m")pb");
  for (int i = 0; i < 4; ++i) {
    v1::Message* message = request.add_messages();
    message->set_role(v1::ROLE_USER);
    message->add_parts()->set_text("hi");
  }
  RequestLimits limits;
  limits.max_messages = 4;
  EXPECT_TRUE(ValidateGenerateRequest(request, limits).ok());
  limits.max_messages = 3;
  absl::Status status = ValidateGenerateRequest(request, limits);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "messages: has 4 messages; at most 3 are accepted (limits.max_messages_per_request)");
}

TEST(RequestValidationTest, MediaOfAllPartsTogetherIsCapped) {
  v1::GenerateRequest request = Parse(R"pb(
    model: "m"
    messages { role: ROLE_USER parts { media { mime_type: "image/png" data: "0123456789" } } }
    messages {
      role: ROLE_USER
      parts { text: "and" }
      parts { media { mime_type: "image/png" data: "0123456789" } }
    }
  )pb");
  RequestLimits limits;
  limits.max_media_bytes = 20;
  EXPECT_TRUE(ValidateGenerateRequest(request, limits).ok());
  limits.max_media_bytes = 19;
  absl::Status status = ValidateGenerateRequest(request, limits);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "messages[1].parts[1].media.data: brings the request's inline media to 20 bytes; "
            "at most 19 are accepted per request (limits.max_media_bytes_per_request)");
}

TEST(RequestValidationTest, ProcessLimitsApplyToTheOneArgumentForm) {
  v1::GenerateRequest request = Parse(R"pb(
    model: "m"
    messages { role: ROLE_USER parts { text: "a" } }
    messages { role: ROLE_USER parts { text: "b" } }
  )pb");
  SetRequestLimits(RequestLimits{1, 1 << 20});
  EXPECT_EQ(ValidateGenerateRequest(request).code(), absl::StatusCode::kInvalidArgument);
  SetRequestLimits(RequestLimits{});
  EXPECT_TRUE(ValidateGenerateRequest(request).ok());
}

TEST(RequestValidationTest, AcceptsPromptAndMessages) {
  EXPECT_TRUE(ValidateGenerateRequest(Parse(R"pb(model: "m" prompt: "hi")pb")).ok());
  EXPECT_TRUE(ValidateGenerateRequest(Parse(R"pb(
                model: "m"
                messages { role: ROLE_SYSTEM parts { text: "be brief" } }
                messages { role: ROLE_USER parts { text: "hi" } }
                config { temperature: 0.2 max_output_tokens: 10 }
              )pb"))
                  .ok());
}

TEST(RequestValidationTest, LabelsFollowCloudLabelRules) {
  v1::GenerateRequest request = Parse(R"pb(model: "m" prompt: "hi")pb");
  (*request.mutable_labels())["team"] = "search-ranking_2";
  (*request.mutable_labels())["empty"] = "";
  EXPECT_TRUE(ValidateGenerateRequest(request).ok());
  (*request.mutable_labels())[std::string(64, 'k')] = "v";
  EXPECT_EQ(ValidateGenerateRequest(request).code(), absl::StatusCode::kInvalidArgument);
  request.mutable_labels()->clear();
  (*request.mutable_labels())["team"] = std::string(64, 'v');
  EXPECT_EQ(ValidateGenerateRequest(request).code(), absl::StatusCode::kInvalidArgument);
  request.mutable_labels()->clear();
  for (int i = 0; i < kMaxLabels + 1; ++i) (*request.mutable_labels())["k" + std::to_string(i)] = "";
  absl::Status too_many = ValidateGenerateRequest(request);
  EXPECT_EQ(too_many.message(), "labels: 65 labels; at most 64");
  // A bad key is escaped in the message, not echoed raw.
  request.mutable_labels()->clear();
  (*request.mutable_labels())["a\nb"] = "";
  EXPECT_NE(ValidateGenerateRequest(request).message().find("a\\nb"), std::string::npos);
}

struct BadCase {
  std::string request;
  std::string field;
};

class BadRequestTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadRequestTest, IsInvalidArgumentNamingTheField) {
  absl::Status status = ValidateGenerateRequest(Parse(GetParam().request));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().substr(0, GetParam().field.size() + 1),
            GetParam().field + ":")
      << status;
  auto info = GetErrorInfo(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "INVALID_REQUEST");
  EXPECT_EQ(info->metadata().at("field"), GetParam().field);
}

INSTANTIATE_TEST_SUITE_P(
    Fields, BadRequestTest,
    ::testing::Values(
        BadCase{R"pb(prompt: "hi")pb", "model"},
        BadCase{R"pb(model: "m" prompt: "hi" labels { key: "Team" value: "x" })pb", "labels"},
        BadCase{R"pb(model: "m" prompt: "hi" labels { key: "9lives" value: "x" })pb", "labels"},
        BadCase{R"pb(model: "m" prompt: "hi" labels { key: "team" value: "a b" })pb",
                "labels[team]"},
        BadCase{R"pb(model: "m")pb", "messages"},
        BadCase{R"pb(model: "m" prompt: "a" messages { role: ROLE_USER parts { text: "b" } })pb",
                "prompt"},
        BadCase{R"pb(model: "m" messages { parts { text: "b" } })pb", "messages[0].role"},
        BadCase{R"pb(model: "m" messages { role: 42 parts { text: "b" } })pb",
                "messages[0].role"},
        BadCase{R"pb(model: "m" messages { role: ROLE_USER })pb", "messages[0].parts"},
        BadCase{R"pb(model: "m" messages { role: ROLE_USER parts {} })pb",
                "messages[0].parts[0]"},
        BadCase{R"pb(model: "m"
                     messages { role: ROLE_USER parts { text: "x" } }
                     messages { role: ROLE_TOOL parts { tool_result { content: "1" } } })pb",
                "messages[1].parts[0].tool_result.tool_call_id"},
        BadCase{R"pb(model: "m" messages { role: ROLE_USER parts { media { data: "x" } } })pb",
                "messages[0].parts[0].media.mime_type"},
        BadCase{R"pb(model: "m" prompt: "x" config { max_output_tokens: -5 })pb",
                "config.max_output_tokens"},
        BadCase{R"pb(model: "m" prompt: "x" config { max_output_tokens: 0 })pb",
                "config.max_output_tokens"},
        BadCase{R"pb(model: "m" prompt: "x" config { temperature: 3 })pb",
                "config.temperature"},
        BadCase{R"pb(model: "m" prompt: "x" config { top_p: -0.1 })pb", "config.top_p"},
        BadCase{R"pb(model: "m" prompt: "x" config { stop_sequences: "" })pb",
                "config.stop_sequences[0]"},
        BadCase{R"pb(model: "m" prompt: "x" routing { max_attempts: 0 })pb",
                "routing.max_attempts"},
        BadCase{R"pb(model: "m" prompt: "x" routing { attempt_timeout { seconds: -1 } })pb",
                "routing.attempt_timeout"}));

}  // namespace
}  // namespace llmgateway
