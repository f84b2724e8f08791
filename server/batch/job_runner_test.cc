// The job runner on a real store, with the call engine played by the test:
// every started call waits until the test completes it.
#include "server/batch/job_runner.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <optional>
#include <thread>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace llmgateway::batch {
namespace {

using ::llmgateway::v1::BatchJob;
using ::llmgateway::v1::BatchJobResult;
using ::llmgateway::v1::CreateBatchJobRequest;

class FakeHandle final : public routing::CallHandle {
 public:
  void Cancel() override { cancelled = true; }
  void Resume() override {}
  std::atomic<bool> cancelled{false};
};

// Stands in for the call engine. Thread-safe: the runner starts calls on
// its store thread, the test completes them from its own.
class FakeEngine {
 public:
  struct Call {
    std::string request_id;
    std::string prompt;
    routing::CallObserver* observer = nullptr;
    std::shared_ptr<FakeHandle> handle;
    bool done = false;
  };

  StartCall Starter() {
    return [this](const v1::GenerateRequest* request, routing::CallOptions options,
                  routing::CallObserver* observer) {
      std::lock_guard<std::mutex> lock(mu_);
      Call& call = calls_.emplace_back();
      call.request_id = options.request_id;
      call.prompt = request->prompt();
      call.observer = observer;
      call.handle = std::make_shared<FakeHandle>();
      return call.handle;
    };
  }

  // Calls started and not completed, oldest first (their indexes in calls()).
  std::vector<int> Open() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int> open;
    for (size_t i = 0; i < calls_.size(); ++i) {
      if (!calls_[i].done) open.push_back(static_cast<int>(i));
    }
    return open;
  }
  int Started() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(calls_.size());
  }
  Call Get(int i) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[i];
  }

  void Succeed(int i, int prompt_tokens = 1) {
    routing::CallObserver* observer = Take(i);
    v1::GenerateResponse response;
    response.set_text("answer to " + Get(i).prompt);
    response.mutable_usage()->set_prompt_tokens(prompt_tokens);
    observer->OnResponse(std::move(response));
    observer->OnComplete(absl::OkStatus(), routing::CallSummary());
  }
  void Fail(int i, absl::Status status) {
    Take(i)->OnComplete(std::move(status), routing::CallSummary());
  }

 private:
  routing::CallObserver* Take(int i) {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_FALSE(calls_[i].done);
    calls_[i].done = true;
    return calls_[i].observer;
  }

  std::mutex mu_;
  std::vector<Call> calls_;
};

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

template <typename Predicate>
bool WaitFor(Predicate predicate) {
  for (int i = 0; i < 2000; ++i) {
    if (predicate()) return true;
    usleep(5000);
  }
  return predicate();
}

CreateBatchJobRequest Request(int items, int max_concurrency, const std::string& tag = "p") {
  CreateBatchJobRequest request;
  request.set_max_concurrency(max_concurrency);
  for (int i = 0; i < items; ++i) {
    auto* item = request.add_items();
    item->set_custom_id("c" + std::to_string(i));
    item->mutable_request()->set_model("m");
    item->mutable_request()->set_prompt(tag + std::to_string(i));
  }
  return request;
}

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempPath(std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                     ".db");
    unlink(path_.c_str());
    StartRunner();
  }
  void TearDown() override {
    if (runner_ != nullptr) StopRunner();
  }

  void StartRunner(RunnerOptions options = RunnerOptions()) {
    absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    engine_ = std::make_unique<FakeEngine>();
    absl::StatusOr<std::unique_ptr<JobRunner>> runner =
        JobRunner::Start(*std::move(store), engine_->Starter(), options);
    ASSERT_TRUE(runner.ok()) << runner.status();
    runner_ = *std::move(runner);
  }

  // Stops the runner while the fake engine completes what it cancels, as
  // the real one would.
  void StopRunner() {
    std::atomic<bool> stopped{false};
    std::thread completer([&] {
      while (!stopped) {
        for (int i : engine_->Open()) {
          if (engine_->Get(i).handle->cancelled) engine_->Fail(i, absl::CancelledError("stop"));
        }
        usleep(1000);
      }
    });
    runner_->Stop();
    stopped = true;
    completer.join();
    runner_.reset();
  }

  // Waits for the runner's answer. (std::mutex, not absl::Notification:
  // Debian's Abseil is not built for TSan, which then cannot see it.)
  template <typename T, typename Call>
  absl::StatusOr<T> Sync(Call call) {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<absl::StatusOr<T>> out;
    call([&](absl::StatusOr<T> answer) {
      std::lock_guard<std::mutex> lock(mu);
      out = std::move(answer);
      cv.notify_one();
    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return out.has_value(); });
    return *std::move(out);
  }

  BatchJob Create(const CreateBatchJobRequest& request) {
    absl::StatusOr<BatchJob> job = Sync<BatchJob>(
        [&](auto done) { runner_->Create(&request, "", std::move(done)); });
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? *job : BatchJob();
  }
  BatchJob Get(const std::string& id) {
    absl::StatusOr<BatchJob> job =
        Sync<BatchJob>([&](auto done) { runner_->Get(id, std::nullopt, std::move(done)); });
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? *job : BatchJob();
  }
  absl::StatusOr<BatchJob> Cancel(const std::string& id) {
    return Sync<BatchJob>([&](auto done) { runner_->Cancel(id, std::nullopt, std::move(done)); });
  }
  ResultsChunk Results(const std::string& id, int start = 0) {
    absl::StatusOr<ResultsChunk> chunk = Sync<ResultsChunk>(
        [&](auto done) { runner_->ReadResults(id, std::nullopt, start, 1000, std::move(done)); });
    EXPECT_TRUE(chunk.ok()) << chunk.status();
    return chunk.ok() ? *std::move(chunk) : ResultsChunk();
  }
  bool WaitForState(const std::string& id, BatchJob::State state) {
    return WaitFor([&] { return Get(id).state() == state; });
  }
  bool WaitForOpen(int n) {
    return WaitFor([&] { return static_cast<int>(engine_->Open().size()) == n; });
  }

  std::string path_;
  std::unique_ptr<FakeEngine> engine_;
  std::unique_ptr<JobRunner> runner_;
};

