// Tests the unsupported-field and provider_options policy: what is listed,
// refused or dropped, what an option overrides, that the first error wins,
// and the options' sorted output.
#include "server/providers/common/field_policy.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"
#include "server/providers/json/json_writer.h"

namespace llmgateway::providers {
namespace {

v1::GenerateRequest WithOptions(const std::string& kind,
                                const std::vector<std::string>& keys) {
  v1::GenerateRequest r;
  google::protobuf::Struct& s = (*r.mutable_provider_options())[kind];
  for (const std::string& k : keys) {
    (*s.mutable_fields())[k].set_number_value(1);
  }
  return r;
}

TEST(FieldPolicyTest, ListedCoversTheFieldsBelow) {
  const std::vector<std::string> unsupported = {"config.reasoning", "tools"};
  const v1::GenerateRequest r;
  const FieldPolicy p(r, "openai", "p", unsupported, false);
  EXPECT_TRUE(p.Listed("config.reasoning"));
  EXPECT_TRUE(p.Listed("config.reasoning.effort"));
  EXPECT_FALSE(p.Listed("config.reasoning_x"));
  EXPECT_FALSE(p.Listed("config"));
  EXPECT_TRUE(p.Listed("tools"));
}

TEST(FieldPolicyTest, RefusedFieldsFailUnlessDropped) {
  const std::vector<std::string> unsupported = {"config.top_k"};
  const v1::GenerateRequest r;
  FieldPolicy strict(r, "openai", "local", unsupported, false);
  EXPECT_TRUE(strict.Send("config.top_p", "top_p"));
  EXPECT_TRUE(strict.ok());
  EXPECT_FALSE(strict.Send("config.top_k", "top_k"));
  const absl::Status& s = strict.status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "config.top_k: not supported by provider \"local\"");
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "UNSUPPORTED_FIELD");
  EXPECT_EQ(info->metadata().at("field"), "config.top_k");
  EXPECT_EQ(info->metadata().at("provider"), "local");

  FieldPolicy dropping(r, "openai", "local", unsupported, true);
  EXPECT_FALSE(dropping.Send("config.top_k", "top_k"));
  EXPECT_FALSE(dropping.Refuse("config.seed"));
  EXPECT_TRUE(dropping.ok());
}

TEST(FieldPolicyTest, TheFirstErrorWins) {
  const v1::GenerateRequest r;
  FieldPolicy p(r, "openai", "p", {}, false);
  p.Fail(absl::InvalidArgumentError("first"));
  p.Refuse("config.seed");
  p.Fail(absl::InvalidArgumentError("third"));
  EXPECT_EQ(p.status().message(), "first");
}

TEST(FieldPolicyTest, ToolSettingsAreCoveredByTools) {
  const std::vector<std::string> unsupported = {"tools"};
  const v1::GenerateRequest r;
  FieldPolicy p(r, "openai", "p", unsupported, true);
  EXPECT_FALSE(p.SendToolSetting("tool_choice", "tool_choice"));
  const std::vector<std::string> none;
  FieldPolicy q(r, "openai", "p", none, false);
  EXPECT_TRUE(q.SendToolSetting("tool_choice", "tool_choice"));
}

TEST(FieldPolicyTest, OptionsOfTheProviderKindOverride) {
  const std::vector<std::string> unsupported = {"config.top_p"};
  const v1::GenerateRequest r = WithOptions("openai", {"top_p", "seed"});
  FieldPolicy p(r, "openai", "p", unsupported, false);
  ASSERT_NE(p.provider_options(), nullptr);
  EXPECT_TRUE(p.Overridden("seed"));
  EXPECT_FALSE(p.Overridden("top_k"));
  // The option wins before the capability is asked: no error.
  EXPECT_FALSE(p.Send("config.top_p", "top_p"));
  EXPECT_FALSE(p.SendToolSetting("config.parallel_tool_calls", "seed"));
  EXPECT_TRUE(p.ok());
  // Another kind's entry is not this adapter's.
  const FieldPolicy other(r, "anthropic", "p", unsupported, false);
  EXPECT_EQ(other.provider_options(), nullptr);
  EXPECT_FALSE(other.Overridden("seed"));
}

TEST(FieldPolicyTest, GatewayKeysCannotBeOverridden) {
  constexpr absl::string_view kKeys[] = {"model", "stream"};
  const v1::GenerateRequest fine = WithOptions("openai", {"top_k"});
  FieldPolicy p(fine, "openai", "p", {}, false);
  p.CheckProviderOptions(kKeys);
  EXPECT_TRUE(p.ok());
  const v1::GenerateRequest bad = WithOptions("openai", {"stream", "model"});
  FieldPolicy q(bad, "openai", "p", {}, false);
  q.CheckProviderOptions(kKeys);
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(q.status().message(),
            "provider_options[\"openai\"].model: set by the gateway");
}

// The object WriteProviderOptions writes its members into.
std::string Written(const FieldPolicy& p) {
  std::string body;
  json::JsonWriter w(&body);
  w.BeginObject();
  p.WriteProviderOptions(w);
  w.EndObject();
  return body;
}

TEST(FieldPolicyTest, WritesOptionsSorted) {
  v1::GenerateRequest r = WithOptions("openai", {"b", "a"});
  (*(*r.mutable_provider_options())["openai"].mutable_fields())["c"]
      .set_string_value("x");
  EXPECT_EQ(Written(FieldPolicy(r, "openai", "p", {}, false)),
            R"({"a":1,"b":1,"c":"x"})");
  const v1::GenerateRequest bare;
  EXPECT_EQ(Written(FieldPolicy(bare, "openai", "p", {}, false)), "{}");
}

}  // namespace
}  // namespace llmgateway::providers
