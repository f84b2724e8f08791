#include "server/api/stream_messages.h"

#include <string>

#include "gtest/gtest.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::GenerateStreamResponse;

GenerateStreamResponse Text(const std::string& text) {
  GenerateStreamResponse m;
  m.set_text(text);
  return m;
}

TEST(StreamMessagesTest, MergesPlainTextUpToTheCap) {
  EXPECT_TRUE(CanMerge(Text("ab"), Text("cd"), 4));
  EXPECT_FALSE(CanMerge(Text("ab"), Text("cde"), 4));
  GenerateStreamResponse first = Text("a");
  first.set_id("chatcmpl-1");
  EXPECT_FALSE(CanMerge(first, Text("b")));
  GenerateStreamResponse reasoning;
  reasoning.mutable_reasoning()->set_text("hmm");
  EXPECT_FALSE(CanMerge(Text("a"), reasoning));
  EXPECT_TRUE(CanMerge(reasoning, reasoning));
}

TEST(StreamMessagesTest, SplitsLargeTextOnCharacterBoundariesKeepingEveryField) {
  // "é" is two bytes: a cut at 5 bytes would fall inside one.
  const std::string text = "abcdé" "fgé" "h";
  GenerateStreamResponse delta = Text(text);
  delta.set_id("chatcmpl-1");
  delta.set_model("m");
  delta.set_finish_reason(v1::FINISH_REASON_STOP);
  delta.mutable_usage()->set_total_tokens(7);
  ASSERT_TRUE(IsLargeDelta(delta, 5));
  std::vector<GenerateStreamResponse> pieces = SplitLargeDelta(std::move(delta), 5);
  ASSERT_GE(pieces.size(), 3u);
  std::string joined;
  for (size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_LE(pieces[i].text().size(), 5u);
    joined += pieces[i].text();
    const bool last = i + 1 == pieces.size();
    EXPECT_EQ(pieces[i].id(), i == 0 ? "chatcmpl-1" : "");
    EXPECT_EQ(pieces[i].has_usage(), last);
    EXPECT_EQ(pieces[i].finish_reason(),
              last ? v1::FINISH_REASON_STOP : v1::FINISH_REASON_UNSPECIFIED);
  }
  EXPECT_EQ(joined, text);
  EXPECT_EQ(pieces[0].text(), "abcd");  // not "abcd" + half of "é"
  EXPECT_EQ(pieces.back().usage().total_tokens(), 7);
}

TEST(StreamMessagesTest, SplitsReasoningThenText) {
  GenerateStreamResponse delta;
  delta.mutable_reasoning()->set_text(std::string(7, 'r'));
  delta.mutable_reasoning()->set_signature("sig");
  delta.set_text(std::string(3, 't'));
  ASSERT_TRUE(IsLargeDelta(delta, 4));
  std::vector<GenerateStreamResponse> pieces = SplitLargeDelta(std::move(delta), 4);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].reasoning().text(), "rrrr");
  EXPECT_EQ(pieces[0].reasoning().signature(), "sig");
  EXPECT_EQ(pieces[1].reasoning().text(), "rrr");
  EXPECT_EQ(pieces[2].text(), "ttt");
}

TEST(StreamMessagesTest, BytesThatAreNotUtf8AreStillCutAtTheCap) {
  GenerateStreamResponse delta = Text(std::string(10, '\x80'));
  std::vector<GenerateStreamResponse> pieces = SplitLargeDelta(std::move(delta), 4);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].text().size(), 4u);
  EXPECT_EQ(pieces[2].text().size(), 2u);
}

TEST(StreamMessagesTest, ADefaultDeltaIsNotLarge) {
  EXPECT_FALSE(IsLargeDelta(Text(std::string(kMaxMessageTextBytes, 'x'))));
  EXPECT_TRUE(IsLargeDelta(Text(std::string(kMaxMessageTextBytes + 1, 'x'))));
}

}  // namespace
}  // namespace llmgateway
