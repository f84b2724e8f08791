// Tests the unary-body plumbing: the prefix on failures, *out untouched by
// one, in place or from a copy alike, and what MoveAnswer hands over.
#include "server/providers/common/response_body.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "simdjson.h"

namespace llmgateway::providers {
namespace {

namespace od = ::simdjson::ondemand;

// Reads {"id": "..."} into r->id, and "text" into the answer's text part.
absl::Status ParseId(const std::string& body, v1::GenerateResponse* out) {
  return ParseResponseBody(
      body, "malformed test body: ",
      [](od::parser& parser, simdjson::padded_string_view json,
         v1::GenerateResponse* r) -> absl::Status {
        od::document doc;
        if (parser.iterate(json).get(doc)) {
          return absl::UnavailableError("not JSON");
        }
        std::string_view id;
        if (doc["id"].get_string().get(id)) {
          return absl::UnavailableError("no id");
        }
        r->set_id(std::string(id));
        r->set_text("t");
        r->mutable_message()->add_parts()->set_text("t");
        return absl::OkStatus();
      },
      out);
}

TEST(ResponseBodyTest, ParsesInPlaceAndFromACopy) {
  std::string tight = R"({"id":"a"})";
  tight.shrink_to_fit();
  std::string roomy;
  roomy.reserve(64 + simdjson::SIMDJSON_PADDING);
  roomy = tight;
  for (const std::string* body : {&tight, &roomy}) {
    v1::GenerateResponse out;
    ASSERT_TRUE(ParseId(*body, &out).ok());
    EXPECT_EQ(out.id(), "a");
    EXPECT_EQ(out.text(), "t");
  }
}

TEST(ResponseBodyTest, FailureIsPrefixedAndLeavesOutAlone) {
  v1::GenerateResponse out;
  out.set_id("before");
  const absl::Status s = ParseId(R"({"x":1})", &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "malformed test body: no id");
  EXPECT_EQ(out.id(), "before");
}

TEST(ResponseBodyTest, MoveAnswerHandsOverWhatParsersSet) {
  v1::GenerateResponse from;
  from.set_id("i");
  from.set_model("m");
  from.set_text("t");
  from.set_finish_reason(v1::FINISH_REASON_STOP);
  from.mutable_message()->set_role(v1::ROLE_ASSISTANT);
  from.mutable_usage()->set_prompt_tokens(3);
  v1::GenerateResponse to;
  to.set_provider("p");
  MoveAnswer(&from, &to);
  EXPECT_EQ(to.id(), "i");
  EXPECT_EQ(to.model(), "m");
  EXPECT_EQ(to.text(), "t");
  EXPECT_EQ(to.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(to.message().role(), v1::ROLE_ASSISTANT);
  EXPECT_EQ(to.usage().prompt_tokens(), 3);
  EXPECT_EQ(to.provider(), "p");  // Not a parser's to set.

  // No usage in the body: none in the answer either.
  v1::GenerateResponse bare;
  MoveAnswer(&bare, &to);
  EXPECT_FALSE(to.has_usage());
}

}  // namespace
}  // namespace llmgateway::providers
