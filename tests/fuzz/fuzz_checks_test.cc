// The fuzz invariants must themselves be right: a checker that accepts
// everything would make every fuzzer pass.
#include "tests/fuzz/fuzz_checks.h"

#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::fuzz {
namespace {

TEST(IsValidUtf8Test, AcceptsEveryWellFormedLength) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii\n"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80"));
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  EXPECT_TRUE(IsValidUtf8(absl::string_view("a\0b", 3)));
}

TEST(IsValidUtf8Test, RejectsWhatProtobufRejects) {
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // stray continuation
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // cut short
  EXPECT_FALSE(IsValidUtf8("\xE4\xB8"));          // cut short
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // lone surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xC3(")); // bad continuation
}

TEST(FindInvalidUtf8Test, NamesTheNestedField) {
  v1::GenerateResponse response;
  response.set_id("ok");
  response.mutable_message()->add_parts()->set_text("fine");
  response.mutable_message()->add_parts()->set_text("bad \xED\xA0\x80");
  EXPECT_EQ(FindInvalidUtf8(response),
            "message.parts[1].text = \"bad \\xed\\xa0\\x80\"");
  response.mutable_message()->mutable_parts(1)->set_text("fixed");
  EXPECT_EQ(FindInvalidUtf8(response), "");
}

TEST(FindInvalidUtf8Test, LooksInsideMaps) {
  v1::GenerateRequest request;
  (*request.mutable_labels())["team"] = "\xFF";
  EXPECT_NE(FindInvalidUtf8(request), "");
  request.mutable_labels()->clear();
  (*request.mutable_labels())["\xFF"] = "x";
  EXPECT_NE(FindInvalidUtf8(request), "");
}

}  // namespace
}  // namespace llmgateway::fuzz
