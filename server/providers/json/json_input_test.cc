// Tests the padding rules for bodies and SSE data, and which parser reads
// them: the thread's own per caller up to the size limit, a fresh one past
// it, with the event copy released after a huge event.
#include "server/providers/json/json_input.h"

#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace llmgateway::json {
namespace {

namespace od = ::simdjson::ondemand;

TEST(PaddedBodyTest, InPlaceWithSpareCapacity) {
  std::string body;
  body.reserve(100 + simdjson::SIMDJSON_PADDING);
  body = R"({"a":1})";
  simdjson::padded_string copy;
  const simdjson::padded_string_view json = PaddedBody(body, &copy);
  EXPECT_EQ(json.data(), body.data());
  EXPECT_EQ(json.length(), body.size());
  EXPECT_EQ(copy.size(), 0u);
}

TEST(PaddedBodyTest, CopiedWithout) {
  std::string body = R"({"a":1})";
  body.shrink_to_fit();
  ASSERT_LT(body.capacity() - body.size(), simdjson::SIMDJSON_PADDING);
  simdjson::padded_string copy;
  const simdjson::padded_string_view json = PaddedBody(body, &copy);
  EXPECT_NE(json.data(), body.data());
  EXPECT_EQ(json.data(), copy.data());
  EXPECT_EQ(std::string(json), body);
}

TEST(PaddedCopyTest, PaddingIsZeroedInsideTheString) {
  std::string scratch = std::string(200, 'x');
  const simdjson::padded_string_view json = PaddedCopy("{}", &scratch);
  EXPECT_EQ(std::string(json), "{}");
  ASSERT_EQ(scratch.size(), 2 + simdjson::SIMDJSON_PADDING);
  for (size_t i = 2; i < scratch.size(); ++i) EXPECT_EQ(scratch[i], '\0');
}

TEST(PaddedCopyTest, NoAllocationOnceGrown) {
  std::string scratch;
  PaddedCopy(std::string(300, ' '), &scratch);
  const char* buffer = scratch.data();
  const size_t capacity = scratch.capacity();
  // Smaller and equal events reuse the buffer (no shrinking reserve()).
  PaddedCopy("{}", &scratch);
  PaddedCopy(std::string(300, ' '), &scratch);
  EXPECT_EQ(scratch.data(), buffer);
  EXPECT_EQ(scratch.capacity(), capacity);
}

TEST(WithParserTest, OneThreadParserPerCallerUpToTheLimit) {
  od::parser* first = nullptr;
  od::parser* seen = nullptr;
  auto probe = [&](od::parser& parser) {
    seen = &parser;
    return absl::OkStatus();
  };
  ASSERT_TRUE(WithParser(10, probe).ok());
  first = seen;
  ASSERT_TRUE(WithParser(kMaxReusedParserCapacity, probe).ok());
  EXPECT_EQ(seen, first);
  // Past the limit: a parser of its own.
  ASSERT_TRUE(WithParser(kMaxReusedParserCapacity + 1, probe).ok());
  EXPECT_NE(seen, first);
  // Another caller (another lambda) never shares the first one's.
  od::parser* other = nullptr;
  ASSERT_TRUE(WithParser(10, [&](od::parser& parser) {
                other = &parser;
                return absl::OkStatus();
              }).ok());
  EXPECT_NE(other, first);
}

TEST(WithParserTest, PassesTheStatusOn) {
  EXPECT_EQ(
      WithParser(1, [](od::parser&) { return absl::UnavailableError("x"); })
          .message(),
      "x");
}

absl::Status ReadA(od::parser& parser, simdjson::padded_string_view json,
                   int64_t* a) {
  od::document doc;
  if (parser.iterate(json).get(doc)) return absl::UnavailableError("not JSON");
  if (doc["a"].get_int64().get(*a)) return absl::UnavailableError("no a");
  return absl::OkStatus();
}

TEST(ParseBodyTest, ParsesWithAndWithoutSpareCapacity) {
  std::string tight = R"({"a":5})";
  tight.shrink_to_fit();
  std::string roomy;
  roomy.reserve(64 + simdjson::SIMDJSON_PADDING);
  roomy = tight;
  for (const std::string* body : {&tight, &roomy}) {
    int64_t a = 0;
    EXPECT_TRUE(ParseBody(*body, [&](od::parser& parser,
                                     simdjson::padded_string_view json) {
                  return ReadA(parser, json, &a);
                }).ok());
    EXPECT_EQ(a, 5);
  }
}

TEST(ParseEventTest, ParsesAndReleasesTheCopyOnlyAfterAHugeEvent) {
  std::string scratch;
  int64_t a = 0;
  auto parse = [&](od::parser& parser, simdjson::padded_string_view json) {
    return ReadA(parser, json, &a);
  };
  ASSERT_TRUE(ParseEvent(R"({"a":1})", &scratch, parse).ok());
  EXPECT_EQ(a, 1);
  EXPECT_GE(scratch.capacity(), 7 + simdjson::SIMDJSON_PADDING);

  std::string huge = R"({"a":2,"b":")";
  huge.append(kMaxReusedParserCapacity, 'x');
  huge += "\"}";
  ASSERT_TRUE(ParseEvent(huge, &scratch, parse).ok());
  EXPECT_EQ(a, 2);
  EXPECT_LT(scratch.capacity(), 1024u);

  // An error is passed on, and the copy still released.
  huge[0] = '[';
  EXPECT_FALSE(ParseEvent(huge, &scratch, parse).ok());
  EXPECT_LT(scratch.capacity(), 1024u);
}

}  // namespace
}  // namespace llmgateway::json
