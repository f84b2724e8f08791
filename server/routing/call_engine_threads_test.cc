// The call engine on the real HTTP loop with real threads: handles used from
// many threads at once, cancels racing with deltas and completions, resumes
// from outside the loop. Run under TSan in CI; the rules themselves are in
// call_engine_test.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/http/http_client.h"
#include "server/http/test_http_server.h"
#include "server/routing/call_engine.h"
#include "server/routing/fake_adapter.h"

namespace llmgateway::routing {
namespace {

using ::llmgateway::http::testing::Chunk;
using ::llmgateway::http::testing::Head;
using ::llmgateway::http::testing::Reply;
using ::llmgateway::http::testing::Script;
using ::llmgateway::http::testing::Step;
using ::llmgateway::http::testing::TestHttpServer;
using ::llmgateway::http::testing::TestRequest;
using ::llmgateway::routing::testing::FakeAdapter;

// Counts completions; each call must complete exactly once.
class Completions {
 public:
  void Done(bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    ++done_;
    if (ok) ++ok_;
    cv_.notify_all();
  }
  bool WaitFor(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return done_ >= n; });
  }
  int ok() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ok_;
  }
  int done() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int done_ = 0;
  int ok_ = 0;
};

class Observer final : public CallObserver {
 public:
  Observer(Completions* completions, bool pause) : completions_(completions), pause_(pause) {}
  bool OnDelta(v1::GenerateStreamResponse&& delta) override {
    text_ += delta.text();
    ++deltas_;
    return !pause_;
  }
  void OnComplete(absl::Status status, CallSummary) override {
    ok_ = status.ok();
    completions_->Done(status.ok());
  }
  // Read after the completion was seen (happens-before through Completions).
  const std::string& text() const { return text_; }
  std::atomic<int> deltas_{0};

 private:
  Completions* const completions_;
  const bool pause_;
  std::string text_;
  bool ok_ = false;
};

Script StreamOf(int n, absl::Duration pace) {
  Script script = {Step::Write(Head(200, {"Content-Type: text/event-stream",
                                          "Transfer-Encoding: chunked"}))};
  for (int i = 0; i < n; ++i) {
    script.push_back(Step::Delay(pace));
    script.push_back(Step::Write(Chunk(absl::StrCat("data: delta:", i % 10, "\n\n"))));
  }
  script.push_back(Step::Write(Chunk("data: done\n\n")));
  script.push_back(Step::Write(std::string(http::testing::kLastChunk)));
  return script;
}

class EngineThreadsTest : public ::testing::Test {
 protected:
  void Build(TestHttpServer* server, const std::string& extra_config = "") {
    config::GatewayConfig config;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        extra_config + R"pb(
          retry { initial_backoff { nanos: 1000000 } max_backoff { nanos: 5000000 } }
          providers { name: "a" }
          models { name: "m" provider: "a" }
        )pb",
        &config));
    adapter_ = std::make_unique<FakeAdapter>("a", "", server->Url(""));
    router_ = std::make_unique<Router>(config, absl::flat_hash_map<std::string, const Adapter*>{
                                                   {"a", adapter_.get()}});
    http_ = std::make_unique<http::HttpClient>();
    engine_ = std::make_unique<CallEngine>(router_.get(), http_.get());
  }

  void TearDown() override {
    // The loop goes first: nothing may run on it once the engine is gone.
    http_.reset();
  }

  static v1::GenerateRequest Request() {
    v1::GenerateRequest request;
    request.set_model("m");
    request.set_prompt("x");
    return request;
  }

  std::unique_ptr<FakeAdapter> adapter_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<http::HttpClient> http_;
  std::unique_ptr<CallEngine> engine_;
};

TEST_F(EngineThreadsTest, ManyThreadsManyCallsEachWithARetry) {
  // Each call's first request fails 503 (the server thread alone touches
  // `seen`); the engine retries it.
  std::set<std::string> seen;
  TestHttpServer server([&](const TestRequest& r) {
    const std::string* id = r.Header("x-request-id");
    return seen.insert(id != nullptr ? *id : "").second ? Reply(503, "busy")
                                                         : Reply(200, "fine");
  });
  Build(&server);
  constexpr int kThreads = 4, kPerThread = 50;
  Completions completions;
  const v1::GenerateRequest request = Request();
  std::vector<std::unique_ptr<Observer>> observers(kThreads * kPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto& o = observers[t * kPerThread + i];
        o = std::make_unique<Observer>(&completions, false);
        CallOptions options;
        options.request_id = absl::StrCat("call-", t, "-", i);
        engine_->Start(&request, options, o.get());
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(completions.WaitFor(kThreads * kPerThread));
  EXPECT_EQ(completions.ok(), kThreads * kPerThread);
}

TEST_F(EngineThreadsTest, CancelsFromOtherThreadsRaceWithDeltasAndCompletions) {
  TestHttpServer server(
      [](const TestRequest&) { return StreamOf(20, absl::Milliseconds(2)); });
  Build(&server);
  constexpr int kCalls = 60;
  Completions completions;
  const v1::GenerateRequest request = Request();
  std::vector<std::unique_ptr<Observer>> observers;
  std::vector<std::shared_ptr<CallHandle>> handles;
  for (int i = 0; i < kCalls; ++i) {
    observers.push_back(std::make_unique<Observer>(&completions, false));
    CallOptions options;
    options.stream = true;
    handles.push_back(engine_->Start(&request, options, observers.back().get()));
  }
  // Three threads cancel every call, at staggered moments: some before the
  // first delta, some mid-stream, some after completion.
  std::vector<std::thread> cancellers;
  for (int t = 0; t < 3; ++t) {
    cancellers.emplace_back([&, t] {
      for (int i = t; i < kCalls; i += 3) {
        std::this_thread::sleep_for(std::chrono::microseconds(300 * (i % 7)));
        handles[i]->Cancel();
        handles[i]->Cancel();
      }
    });
  }
  for (auto& t : cancellers) t.join();
  ASSERT_TRUE(completions.WaitFor(kCalls));
  EXPECT_EQ(completions.done(), kCalls) << "each call completes exactly once";
}

TEST_F(EngineThreadsTest, ResumesFromAnotherThreadCarryAPausedStreamToTheEnd) {
  TestHttpServer server(
      [](const TestRequest&) { return StreamOf(30, absl::Milliseconds(1)); });
  Build(&server);
  Completions completions;
  const v1::GenerateRequest request = Request();
  Observer observer(&completions, /*pause=*/true);
  CallOptions options;
  options.stream = true;
  std::shared_ptr<CallHandle> handle = engine_->Start(&request, options, &observer);
  std::atomic<bool> stop{false};
  std::thread resumer([&] {
    while (!stop) {
      handle->Resume();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  const bool finished = completions.WaitFor(1);
  stop = true;
  resumer.join();
  ASSERT_TRUE(finished);
  EXPECT_EQ(completions.ok(), 1);
  std::string expected;
  for (int i = 0; i < 30; ++i) expected += std::to_string(i % 10);
  EXPECT_EQ(observer.text(), expected);
}

}  // namespace
}  // namespace llmgateway::routing
