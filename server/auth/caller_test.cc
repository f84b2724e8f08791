#include "server/auth/caller.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/status_details.h"

namespace llmgateway::auth {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

config::ApiKey Key() {
  config::ApiKey key;
  key.set_id("team-a");
  key.set_sha256(std::string(64, 'a'));
  return key;
}

std::string Reason(const absl::Status& status) {
  auto info = GetErrorInfo(status);
  return info.has_value() ? info->reason() : "";
}

TEST(CallerTest, NoLimitsAdmitsEverything) {
  Caller caller(Key(), kStart);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(caller.Admit("any-model", kStart).ok());
  caller.Charge(1'000'000, kStart);
  EXPECT_TRUE(caller.Admit("any-model", kStart).ok());
  EXPECT_TRUE(caller.OpenStream().ok());
}

TEST(CallerTest, ModelsAreExactOrPrefixed) {
  config::ApiKey key = Key();
  key.add_models("fast");
  key.add_models("gpt-4o*");
  Caller caller(key, kStart);
  EXPECT_TRUE(caller.Admit("fast", kStart).ok());
  EXPECT_TRUE(caller.Admit("gpt-4o", kStart).ok());
  EXPECT_TRUE(caller.Admit("gpt-4o-mini", kStart).ok());
  for (absl::string_view denied : {"fast2", "fas", "gpt-4", "smart"}) {
    absl::Status status = caller.Admit(denied, kStart);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << denied;
    EXPECT_EQ(Reason(status), "MODEL_NOT_ALLOWED");
    EXPECT_THAT(status.message(), HasSubstr(absl::StrCat("\"", denied, "\"")));
    EXPECT_THAT(status.message(), HasSubstr("team-a"));
  }
}

TEST(CallerTest, RequestRateBurstsToTheLimitThenRefillsEvenly) {
  config::ApiKey key = Key();
  key.set_requests_per_minute(60);  // one a second
  Caller caller(key, kStart);
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(caller.Admit("m", kStart).ok()) << i;
  absl::Status over = caller.Admit("m", kStart);
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Reason(over), "KEY_REQUEST_RATE_EXCEEDED");
  EXPECT_THAT(over.message(), HasSubstr("60 requests per minute"));
  ASSERT_TRUE(GetRetryInfo(over).has_value());
  EXPECT_EQ(GetRetryInfo(over)->retry_delay().seconds(), 1);
  // Half a second later: still not a whole request; refused calls took nothing.
  EXPECT_FALSE(caller.Admit("m", kStart + absl::Milliseconds(500)).ok());
  EXPECT_TRUE(caller.Admit("m", kStart + absl::Seconds(1)).ok());
  EXPECT_FALSE(caller.Admit("m", kStart + absl::Seconds(1)).ok());
  // A long pause refills to the limit, not beyond.
  const absl::Time later = kStart + absl::Hours(1);
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(caller.Admit("m", later).ok()) << i;
  EXPECT_FALSE(caller.Admit("m", later).ok());
}

TEST(CallerTest, TokenRateAdmitsWhileNotEmptyAndWaitsOffAnOverdraw) {
  config::ApiKey key = Key();
  key.set_tokens_per_minute(600);  // ten a second
  Caller caller(key, kStart);
  ASSERT_TRUE(caller.Admit("m", kStart).ok());
  caller.Charge(500, kStart);
  ASSERT_TRUE(caller.Admit("m", kStart).ok());  // 100 left
  caller.Charge(700, kStart);                   // 600 overdrawn
  absl::Status over = caller.Admit("m", kStart);
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Reason(over), "KEY_TOKEN_RATE_EXCEEDED");
  ASSERT_TRUE(GetRetryInfo(over).has_value());
  EXPECT_EQ(GetRetryInfo(over)->retry_delay().seconds(), 60);
  EXPECT_FALSE(caller.Admit("m", kStart + absl::Seconds(59)).ok());
  EXPECT_TRUE(caller.Admit("m", kStart + absl::Seconds(61)).ok());
}

TEST(CallerTest, BudgetIsSpentForGood) {
  config::ApiKey key = Key();
  key.set_token_budget(1000);
  Caller caller(key, kStart);
  ASSERT_TRUE(caller.Admit("m", kStart).ok());
  caller.Charge(999, kStart);
  ASSERT_TRUE(caller.Admit("m", kStart).ok());
  caller.Charge(5, kStart);
  EXPECT_EQ(caller.tokens_used(), 1004);
  absl::Status spent = caller.Admit("m", kStart + absl::Hours(24));
  EXPECT_EQ(spent.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Reason(spent), "KEY_TOKEN_BUDGET_EXHAUSTED");
  EXPECT_FALSE(GetRetryInfo(spent).has_value());
  EXPECT_THAT(spent.message(), HasSubstr("budget of 1000 tokens"));
}

TEST(CallerTest, StreamsAreCountedUntilClosed) {
  config::ApiKey key = Key();
  key.set_max_concurrent_streams(2);
  Caller caller(key, kStart);
  ASSERT_TRUE(caller.OpenStream().ok());
  ASSERT_TRUE(caller.OpenStream().ok());
  absl::Status third = caller.OpenStream();
  EXPECT_EQ(third.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Reason(third), "KEY_STREAM_LIMIT");
  caller.CloseStream();
  EXPECT_TRUE(caller.OpenStream().ok());
}

TEST(CallerTest, ConcurrentCallsShareOneCountExactly) {
  config::ApiKey key = Key();
  key.set_requests_per_minute(1000);
  key.set_max_concurrent_streams(3);
  Caller caller(key, kStart);
  std::atomic<int> admitted{0};
  std::atomic<int> peak_streams{0};
  std::atomic<int> open{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) {
        // The clock stands still: no refill, so exactly the burst gets in.
        if (caller.Admit("m", kStart).ok()) ++admitted;
        caller.Charge(1, kStart);
        if (caller.OpenStream().ok()) {
          const int now_open = ++open;
          int peak = peak_streams.load();
          while (now_open > peak && !peak_streams.compare_exchange_weak(peak, now_open)) {
          }
          --open;
          caller.CloseStream();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(admitted.load(), 1000);
  EXPECT_EQ(caller.tokens_used(), 2000);
  EXPECT_LE(peak_streams.load(), 3);
}

}  // namespace
}  // namespace llmgateway::auth
