// The job store on a real SQLite file in the test's temporary directory.
#include "server/batch/job_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "sqlite3.h"

namespace llmgateway::batch {
namespace {

using ::llmgateway::v1::BatchJob;
using ::llmgateway::v1::BatchJobResult;
using ::llmgateway::v1::CreateBatchJobRequest;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

CreateBatchJobRequest Request(int items, const std::string& request_id = "") {
  CreateBatchJobRequest request;
  request.set_display_name("nightly");
  request.set_request_id(request_id);
  (*request.mutable_labels())["team"] = "search";
  for (int i = 0; i < items; ++i) {
    auto* item = request.add_items();
    item->set_custom_id("c" + std::to_string(i));
    item->mutable_request()->set_model("m");
    item->mutable_request()->set_prompt("p" + std::to_string(i));
  }
  return request;
}

ItemResult Success(int64_t seq, int index, int prompt_tokens) {
  ItemResult r;
  r.job_seq = seq;
  r.result.set_index(index);
  r.result.set_custom_id("c" + std::to_string(index));
  r.result.mutable_response()->set_text("answer " + std::to_string(index));
  r.result.mutable_response()->mutable_usage()->set_prompt_tokens(prompt_tokens);
  r.result.mutable_response()->mutable_usage()->set_total_tokens(prompt_tokens + 1);
  return r;
}

ItemResult Failure(int64_t seq, int index) {
  ItemResult r;
  r.job_seq = seq;
  r.result.set_index(index);
  r.result.mutable_error()->set_code(14);
  r.result.mutable_error()->set_message("upstream down");
  return r;
}

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempPath(std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                     ".db");
    unlink(path_.c_str());
    Reopen();
  }
  void Reopen() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::string path_;
  std::unique_ptr<JobStore> store_;
};

TEST_F(JobStoreTest, CreatesAQueuedJobWithItsItems) {
  absl::StatusOr<JobStore::Created> created = store_->CreateJob(Request(3), 5, kT0);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->created);
  const BatchJob& job = created->job;
  EXPECT_EQ(job.id().rfind("batch_", 0), 0u) << job.id();
  EXPECT_EQ(job.state(), BatchJob::STATE_QUEUED);
  EXPECT_EQ(job.total_count(), 3);
  EXPECT_EQ(job.display_name(), "nightly");
  EXPECT_EQ(job.labels().at("team"), "search");
  EXPECT_EQ(job.create_time().seconds(), 1'800'000'000);
  EXPECT_FALSE(job.has_start_time());

  absl::StatusOr<std::vector<PendingItem>> items = store_->PendingItems(created->seq, 0, 10);
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[2].index, 2);
  EXPECT_EQ((*items)[2].custom_id, "c2");
  EXPECT_EQ((*items)[2].request.prompt(), "p2");
}

TEST_F(JobStoreTest, SameRequestIdReturnsTheSameJobAcrossReopen) {
  absl::StatusOr<JobStore::Created> first = store_->CreateJob(Request(2, "req-1"), 5, kT0);
  ASSERT_TRUE(first.ok()) << first.status();
  Reopen();
  absl::StatusOr<JobStore::Created> again = store_->CreateJob(Request(7, "req-1"), 5, kT0);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->job.id(), first->job.id());
  EXPECT_EQ(again->job.total_count(), 2);
  absl::StatusOr<JobStore::Created> other = store_->CreateJob(Request(1, "req-2"), 5, kT0);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->job.id(), first->job.id());
}

