#include "server/routing/admission.h"

#include <vector>

#include "gtest/gtest.h"

namespace llmgateway::routing {
namespace {

TEST(AdmissionTest, UnlimitedNeverQueues) {
  QueueBudget budget(0);
  Admission admission(0, &budget);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(admission.TryAcquire());
}

TEST(AdmissionTest, WaitersGetSlotsInArrivalOrder) {
  QueueBudget budget(10);
  Admission admission(2, &budget);
  ASSERT_TRUE(admission.TryAcquire());
  ASSERT_TRUE(admission.TryAcquire());
  EXPECT_FALSE(admission.TryAcquire());
  std::vector<int> order;
  Admission::Ticket t1, t2, t3;
  ASSERT_TRUE(admission.Enqueue([&] { order.push_back(1); }, &t1));
  ASSERT_TRUE(admission.Enqueue([&] { order.push_back(2); }, &t2));
  ASSERT_TRUE(admission.Enqueue([&] { order.push_back(3); }, &t3));
  EXPECT_EQ(budget.queued(), 3u);
  admission.Leave(t2);
  admission.Release();
  admission.Release();
  EXPECT_EQ(order, (std::vector<int>{1, 3}));
  EXPECT_EQ(admission.in_flight(), 2) << "slots passed on, not freed";
  EXPECT_FALSE(admission.TryAcquire());
  admission.Release();
  admission.Release();
  EXPECT_EQ(admission.in_flight(), 0);
  EXPECT_EQ(budget.queued(), 0u);
}

TEST(AdmissionTest, ANewcomerNeverOvertakesAWaiter) {
  QueueBudget budget(10);
  Admission admission(1, &budget);
  ASSERT_TRUE(admission.TryAcquire());
  Admission::Ticket t;
  bool ran = false;
  ASSERT_TRUE(admission.Enqueue([&] { ran = true; }, &t));
  admission.Release();
  EXPECT_TRUE(ran);
  EXPECT_FALSE(admission.TryAcquire());
}

TEST(AdmissionTest, TheSharedBudgetCapsEveryQueue) {
  QueueBudget budget(1);
  Admission a(1, &budget), b(1, &budget);
  ASSERT_TRUE(a.TryAcquire());
  ASSERT_TRUE(b.TryAcquire());
  Admission::Ticket ta, tb;
  EXPECT_TRUE(a.Enqueue([] {}, &ta));
  EXPECT_FALSE(b.Enqueue([] {}, &tb)) << "budget spent by a's waiter";
  a.Leave(ta);
  EXPECT_TRUE(b.Enqueue([] {}, &tb));
}

}  // namespace
}  // namespace llmgateway::routing
