// BatchJobs through the real llm_gateway binary against fakellm: a job runs
// to the end with mixed results, survives kill -9 (once mid-job, and again
// and again at random moments) with each result recorded exactly once,
// cancels, and is created idempotently, also across a restart.
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/batch_jobs.grpc.pb.h"
#include "tests/integration/fakellm_client.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

using ::llmgateway::testing::Decode;
using ::llmgateway::testing::FakeLlmStat;
using ::llmgateway::testing::Subprocess;
using ::llmgateway::testing::TempPath;
using ::llmgateway::v1::BatchJob;
using ::llmgateway::v1::BatchJobResult;
using ::llmgateway::v1::CreateBatchJobRequest;

Subprocess* fakellm = nullptr;

class FakeLlmEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    process_ = testing::StartFakeLlm("batch-jobs-fakellm.log");
    fakellm = process_.get();
  }
  void TearDown() override { process_.reset(); }

 private:
  std::unique_ptr<Subprocess> process_;
};

[[maybe_unused]] const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new FakeLlmEnvironment());

// A gateway on `store`, and stubs to it.
struct Gateway {
  Gateway(const std::string& store, const std::string& log)
      : process(testing::StartGateway(testing::FakeLlmBaseUrl(*fakellm),
                                      {"--batch_store=" + store}, log)),
        stub(v1::BatchJobs::NewStub(testing::ChannelTo(*process))) {}

  grpc::Status Create(const CreateBatchJobRequest& request, BatchJob* job) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return stub->CreateBatchJob(&context, request, job);
  }
  BatchJob Get(const std::string& id) {
    grpc::ClientContext context;
    v1::GetBatchJobRequest request;
    request.set_id(id);
    BatchJob job;
    grpc::Status status = stub->GetBatchJob(&context, request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return job;
  }
  // Polls until the job has ended (or 120 s).
  BatchJob WaitEnded(const std::string& id) {
    BatchJob job;
    for (int i = 0; i < 1200; ++i) {
      job = Get(id);
      if (job.state() == BatchJob::STATE_SUCCEEDED || job.state() == BatchJob::STATE_FAILED ||
          job.state() == BatchJob::STATE_CANCELLED) {
        break;
      }
      usleep(100 * 1000);
    }
    return job;
  }
  std::vector<BatchJobResult> Results(const std::string& id, int start = 0) {
    grpc::ClientContext context;
    v1::ListBatchJobResultsRequest request;
    request.set_id(id);
    request.set_start_index(start);
    auto reader = stub->ListBatchJobResults(&context, request);
    std::vector<BatchJobResult> results;
    BatchJobResult result;
    while (reader->Read(&result)) results.push_back(result);
    grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return results;
  }

  std::unique_ptr<Subprocess> process;
  std::unique_ptr<v1::BatchJobs::Stub> stub;
};

// `items` calls of fakellm; every `fail_every`-th asks for an upstream 400.
CreateBatchJobRequest Job(int items, int max_concurrency, const std::string& directives,
                          int fail_every = 0) {
  CreateBatchJobRequest request;
  request.set_display_name("integration");
  request.set_max_concurrency(max_concurrency);
  for (int i = 0; i < items; ++i) {
    auto* item = request.add_items();
    item->set_custom_id(absl::StrCat("id-", i));
    const bool fail = fail_every > 0 && i % fail_every == fail_every - 1;
    item->mutable_request()->set_model(
        absl::StrCat("fake-model?", directives, fail ? "&status=400" : ""));
    item->mutable_request()->set_prompt(absl::StrCat("item ", i));
  }
  return request;
}

// Each index in [0, n) exactly once, in order, with its custom_id.
void ExpectEveryIndexOnce(const std::vector<BatchJobResult>& results, int n) {
  ASSERT_EQ(static_cast<int>(results.size()), n);
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(results[i].index(), i);
    EXPECT_EQ(results[i].custom_id(), absl::StrCat("id-", i));
  }
}

// The store's own invariants, read with SQLite while no gateway holds it.
struct StoreFacts {
  int64_t results = 0;
  int64_t distinct = 0;
  int64_t counted = 0;  // succeeded_count + failed_count
};

StoreFacts ReadStore(const std::string& path) {
  StoreFacts facts;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  auto scalar = [db](const char* sql) -> int64_t {
    sqlite3_stmt* statement = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &statement, nullptr), SQLITE_OK) << sql;
    int64_t value = -1;
    if (sqlite3_step(statement) == SQLITE_ROW) value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return value;
  };
  facts.results = scalar("SELECT COUNT(*) FROM results");
  facts.distinct = scalar("SELECT COUNT(DISTINCT job_seq || ':' || idx) FROM results");
  facts.counted = scalar("SELECT COALESCE(SUM(succeeded_count + failed_count), 0) FROM jobs");
  sqlite3_close(db);
  return facts;
}