TEST_F(JobRunnerTest, RunsEveryItemWithinItsConcurrencyAndRecordsEachResult) {
  const BatchJob job = Create(Request(10, 3));
  EXPECT_EQ(job.state(), BatchJob::STATE_QUEUED);
  int completed = 0;
  while (completed < 10) {
    ASSERT_TRUE(WaitForOpen(std::min(3, 10 - completed)));
    EXPECT_LE(engine_->Open().size(), 3u);
    const int i = engine_->Open().front();
    if (i % 4 == 3) {
      engine_->Fail(i, absl::UnavailableError("upstream down"));
    } else {
      engine_->Succeed(i, 10);
    }
    ++completed;
  }
  ASSERT_TRUE(WaitForState(job.id(), BatchJob::STATE_SUCCEEDED));
  const BatchJob done = Get(job.id());
  EXPECT_EQ(done.succeeded_count(), 8);
  EXPECT_EQ(done.failed_count(), 2);
  EXPECT_EQ(done.usage().prompt_tokens(), 80);
  EXPECT_TRUE(done.has_start_time());
  EXPECT_TRUE(done.has_end_time());
  EXPECT_EQ(engine_->Started(), 10);
  EXPECT_EQ(engine_->Get(0).request_id, job.id() + "-0");

  const ResultsChunk results = Results(job.id());
  EXPECT_TRUE(results.job_ended);
  ASSERT_EQ(results.results.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    const BatchJobResult& r = results.results[i];
    EXPECT_EQ(r.index(), i);
    EXPECT_EQ(r.custom_id(), "c" + std::to_string(i));
    EXPECT_EQ(r.has_error(), i % 4 == 3) << i;
    if (r.has_error()) {
      EXPECT_EQ(r.error().code(), static_cast<int>(absl::StatusCode::kUnavailable));
      EXPECT_GT(r.error().details_size(), 0);  // ErrorInfo
    } else {
      EXPECT_EQ(r.response().text(), "answer to p" + std::to_string(i));
    }
  }
}

TEST_F(JobRunnerTest, OlderJobsFillTheGlobalCapFirst) {
  runner_.reset();
  RunnerOptions options;
  options.max_concurrency = 4;
  StartRunner(options);
  const BatchJob a = Create(Request(6, 10, "a"));
  const BatchJob b = Create(Request(3, 10, "b"));
  ASSERT_TRUE(WaitForOpen(4));
  for (int i : engine_->Open()) EXPECT_EQ(engine_->Get(i).prompt[0], 'a');
  engine_->Succeed(engine_->Open().front());
  engine_->Succeed(engine_->Open().front());
  // a's last two items take the freed slots; b still waits.
  ASSERT_TRUE(WaitFor([&] { return engine_->Started() == 6; }));
  for (int i : engine_->Open()) EXPECT_EQ(engine_->Get(i).prompt[0], 'a');
  engine_->Succeed(engine_->Open().front());
  ASSERT_TRUE(WaitFor([&] { return engine_->Started() == 7; }));
  EXPECT_EQ(engine_->Get(6).prompt, "b0");
  EXPECT_EQ(Get(b.id()).state(), BatchJob::STATE_RUNNING);
  EXPECT_EQ(Get(a.id()).state(), BatchJob::STATE_RUNNING);
}

