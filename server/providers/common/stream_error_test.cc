// Tests the stream-ending statuses: the reason, code and provider of each.
// (The bound on the upstream's words: upstream_error_test.)
#include "server/providers/common/stream_error.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "server/common/status_details.h"

namespace llmgateway::providers {
namespace {

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
