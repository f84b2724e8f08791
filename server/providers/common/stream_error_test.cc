// Tests the stream-ending statuses: the bound on the upstream's words (cut
// at a character), and the reason, code and provider of each status.
#include "server/providers/common/stream_error.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "server/common/status_details.h"

namespace llmgateway::providers {
namespace {

TEST(StreamErrorTest, ShortMessagesStayAsTheyAre) {
  EXPECT_EQ(BoundUpstreamMessage("Overloaded"), "Overloaded");
  const std::string exact(kMaxUpstreamMessageBytes, 'a');
  EXPECT_EQ(BoundUpstreamMessage(exact), exact);
}

TEST(StreamErrorTest, LongMessagesAreCutAtACharacter) {
  EXPECT_EQ(
      BoundUpstreamMessage(std::string(kMaxUpstreamMessageBytes + 1, 'a')),
      std::string(kMaxUpstreamMessageBytes, 'a') + "...");
  // "é" (2 bytes) straddling the limit goes whole.
  std::string s(kMaxUpstreamMessageBytes - 1, 'a');
  s += "\xc3\xa9tail";
  EXPECT_EQ(BoundUpstreamMessage(s),
            std::string(kMaxUpstreamMessageBytes - 1, 'a') + "...");
}

TEST(StreamErrorTest, MidStreamError) {
  const absl::Status s = MidStreamError(absl::StatusCode::kResourceExhausted,
                                        "claude", "slow down");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "provider \"claude\" reported an error mid-stream: slow down");
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "UPSTREAM_STREAM_ERROR");
  EXPECT_EQ(info->metadata().at("provider"), "claude");
}

TEST(StreamErrorTest, MalformedEvent) {
  const absl::Status s =
      MalformedEvent("local", "chat.completion.chunk",
                     absl::UnavailableError("not JSON (simdjson: TAPE_ERROR)"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "provider \"local\" sent a response the gateway could not read: "
            "malformed chat.completion.chunk: not JSON (simdjson: TAPE_ERROR)");
  auto info = GetErrorInfo(s);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "UPSTREAM_BAD_RESPONSE");
  EXPECT_EQ(info->metadata().at("provider"), "local");
}

}  // namespace
}  // namespace llmgateway::providers
