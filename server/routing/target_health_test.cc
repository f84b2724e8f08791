#include "server/routing/target_health.h"

#include "gtest/gtest.h"

namespace llmgateway::routing {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1000);

TEST(TargetHealthTest, OpensAfterNFailuresInARow) {
  TargetHealth health({/*failures=*/3, absl::Seconds(30)});
  for (int i = 0; i < 2; ++i) {
    health.OnAttemptStart(kT0);
    health.OnFailure(kT0);
  }
  health.OnAttemptStart(kT0);
  health.OnSuccess();  // resets the streak
  for (int i = 0; i < 2; ++i) {
    health.OnAttemptStart(kT0);
    health.OnFailure(kT0);
  }
  EXPECT_TRUE(health.Available(kT0));
  health.OnAttemptStart(kT0);
  health.OnFailure(kT0);
  EXPECT_FALSE(health.Available(kT0));
  EXPECT_EQ(health.RecoversAt(kT0), kT0 + absl::Seconds(30));
  EXPECT_FALSE(health.Available(kT0 + absl::Seconds(29)));
}

TEST(TargetHealthTest, HalfOpenLetsOneProbeDecide) {
  TargetHealth health({1, absl::Seconds(10)});
  health.OnAttemptStart(kT0);
  health.OnFailure(kT0);
  const absl::Time later = kT0 + absl::Seconds(10);
  ASSERT_TRUE(health.Available(later));
  health.OnAttemptStart(later);  // the probe
  EXPECT_FALSE(health.Available(later)) << "one probe at a time";
  health.OnFailure(later);
  EXPECT_FALSE(health.Available(later + absl::Seconds(9))) << "a failed probe re-opens";
  const absl::Time again = later + absl::Seconds(10);
  ASSERT_TRUE(health.Available(again));
  health.OnAttemptStart(again);
  health.OnSuccess();
  EXPECT_TRUE(health.Available(again));
  health.OnAttemptStart(again);
  EXPECT_TRUE(health.Available(again)) << "closed: no probe limit";
}

TEST(TargetHealthTest, ANeutralOutcomeFreesTheProbeWithoutAVerdict) {
  TargetHealth health({1, absl::Seconds(10)});
  health.OnAttemptStart(kT0);
  health.OnFailure(kT0);
  const absl::Time later = kT0 + absl::Seconds(10);
  health.OnAttemptStart(later);
  health.OnNeutral();  // e.g. the caller cancelled
  EXPECT_TRUE(health.Available(later)) << "another probe may go";
}

TEST(TargetHealthTest, InFlightCounts) {
  TargetHealth health({3, absl::Seconds(1)});
  health.OnAttemptStart(kT0);
  health.OnAttemptStart(kT0);
  EXPECT_EQ(health.in_flight(), 2);
  health.OnSuccess();
  health.OnNeutral();
  EXPECT_EQ(health.in_flight(), 0);
}

}  // namespace
}  // namespace llmgateway::routing