TEST_F(JobStoreTest, EachResultIsRecordedOnceAndCountsFollowIt) {
  absl::StatusOr<JobStore::Created> created = store_->CreateJob(Request(4), 5, kT0);
  ASSERT_TRUE(created.ok());
  const int64_t seq = created->seq;
  std::vector<bool> recorded;
  ASSERT_TRUE(store_
                  ->RecordResults({Success(seq, 0, 10), Failure(seq, 2), Success(seq, 3, 5)},
                                  kT0 + absl::Seconds(1), &recorded)
                  .ok());
  EXPECT_EQ(recorded, (std::vector<bool>{true, true, true}));
  // A re-run after a crash reports index 0 again: ignored, counts unchanged.
  ASSERT_TRUE(store_->RecordResults({Success(seq, 0, 99), Success(seq, 1, 1)},
                                    kT0 + absl::Seconds(2), &recorded)
                  .ok());
  EXPECT_EQ(recorded, (std::vector<bool>{false, true}));

  absl::StatusOr<BatchJob> job = store_->GetJob(created->job.id());
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->succeeded_count(), 3);
  EXPECT_EQ(job->failed_count(), 1);
  EXPECT_EQ(job->usage().prompt_tokens(), 16);
  EXPECT_EQ(job->usage().total_tokens(), 19);
  EXPECT_EQ(job->update_time().seconds(), 1'800'000'002);

  absl::StatusOr<std::vector<BatchJobResult>> all = store_->ReadResults(seq, 0, 100, false);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].response().text(), "answer 0");  // the first one stays
  EXPECT_EQ((*all)[2].error().message(), "upstream down");
  absl::StatusOr<std::vector<PendingItem>> pending = store_->PendingItems(seq, 0, 10);
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
}

TEST_F(JobStoreTest, ContiguousReadStopsAtTheFirstUnfinishedItem) {
  absl::StatusOr<JobStore::Created> created = store_->CreateJob(Request(5), 5, kT0);
  ASSERT_TRUE(created.ok());
  const int64_t seq = created->seq;
  std::vector<bool> recorded;
  ASSERT_TRUE(store_
                  ->RecordResults({Success(seq, 0, 1), Success(seq, 1, 1), Success(seq, 3, 1)},
                                  kT0, &recorded)
                  .ok());
  absl::StatusOr<std::vector<BatchJobResult>> running = store_->ReadResults(seq, 0, 100, true);
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(running->size(), 2u);
  EXPECT_EQ((*running)[1].index(), 1);
  // From an index with no result yet: nothing, not index 3.
  running = store_->ReadResults(seq, 2, 100, true);
  ASSERT_TRUE(running.ok());
  EXPECT_TRUE(running->empty());
  absl::StatusOr<std::vector<BatchJobResult>> ended = store_->ReadResults(seq, 2, 100, false);
  ASSERT_TRUE(ended.ok());
  ASSERT_EQ(ended->size(), 1u);
  EXPECT_EQ((*ended)[0].index(), 3);
  // Pending from index 2 on: 2 and 4.
  absl::StatusOr<std::vector<PendingItem>> pending = store_->PendingItems(seq, 2, 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[1].index, 4);
}

TEST_F(JobStoreTest, StatesSetTheirTimesAndUnfinishedJobsComeOldestFirst) {
  auto a = store_->CreateJob(Request(1), 5, kT0);
  auto b = store_->CreateJob(Request(1), 5, kT0);
  auto c = store_->CreateJob(Request(1), 5, kT0);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ASSERT_TRUE(store_->SetState(a->seq, BatchJob::STATE_RUNNING, kT0 + absl::Seconds(1)).ok());
  ASSERT_TRUE(store_->SetState(a->seq, BatchJob::STATE_RUNNING, kT0 + absl::Seconds(5)).ok());
  google::rpc::Status why;
  why.set_code(5);
  why.set_message("no such model");
  ASSERT_TRUE(
      store_->SetState(b->seq, BatchJob::STATE_FAILED, kT0 + absl::Seconds(2), &why).ok());
  absl::StatusOr<BatchJob> job_a = store_->GetJob(a->job.id());
  ASSERT_TRUE(job_a.ok());
  EXPECT_EQ(job_a->start_time().seconds(), 1'800'000'001);  // the first start stays
  EXPECT_FALSE(job_a->has_end_time());
  absl::StatusOr<BatchJob> job_b = store_->GetJob(b->job.id());
  ASSERT_TRUE(job_b.ok());
  EXPECT_EQ(job_b->state(), BatchJob::STATE_FAILED);
  EXPECT_EQ(job_b->end_time().seconds(), 1'800'000'002);
  EXPECT_EQ(job_b->error().message(), "no such model");

  absl::StatusOr<std::vector<JobRow>> unfinished = store_->UnfinishedJobs();
  ASSERT_TRUE(unfinished.ok());
  ASSERT_EQ(unfinished->size(), 2u);
  EXPECT_EQ((*unfinished)[0].id, a->job.id());
  EXPECT_EQ((*unfinished)[0].state, BatchJob::STATE_RUNNING);
  EXPECT_EQ((*unfinished)[1].id, c->job.id());
}

TEST_F(JobStoreTest, ListsNewestFirstInPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(store_->CreateJob(Request(1), 5, kT0)->job.id());
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<JobStore::Page> page = store_->ListJobs(2, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const BatchJob& job : page->jobs) seen.push_back(job.id());
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, std::vector<std::string>(ids.rbegin(), ids.rend()));

  absl::StatusOr<JobStore::Page> bad = store_->ListJobs(2, "not-a-token");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("page_token"), absl::string_view::npos);
}

