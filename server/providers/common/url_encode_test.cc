#include "server/providers/common/url_encode.h"

#include "gtest/gtest.h"

namespace llmgateway::providers {
namespace {

TEST(PercentEncodeTest, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(PercentEncode("gpt-4o_mini.v2~x"), "gpt-4o_mini.v2~x");
  EXPECT_EQ(PercentEncode("a/b?c=d&e f"), "a%2Fb%3Fc%3Dd%26e%20f");
  EXPECT_EQ(PercentEncode(std::string("\x00\xff", 2)), "%00%FF");
  EXPECT_EQ(PercentEncode(""), "");
}

}  // namespace
}  // namespace llmgateway::providers
