// Tests the stream envelope: the first names win, and only the first delta
// and the last message carry it.
#include "server/providers/common/stream_envelope.h"

#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::providers {
namespace {

TEST(StreamEnvelopeTest, FirstNamesWin) {
  StreamEnvelope e("p");
  e.Name("", "");
  e.Name("id1", "");
  e.Name("id2", "m1");
  e.Name("id3", "m2");
  v1::GenerateStreamResponse last;
  e.StampLast(&last);
  EXPECT_EQ(last.id(), "id1");
  EXPECT_EQ(last.model(), "m1");
  EXPECT_EQ(last.provider(), "p");
  EXPECT_EQ(e.provider(), "p");
}

TEST(StreamEnvelopeTest, OnlyTheFirstDelta) {
  StreamEnvelope e("p");
  e.Name("i", "m");
  v1::GenerateStreamResponse first, second;
  e.StampFirst(&first);
  e.StampFirst(&second);
  EXPECT_EQ(first.id(), "i");
  EXPECT_EQ(first.model(), "m");
  EXPECT_EQ(first.provider(), "p");
  EXPECT_EQ(second.ByteSizeLong(), 0u);
  // The last message has it whatever came before.
  v1::GenerateStreamResponse last;
  e.StampLast(&last);
  EXPECT_EQ(last.provider(), "p");
}

TEST(StreamEnvelopeTest, UnnamedStreamStillHasItsProvider) {
  StreamEnvelope e("p");
  v1::GenerateStreamResponse first;
  e.StampFirst(&first);
  EXPECT_EQ(first.provider(), "p");
  EXPECT_TRUE(first.id().empty());
}

}  // namespace
}  // namespace llmgateway::providers