TEST_F(JobStoreTest, UnknownIdIsNotFound) {
  absl::StatusOr<BatchJob> job = store_->GetJob("batch_nope");
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(job.status().message().find("batch_nope"), absl::string_view::npos);
}

TEST_F(JobStoreTest, SweepDeletesOnlyJobsEndedBeforeTheCutoff) {
  auto old_job = store_->CreateJob(Request(2), 5, kT0);
  auto new_job = store_->CreateJob(Request(2), 5, kT0);
  auto running = store_->CreateJob(Request(2), 5, kT0);
  ASSERT_TRUE(old_job.ok() && new_job.ok() && running.ok());
  std::vector<bool> recorded;
  ASSERT_TRUE(store_->RecordResults({Success(old_job->seq, 0, 1)}, kT0, &recorded).ok());
  ASSERT_TRUE(store_->SetState(old_job->seq, BatchJob::STATE_SUCCEEDED, kT0).ok());
  ASSERT_TRUE(
      store_->SetState(new_job->seq, BatchJob::STATE_CANCELLED, kT0 + absl::Hours(48)).ok());
  absl::StatusOr<int> swept = store_->SweepEndedBefore(kT0 + absl::Hours(24));
  ASSERT_TRUE(swept.ok()) << swept.status();
  EXPECT_EQ(*swept, 1);
  EXPECT_EQ(store_->GetJob(old_job->job.id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetJob(new_job->job.id()).ok());
  EXPECT_TRUE(store_->GetJob(running->job.id()).ok());
  EXPECT_TRUE(store_->ReadResults(old_job->seq, 0, 10, false)->empty());
  EXPECT_TRUE(store_->PendingItems(old_job->seq, 0, 10)->empty());
}

TEST_F(JobStoreTest, UnwritablePathFailsNamingIt) {
  store_.reset();
  absl::StatusOr<std::unique_ptr<JobStore>> missing = JobStore::Open("/nonexistent-dir/x/jobs.db");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent-dir/x/jobs.db"),
            absl::string_view::npos);

  const std::string dir = TempPath("readonly-dir");
  mkdir(dir.c_str(), 0500);
  chmod(dir.c_str(), 0500);
  const std::string path = dir + "/jobs.db";
  absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(path);
  if (geteuid() == 0 && store.ok()) GTEST_SKIP() << "root ignores directory permissions";
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path), absl::string_view::npos) << store.status();
}

TEST_F(JobStoreTest, ASecondOpenOfALiveStoreFails) {
  absl::StatusOr<std::unique_ptr<JobStore>> second = JobStore::Open(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(path_ + ": in use by another process"),
            absl::string_view::npos)
      << second.status();
}

