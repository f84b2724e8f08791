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

}  // namespace
}  // namespace llmgateway