TEST_F(JobRunnerTest, CancelAbortsItemsInFlightAndStartsNoMore) {
  const BatchJob job = Create(Request(20, 4));
  ASSERT_TRUE(WaitForOpen(4));
  engine_->Succeed(engine_->Open().front());
  ASSERT_TRUE(WaitFor([&] { return engine_->Started() == 5 && engine_->Open().size() == 4; }));
  ASSERT_TRUE(WaitFor([&] { return Get(job.id()).succeeded_count() == 1; }));

  absl::StatusOr<BatchJob> cancelling = Cancel(job.id());
  ASSERT_TRUE(cancelling.ok()) << cancelling.status();
  EXPECT_EQ(cancelling->state(), BatchJob::STATE_CANCELLING);
  const int started = engine_->Started();
  std::vector<int> open = engine_->Open();
  for (int i : open) EXPECT_TRUE(engine_->Get(i).handle->cancelled) << i;
  // One call had finished on its own just before the cancel reached it.
  engine_->Succeed(open[0]);
  for (size_t k = 1; k < open.size(); ++k) engine_->Fail(open[k], absl::CancelledError("x"));
  ASSERT_TRUE(WaitForState(job.id(), BatchJob::STATE_CANCELLED));
  EXPECT_EQ(engine_->Started(), started);
  const BatchJob cancelled = Get(job.id());
  EXPECT_EQ(cancelled.succeeded_count(), 2);
  EXPECT_EQ(cancelled.failed_count(), 0);
  EXPECT_TRUE(cancelled.has_end_time());
  EXPECT_EQ(Results(job.id()).results.size(), 2u);
  // Cancelling an ended job answers it as it is.
  absl::StatusOr<BatchJob> again = Cancel(job.id());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state(), BatchJob::STATE_CANCELLED);
}

TEST_F(JobRunnerTest, CancelOfAQueuedJobEndsItAtOnce) {
  runner_.reset();
  RunnerOptions options;
  options.max_concurrency = 1;
  StartRunner(options);
  const BatchJob first = Create(Request(1, 1));
  const BatchJob queued = Create(Request(3, 1));
  ASSERT_TRUE(WaitForOpen(1));
  absl::StatusOr<BatchJob> cancelled = Cancel(queued.id());
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state(), BatchJob::STATE_CANCELLED);
  engine_->Succeed(engine_->Open().front());
  ASSERT_TRUE(WaitForState(first.id(), BatchJob::STATE_SUCCEEDED));
  EXPECT_EQ(engine_->Started(), 1);
}

TEST_F(JobRunnerTest, ARestartRunsOnlyTheItemsWithoutAResult) {
  const BatchJob job = Create(Request(5, 2));
  ASSERT_TRUE(WaitForOpen(2));
  engine_->Succeed(0);
  engine_->Succeed(1);
  ASSERT_TRUE(WaitFor([&] { return Get(job.id()).succeeded_count() == 2; }));
  ASSERT_TRUE(WaitForOpen(2));  // items 2 and 3 in flight
  StopRunner();

  StartRunner();
  ASSERT_TRUE(WaitForOpen(2));
  EXPECT_EQ(engine_->Get(0).prompt, "p2");  // in flight at the stop: runs again
  EXPECT_EQ(engine_->Get(1).prompt, "p3");
  engine_->Succeed(0);
  engine_->Succeed(1);
  ASSERT_TRUE(WaitForOpen(1));
  EXPECT_EQ(engine_->Get(2).prompt, "p4");
  engine_->Succeed(2);
  ASSERT_TRUE(WaitForState(job.id(), BatchJob::STATE_SUCCEEDED));
  EXPECT_EQ(Get(job.id()).succeeded_count(), 5);
  EXPECT_EQ(Results(job.id()).results.size(), 5u);
}