void Kill9(Subprocess& process) {
  process.Signal(SIGKILL);
  ASSERT_NE(process.WaitExit(10000), -1);
}

TEST(BatchJobsIntegrationTest, AJobRunsToTheEndWithMixedResults) {
  Gateway gateway(TempPath("mixed.db"), "mixed-gateway.log");
  BatchJob job;
  grpc::Status status = gateway.Create(Job(50, 5, "delay_ms=20", /*fail_every=*/7), &job);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(job.total_count(), 50);
  EXPECT_EQ(job.display_name(), "integration");

  job = gateway.WaitEnded(job.id());
  EXPECT_EQ(job.state(), BatchJob::STATE_SUCCEEDED);
  EXPECT_EQ(job.succeeded_count(), 43);
  EXPECT_EQ(job.failed_count(), 7);
  EXPECT_GT(job.usage().total_tokens(), 0);
  const std::vector<BatchJobResult> results = gateway.Results(job.id());
  ExpectEveryIndexOnce(results, 50);
  for (const BatchJobResult& result : results) {
    if (result.index() % 7 == 6) {
      ASSERT_TRUE(result.has_error()) << result.index();
      EXPECT_EQ(result.error().code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_GT(result.error().details_size(), 0);  // ErrorInfo
    } else {
      ASSERT_TRUE(result.has_response()) << result.index();
      EXPECT_FALSE(result.response().text().empty());
    }
  }
  // From an index: the rest.
  EXPECT_EQ(gateway.Results(job.id(), 45).size(), 5u);

  grpc::ClientContext context;
  v1::ListBatchJobsResponse list;
  ASSERT_TRUE(gateway.stub->ListBatchJobs(&context, v1::ListBatchJobsRequest(), &list).ok());
  ASSERT_GE(list.jobs_size(), 1);
  EXPECT_EQ(list.jobs(0).id(), job.id());
}

TEST(BatchJobsIntegrationTest, KillNineMidJobThenRestartFinishesEveryItemOnce) {
  constexpr int kItems = 2000;
  constexpr int kConcurrency = 32;
  const std::string store = TempPath("kill9.db");
  testing::HttpRequest(fakellm->port(), "DELETE", "/_stats");
  std::string id;
  {
    Gateway gateway(store, "kill9-gateway-1.log");
    BatchJob job;
    ASSERT_TRUE(gateway.Create(Job(kItems, kConcurrency, "delay_ms=20"), &job).ok());
    id = job.id();
    // Progress moves while it runs; the finished prefix is readable.
    int64_t seen = 0;
    for (int i = 0; i < 600 && seen < kItems / 4; ++i) {
      job = gateway.Get(id);
      EXPECT_GE(job.succeeded_count(), seen);
      seen = job.succeeded_count();
      usleep(20 * 1000);
    }
    ASSERT_GE(seen, kItems / 4);
    ASSERT_LT(seen, kItems) << "the job ended before the crash; slow fakellm down";
    EXPECT_EQ(job.state(), BatchJob::STATE_RUNNING);
    const std::vector<BatchJobResult> prefix = gateway.Results(id);
    for (size_t i = 0; i < prefix.size(); ++i) ASSERT_EQ(prefix[i].index(), static_cast<int>(i));
    Kill9(*gateway.process);
  }
  const StoreFacts after_crash = ReadStore(store);
  EXPECT_EQ(after_crash.results, after_crash.distinct);
  EXPECT_EQ(after_crash.results, after_crash.counted);

  Gateway gateway(store, "kill9-gateway-2.log");
  const BatchJob job = gateway.WaitEnded(id);
  EXPECT_EQ(job.state(), BatchJob::STATE_SUCCEEDED);
  EXPECT_EQ(job.succeeded_count(), kItems);
  ExpectEveryIndexOnce(gateway.Results(id), kItems);
  // At least once upstream: only items in flight at the crash, or whose
  // result was not yet on disk, ran twice: never more than twice the job's
  // concurrency.
  const long twice = FakeLlmStat(fakellm->port(), "requests") - kItems;
  std::cout << "kill -9 mid-job: " << twice << " of " << kItems
            << " items reached the upstream twice\n";
  ::testing::Test::RecordProperty("upstream_duplicates", static_cast<int>(twice));
  EXPECT_GE(twice, 0);
  EXPECT_LE(twice, 2 * kConcurrency);
}

TEST(BatchJobsIntegrationTest, RepeatedKillNineKeepsTheStoreConsistent) {
  // 3,000 items of 40 ms at 16 at once: 7.5 s of upstream time, more than
  // the 20 runs below can reach (each is killed within 300 ms).
  constexpr int kItems = 3000;
  const std::string store = TempPath("crashpoints.db");
  testing::HttpRequest(fakellm->port(), "DELETE", "/_stats");
  std::mt19937 random(20261129);  // fixed: the same kill moments every run
  std::string id;
  int restarts = 0;
  for (; restarts < 20; ++restarts) {
    Gateway gateway(store, absl::StrCat("crashpoints-gateway-", restarts, ".log"));
    if (id.empty()) {
      BatchJob job;
      ASSERT_TRUE(gateway.Create(Job(kItems, 16, "delay_ms=40"), &job).ok());
      id = job.id();
    } else if (gateway.Get(id).state() == BatchJob::STATE_SUCCEEDED) {
      break;
    }
    usleep(std::uniform_int_distribution<int>(20, 300)(random) * 1000);
    Kill9(*gateway.process);
    const StoreFacts facts = ReadStore(store);
    EXPECT_EQ(facts.results, facts.distinct) << "restart " << restarts;
    EXPECT_EQ(facts.results, facts.counted) << "restart " << restarts;
    EXPECT_LE(facts.results, kItems);
  }
  EXPECT_EQ(restarts, 20);
  Gateway gateway(store, "crashpoints-gateway-final.log");
  const BatchJob job = gateway.WaitEnded(id);
  EXPECT_EQ(job.state(), BatchJob::STATE_SUCCEEDED);
  EXPECT_EQ(job.succeeded_count(), kItems);
  ExpectEveryIndexOnce(gateway.Results(id), kItems);
  const long twice = FakeLlmStat(fakellm->port(), "requests") - kItems;
  std::cout << "killed the gateway " << restarts << " times mid-job: " << twice << " of "
            << kItems << " items reached the upstream twice\n";
  EXPECT_LE(twice, restarts * 2 * 16);
}

TEST(BatchJobsIntegrationTest, SigtermLetsItemsInFlightFinishAndTheJobResumesAtRestart) {
  constexpr int kItems = 200;
  const std::string store = TempPath("sigterm.db");
  testing::HttpRequest(fakellm->port(), "DELETE", "/_stats");
  std::string id;
  {
    Gateway gateway(store, "sigterm-gateway-1.log");
    BatchJob job;
    ASSERT_TRUE(gateway.Create(Job(kItems, 8, "delay_ms=100"), &job).ok());
    id = job.id();
    for (int i = 0; i < 600 && gateway.Get(id).succeeded_count() < 16; ++i) usleep(20 * 1000);
    EXPECT_EQ(gateway.process->Stop(), 0);  // SIGTERM: drain, exit 0
  }
  const StoreFacts stopped = ReadStore(store);
  EXPECT_EQ(stopped.results, stopped.counted);
  EXPECT_LT(stopped.results, kItems);
  // Every request the upstream saw before the stop has its result: the
  // drain waited for the items in flight instead of aborting them.
  EXPECT_EQ(FakeLlmStat(fakellm->port(), "requests"), stopped.results);

  Gateway gateway(store, "sigterm-gateway-2.log");
  const BatchJob job = gateway.WaitEnded(id);
  EXPECT_EQ(job.state(), BatchJob::STATE_SUCCEEDED);
  ExpectEveryIndexOnce(gateway.Results(id), kItems);
  EXPECT_EQ(FakeLlmStat(fakellm->port(), "requests"), kItems);  // none ran twice
}

TEST(BatchJobsIntegrationTest, CancelStopsUpstreamCallsAndKeepsFinishedResults) {
  Gateway gateway(TempPath("cancel.db"), "cancel-gateway.log");
  BatchJob job;
  ASSERT_TRUE(gateway.Create(Job(200, 4, "delay_ms=300"), &job).ok());
  for (int i = 0; i < 300 && gateway.Get(job.id()).succeeded_count() < 4; ++i) {
    usleep(50 * 1000);
  }
  grpc::ClientContext context;
  v1::CancelBatchJobRequest cancel;
  cancel.set_id(job.id());
  BatchJob cancelling;
  ASSERT_TRUE(gateway.stub->CancelBatchJob(&context, cancel, &cancelling).ok());
  const long requests_at_cancel = FakeLlmStat(fakellm->port(), "requests");
  EXPECT_TRUE(cancelling.state() == BatchJob::STATE_CANCELLING ||
              cancelling.state() == BatchJob::STATE_CANCELLED)
      << BatchJob::State_Name(cancelling.state());
  job = gateway.WaitEnded(job.id());
  EXPECT_EQ(job.state(), BatchJob::STATE_CANCELLED);
  EXPECT_TRUE(job.has_end_time());
  usleep(700 * 1000);  // longer than an item takes: a new one would show
  EXPECT_EQ(FakeLlmStat(fakellm->port(), "requests"), requests_at_cancel);
  EXPECT_LT(job.succeeded_count(), 200);
  EXPECT_EQ(static_cast<int64_t>(gateway.Results(job.id()).size()), job.succeeded_count());
}

TEST(BatchJobsIntegrationTest, CreateIsIdempotentAcrossARestart) {
  const std::string store = TempPath("idempotent.db");
  CreateBatchJobRequest request = Job(3, 1, "delay_ms=1");
  request.set_request_id("5b0f4c52-9a67-4d0e-8a43-0c9a7f0c1e11");
  BatchJob first;
  {
    Gateway gateway(store, "idempotent-gateway-1.log");
    ASSERT_TRUE(gateway.Create(request, &first).ok());
    BatchJob again;
    ASSERT_TRUE(gateway.Create(request, &again).ok());
    EXPECT_EQ(again.id(), first.id());
    EXPECT_EQ(gateway.process->Stop(), 0);
  }
  Gateway gateway(store, "idempotent-gateway-2.log");
  BatchJob after_restart;
  ASSERT_TRUE(gateway.Create(request, &after_restart).ok());
  EXPECT_EQ(after_restart.id(), first.id());
  EXPECT_EQ(gateway.WaitEnded(first.id()).succeeded_count(), 3);
}

TEST(BatchJobsIntegrationTest, ABadItemRejectsTheWholeJobNamingIt) {
  Gateway gateway(TempPath("bad-item.db"), "bad-item-gateway.log");
  CreateBatchJobRequest request = Job(5, 1, "");
  request.mutable_items(3)->mutable_request()->set_model("");
  BatchJob job;
  grpc::Status status = gateway.Create(request, &job);
  const testing::CallError error = Decode(status);
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(error.message.rfind("items[3].request.model", 0), 0u) << error.message;
  EXPECT_EQ(error.info.metadata().at("field"), "items[3].request.model");
  grpc::ClientContext context;
  v1::ListBatchJobsResponse list;
  ASSERT_TRUE(gateway.stub->ListBatchJobs(&context, v1::ListBatchJobsRequest(), &list).ok());
  EXPECT_EQ(list.jobs_size(), 0);

  grpc::ClientContext get_context;
  v1::GetBatchJobRequest get;
  get.set_id("batch_unknown");
  EXPECT_EQ(gateway.stub->GetBatchJob(&get_context, get, &job).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST(BatchJobsIntegrationTest, JobsPastTheConfiguredLimitsAreRefusedClearly) {
  const std::string config = TempPath("limits.textproto");
  {
    std::ofstream file(config);
    file << "batch { max_items: 10 max_request_bytes: 1048576 }\n";
  }
  auto process = testing::StartGateway(
      testing::FakeLlmBaseUrl(*fakellm),
      {"--config=" + config, "--batch_store=" + TempPath("limits.db")}, "limits-gateway.log");
  auto stub = v1::BatchJobs::NewStub(testing::ChannelTo(*process));
  BatchJob job;
  {
    grpc::ClientContext context;
    const testing::CallError error = Decode(stub->CreateBatchJob(&context, Job(11, 1, ""), &job));
    EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(error.message, "items: 11 items; a job takes at most 10");
  }
  {
    CreateBatchJobRequest big = Job(2, 1, "");
    big.mutable_items(0)->mutable_request()->set_prompt(std::string(2 << 20, 'x'));
    grpc::ClientContext context;
    const testing::CallError error = Decode(stub->CreateBatchJob(&context, big, &job));
    EXPECT_EQ(error.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(error.info.reason(), "BATCH_REQUEST_TOO_LARGE");
    EXPECT_NE(error.message.find("at most 1048576"), std::string::npos) << error.message;
  }
  grpc::ClientContext context;
  EXPECT_TRUE(stub->CreateBatchJob(&context, Job(10, 1, "delay_ms=1"), &job).ok());
}

TEST(BatchJobsIntegrationTest, AStoreThatCannotBeWrittenStopsStartUpNamingIt) {
  const std::string path = "/nonexistent-llm-gateway-dir/jobs.db";
  const testing::RunResult run = testing::RunToExit(
      absl::StrCat(testing::RunfilePath("server/llm_gateway"),
                   " --listen=127.0.0.1:0 --openai_base_url=http://127.0.0.1:9/v1"
                   " --batch_store=",
                   path));
  const std::string& output = run.output;
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(output.find("batch store " + path), std::string::npos) << output;
  EXPECT_EQ(output.find("listening on"), std::string::npos) << output;
}

}  // namespace
}  // namespace llmgateway
