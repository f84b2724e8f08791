// Tests the body size estimate: what each item adds, and what the format's
// framing changes.
#include "server/providers/common/body_size.h"

#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::providers {
namespace {

// The estimate before the final 1/16 for escapes.
size_t Raw(size_t estimate) {
  // n + n / 16 == estimate, for the smallest such n.
  size_t n = estimate * 16 / 17;
  while (n + n / 16 < estimate) ++n;
  return n;
}

TEST(BodySizeTest, PromptAndModel) {
  v1::GenerateRequest r;
  r.set_prompt(std::string(100, 'p'));
  r.set_end_user_id("user");
  EXPECT_EQ(Raw(EstimateBodySize(r, "model", nullptr, BodyFraming())),
            256u + 5 + 100 + 4);
}

TEST(BodySizeTest, PartsWithTheFormatsFraming) {
  v1::GenerateRequest r;
  v1::Message* m = r.add_messages();
  m->set_name("bob");
  m->add_parts()->set_text("hello");
  m->add_parts()->mutable_media()->set_data(std::string(30, 'x'));
  m->add_parts()->mutable_reasoning()->set_text("think");
  v1::ToolResult* t = m->add_parts()->mutable_tool_result();
  t->set_tool_call_id("c");
  t->set_content("out");

  BodyFraming plain;
  // 4 parts of 32; media as base64 (40); reasoning left out.
  const size_t base = 256 + 48 + 4 * 32 + 5 + (64 + 40) + (48 + 1 + 3);
  EXPECT_EQ(Raw(EstimateBodySize(r, "", nullptr, plain)), base);

  BodyFraming rich;
  rich.message_name = true;
  rich.media = 96;
  rich.tool_result = 64;
  rich.reasoning = true;
  EXPECT_EQ(Raw(EstimateBodySize(r, "", nullptr, rich)),
            base + 3 + (96 - 64) + (64 - 48) + (64 + 5));
}

TEST(BodySizeTest, ToolsConfigAndOptionsCountTwice) {
  v1::GenerateRequest r;
  v1::Tool* tool = r.add_tools();
  tool->set_name("f");
  (*tool->mutable_parameters()->mutable_fields())["type"].set_string_value(
      "object");
  r.mutable_config()->add_stop_sequences("END");
  v1::ResponseFormat::JsonSchema* schema =
      r.mutable_config()->mutable_response_format()->mutable_json_schema();
  schema->set_name("s");
  google::protobuf::Struct options;
  (*options.mutable_fields())["k"].set_bool_value(true);

  BodyFraming framing;
  framing.json_schema = 160;
  const size_t want = 256 + (64 + 1 + 2 * tool->parameters().ByteSizeLong()) +
                      (4 + 3) + (160 + 2 * schema->ByteSizeLong()) +
                      2 * options.ByteSizeLong();
  EXPECT_EQ(Raw(EstimateBodySize(r, "", &options, framing)), want);
}

TEST(BodySizeTest, GrowsForEscapes) {
  v1::GenerateRequest r;
  r.set_prompt(std::string(1600, 'p'));
  const size_t n = 256 + 1600;
  EXPECT_EQ(EstimateBodySize(r, "", nullptr, BodyFraming()), n + n / 16);
}

}  // namespace
}  // namespace llmgateway::providers
