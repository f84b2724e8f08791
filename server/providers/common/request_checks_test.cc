// Tests the request checks the body builders share and the field-details
// convention of their errors.
#include "server/providers/common/request_checks.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"

namespace llmgateway::providers {
namespace {

TEST(RequestChecksTest, PartPath) {
  EXPECT_EQ(PartPath(2, 0), "messages[2].parts[0]");
}

TEST(RequestChecksTest, PromptOrMessages) {
  v1::GenerateRequest r;
  EXPECT_EQ(CheckPromptOrMessages(r).message(),
            "messages: either messages or prompt must be set");
  r.set_prompt("p");
  EXPECT_TRUE(CheckPromptOrMessages(r).ok());
  r.add_messages();
  EXPECT_EQ(CheckPromptOrMessages(r).message(),
            "prompt: must not be set together with messages");
  r.clear_prompt();
  EXPECT_TRUE(CheckPromptOrMessages(r).ok());
}

TEST(RequestChecksTest, Role) {
  v1::Message m;
  for (v1::Role role : {v1::ROLE_SYSTEM, v1::ROLE_DEVELOPER, v1::ROLE_USER,
                        v1::ROLE_ASSISTANT, v1::ROLE_TOOL}) {
    m.set_role(role);
    EXPECT_TRUE(CheckRole(m, 0).ok()) << role;
  }
  m.set_role(v1::ROLE_UNSPECIFIED);
  const absl::Status unset = CheckRole(m, 3);
  EXPECT_EQ(unset.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unset.message(), "messages[3].role: must be set");
  m.set_role(static_cast<v1::Role>(77));
  EXPECT_EQ(CheckRole(m, 1).message(), "messages[1].role: unknown value 77");
}

TEST(RequestChecksTest, ToolChoice) {
  v1::ToolChoice tc;
  EXPECT_TRUE(CheckToolChoice(tc).ok());
  tc.set_function_name("f");
  EXPECT_EQ(CheckToolChoice(tc).message(),
            "tool_choice.function_name: only with MODE_REQUIRED");
  tc.set_mode(v1::ToolChoice::MODE_REQUIRED);
  EXPECT_TRUE(CheckToolChoice(tc).ok());
  tc.clear_function_name();
  tc.set_mode(static_cast<v1::ToolChoice::Mode>(9));
  EXPECT_EQ(CheckToolChoice(tc).message(), "tool_choice.mode: unknown value 9");
  // function_name is looked at first.
  tc.set_function_name("f");
  EXPECT_EQ(CheckToolChoice(tc).message(),
            "tool_choice.function_name: only with MODE_REQUIRED");
}

TEST(RequestChecksTest, WithFieldDetailsNamesTheField) {
  const absl::Status s = WithFieldDetails(
      absl::InvalidArgumentError("messages[0].role: must be set"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "messages[0].role: must be set");
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->metadata().at("field"), "messages[0].role");
}

TEST(RequestChecksTest, WithFieldDetailsLeavesOthersAlone) {
  // Other codes, messages without a field, and statuses with details.
  EXPECT_FALSE(GetErrorInfo(WithFieldDetails(absl::UnavailableError("a: b")))
                   .has_value());
  EXPECT_FALSE(GetErrorInfo(WithFieldDetails(absl::InvalidArgumentError("ab")))
                   .has_value());
  const absl::Status own =
      WithErrorInfo(absl::InvalidArgumentError("x: y"), "MINE");
  EXPECT_EQ(GetErrorInfo(WithFieldDetails(own))->reason(), "MINE");
}

}  // namespace
}  // namespace llmgateway::providers