TEST_F(JobRunnerTest, StopStartingLetsItemsInFlightFinishAndStartsNoMore) {
  const BatchJob job = Create(Request(6, 2));
  ASSERT_TRUE(WaitForOpen(2));
  runner_->StopStarting();
  engine_->Succeed(0);
  engine_->Succeed(1);
  ASSERT_TRUE(WaitFor([&] { return Get(job.id()).succeeded_count() == 2; }));
  EXPECT_EQ(runner_->in_flight(), 0);
  EXPECT_EQ(engine_->Started(), 2);
  EXPECT_EQ(Get(job.id()).state(), BatchJob::STATE_RUNNING);
  StopRunner();
  StartRunner();  // the next start resumes the job
  ASSERT_TRUE(WaitForOpen(2));
  EXPECT_EQ(engine_->Get(0).prompt, "p2");
}

TEST_F(JobRunnerTest, AJobWhoseFirstItemsAllFailFails) {
  runner_.reset();
  RunnerOptions options;
  options.fail_fast_items = 3;
  StartRunner(options);
  const BatchJob job = Create(Request(10, 1));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(WaitForOpen(1));
    engine_->Fail(engine_->Open().front(), absl::NotFoundError("model \"m\" not found"));
  }
  // The slot freed by the third failure may have started a fourth item
  // while the result was being written: the fail-fast cancels it.
  ASSERT_TRUE(WaitFor([&] {
    for (int i : engine_->Open()) {
      if (engine_->Get(i).handle->cancelled) engine_->Fail(i, absl::CancelledError("x"));
    }
    return Get(job.id()).state() == BatchJob::STATE_FAILED;
  }));
  const BatchJob failed = Get(job.id());
  EXPECT_EQ(failed.failed_count(), 3);
  EXPECT_EQ(failed.error().code(), static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_NE(failed.error().message().find("not found"), std::string::npos);
  EXPECT_LE(engine_->Started(), 4);
}

TEST_F(JobRunnerTest, FailedItemsAfterASuccessDoNotFailTheJob) {
  runner_.reset();
  RunnerOptions options;
  options.fail_fast_items = 2;
  StartRunner(options);
  const BatchJob job = Create(Request(4, 1));
  ASSERT_TRUE(WaitForOpen(1));
  engine_->Succeed(engine_->Open().front());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(WaitForOpen(1));
    engine_->Fail(engine_->Open().front(), absl::InvalidArgumentError("bad"));
  }
  ASSERT_TRUE(WaitForState(job.id(), BatchJob::STATE_SUCCEEDED));
  EXPECT_EQ(Get(job.id()).failed_count(), 3);
}

TEST_F(JobRunnerTest, ResultsOfARunningJobStopAtTheFirstUnfinishedItem) {
  const BatchJob job = Create(Request(4, 4));
  ASSERT_TRUE(WaitForOpen(4));
  engine_->Succeed(0);
  engine_->Succeed(2);
  ASSERT_TRUE(WaitFor([&] { return Get(job.id()).succeeded_count() == 2; }));
  ResultsChunk chunk = Results(job.id());
  EXPECT_FALSE(chunk.job_ended);
  ASSERT_EQ(chunk.results.size(), 1u);
  EXPECT_EQ(chunk.results[0].index(), 0);
  engine_->Succeed(1);
  ASSERT_TRUE(WaitFor([&] { return Results(job.id()).results.size() == 3; }));
  EXPECT_EQ(Results(job.id(), 3).results.size(), 0u);
}

TEST_F(JobRunnerTest, TheSameRequestIdGivesTheSameJob) {
  CreateBatchJobRequest request = Request(2, 1);
  request.set_request_id("8c5c2b0e-1f55-4d5e-9d0a-2f3c1d8b7a10");
  const BatchJob first = Create(request);
  const BatchJob second = Create(request);
  EXPECT_EQ(first.id(), second.id());
  absl::StatusOr<JobStore::Page> page =
      Sync<JobStore::Page>([&](auto done) { runner_->List(10, "", std::nullopt, std::move(done)); });
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->jobs.size(), 1u);
}

TEST_F(JobRunnerTest, UnknownJobIsNotFound) {
  absl::StatusOr<BatchJob> job =
      Sync<BatchJob>([&](auto done) { runner_->Get("batch_missing", std::nullopt, std::move(done)); });
  EXPECT_EQ(job.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Cancel("batch_missing").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(JobRunnerTest, AfterStopCallsAreAnsweredUnavailable) {
  StopRunner();
  StartRunner();
  runner_->Stop();
  absl::StatusOr<BatchJob> job =
      Sync<BatchJob>([&](auto done) { runner_->Get("batch_x", std::nullopt, std::move(done)); });
  EXPECT_EQ(job.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace llmgateway::batch
