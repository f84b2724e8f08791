#include "server/api/call_tracker.h"

#include <thread>

#include "gtest/gtest.h"
#include "server/common/status_details.h"

namespace llmgateway {
namespace {

TEST(CallTrackerTest, DrainingRefusesNewCallsAndWaitsForRunningOnes) {
  CallTracker tracker;
  ASSERT_TRUE(tracker.Enter().ok());
  ASSERT_TRUE(tracker.Enter().ok());
  tracker.StartDraining();
  const absl::Status refused = tracker.Enter();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorInfo(refused)->reason(), "DRAINING");
  EXPECT_EQ(tracker.in_flight(), 2);
  EXPECT_FALSE(tracker.WaitIdle(absl::Milliseconds(10))) << "two still running";
  std::thread finisher([&] {
    tracker.Exit();
    tracker.Exit();
  });
  EXPECT_TRUE(tracker.WaitIdle(absl::Minutes(1)));
  finisher.join();
  EXPECT_EQ(tracker.in_flight(), 0);
}

TEST(CallTrackerTest, IdleAtOnceWithNothingInFlight) {
  CallTracker tracker;
  tracker.StartDraining();
  EXPECT_TRUE(tracker.WaitIdle(absl::ZeroDuration()));
}

TEST(CallTrackerTest, RefusesCallsBeyondTheLimitUntilOneLeaves) {
  CallTracker tracker;
  tracker.SetLimits(/*max_calls=*/2, /*max_request_bytes=*/0);
  ASSERT_TRUE(tracker.Enter().ok());
  ASSERT_TRUE(tracker.Enter().ok());
  const absl::Status full = tracker.Enter();
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(GetErrorInfo(full)->reason(), "CALLS_IN_FLIGHT_LIMIT");
  EXPECT_NE(full.message().find("limits.max_calls_in_flight"), absl::string_view::npos)
      << full.message();
  EXPECT_TRUE(GetRetryInfo(full).has_value());
  tracker.Exit();
  EXPECT_TRUE(tracker.Enter().ok());
  EXPECT_EQ(tracker.in_flight(), 2);
}

TEST(CallTrackerTest, RefusesRequestBytesBeyondTheBudget) {
  CallTracker tracker;
  tracker.SetLimits(/*max_calls=*/0, /*max_request_bytes=*/100);
  ASSERT_TRUE(tracker.Enter(60).ok());
  const absl::Status full = tracker.Enter(50);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(GetErrorInfo(full)->reason(), "REQUEST_MEMORY_LIMIT");
  EXPECT_NE(full.message().find("limits.max_request_bytes_in_flight"), absl::string_view::npos)
      << full.message();
  EXPECT_TRUE(tracker.Enter(40).ok()) << "what fits still runs";
  tracker.Exit(60);
  EXPECT_TRUE(tracker.Enter(50).ok()) << "the bytes of a finished call are free again";
  EXPECT_EQ(tracker.Enter(101).code(), absl::StatusCode::kResourceExhausted)
      << "larger than the whole budget";
}

}  // namespace
}  // namespace llmgateway