TEST_F(JobStoreTest, AnOwnersJobsAreTheirsAlone) {
  absl::StatusOr<JobStore::Created> a = store_->CreateJob(Request(1, "r1"), 5, kT0, "team-a");
  absl::StatusOr<JobStore::Created> b = store_->CreateJob(Request(1, "r1"), 5, kT0, "team-b");
  ASSERT_TRUE(a.ok() && b.ok());
  // The same request id from two owners makes two jobs; again from one, its own.
  EXPECT_TRUE(b->created);
  EXPECT_NE(a->job.id(), b->job.id());
  absl::StatusOr<JobStore::Created> again = store_->CreateJob(Request(1, "r1"), 5, kT0, "team-a");
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->job.id(), a->job.id());

  EXPECT_TRUE(store_->GetJob(a->job.id(), std::string("team-a")).ok());
  EXPECT_EQ(store_->GetJob(a->job.id(), std::string("team-b")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetJobRow(a->job.id(), std::string("team-b")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetJob(a->job.id()).ok());  // no owner: every job

  absl::StatusOr<JobStore::Page> page = store_->ListJobs(10, "", std::string("team-b"));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->jobs.size(), 1u);
  EXPECT_EQ(page->jobs[0].id(), b->job.id());
  EXPECT_EQ(store_->ListJobs(10, "")->jobs.size(), 2u);
  EXPECT_EQ(store_->ListJobs(10, "", std::string(""))->jobs.size(), 0u);
}

TEST_F(JobStoreTest, AVersionOneStoreIsMigratedKeepingItsJobs) {
  store_.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((path_ + suffix).c_str());
  {
    // The version-1 schema's jobs table, as the previous release wrote it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    const char* v1 = R"sql(
      CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
        request_id TEXT UNIQUE, state INTEGER NOT NULL, total_count INTEGER NOT NULL,
        succeeded_count INTEGER NOT NULL DEFAULT 0, failed_count INTEGER NOT NULL DEFAULT 0,
        max_concurrency INTEGER NOT NULL, create_time INTEGER NOT NULL, start_time INTEGER,
        update_time INTEGER NOT NULL, end_time INTEGER,
        prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
        total_tokens INTEGER NOT NULL DEFAULT 0, cached_prompt_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0, reasoning_tokens INTEGER NOT NULL DEFAULT 0,
        info BLOB NOT NULL, error BLOB);
      CREATE INDEX jobs_by_end_time ON jobs(end_time) WHERE end_time IS NOT NULL;
      CREATE TABLE items (job_seq INTEGER NOT NULL, idx INTEGER NOT NULL,
        custom_id TEXT NOT NULL, request BLOB NOT NULL, PRIMARY KEY (job_seq, idx));
      CREATE TABLE results (job_seq INTEGER NOT NULL, idx INTEGER NOT NULL,
        succeeded INTEGER NOT NULL, result BLOB NOT NULL, PRIMARY KEY (job_seq, idx));
      INSERT INTO jobs (seq, id, request_id, state, total_count, max_concurrency, create_time,
        update_time, info) VALUES (7, 'batch_old', 'r-old', 1, 2, 4, 0, 0, X'');
      INSERT INTO sqlite_sequence (name, seq) SELECT 'jobs', 9
        WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'jobs');
      UPDATE sqlite_sequence SET seq = 9 WHERE name = 'jobs';
      PRAGMA user_version = 1;
    )sql";
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, &error), SQLITE_OK) << error;
    sqlite3_close(db);
  }
  Reopen();
  absl::StatusOr<BatchJob> old = store_->GetJob("batch_old");
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->total_count(), 2);
  // Jobs from before auth belong to nobody in particular ("").
  EXPECT_TRUE(store_->GetJob("batch_old", std::string("")).ok());
  EXPECT_FALSE(store_->GetJob("batch_old", std::string("team-a")).ok());
  // Its request id still answers it; sequence numbers go on after the old
  // counter (9), not after the highest row left (7).
  absl::StatusOr<JobStore::Created> same = store_->CreateJob(Request(2, "r-old"), 4, kT0);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_FALSE(same->created);
  absl::StatusOr<JobStore::Created> next = store_->CreateJob(Request(1), 4, kT0);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->seq, 10);
}

}  // namespace
}  // namespace llmgateway::batch
