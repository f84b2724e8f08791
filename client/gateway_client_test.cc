// GatewayClient against in-process fake services: what the client adds on
// top of the stubs (retries, deadlines, async without threads, resumable
// results, waiting through restarts), each checked by what the server saw.
#include "client/gateway_client.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace llmgateway::client {
namespace {

grpc::Status UnavailableWithReason(const std::string& reason) {
  google::rpc::Status rpc;
  rpc.set_code(grpc::StatusCode::UNAVAILABLE);
  rpc.set_message("upstream down");
  google::rpc::ErrorInfo info;
  info.set_reason(reason);
  info.set_domain("llmgateway.v1");
  rpc.add_details()->PackFrom(info);
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "upstream down", rpc.SerializeAsString());
}

// Generate fails with UNAVAILABLE `fail_first` times, then answers; it
// records each call's deadline. GenerateStream sends three chunks.
class FakeGeneration final : public v1::Generation::Service {
 public:
  std::atomic<int> fail_first{0};
  std::atomic<int> calls{0};
  std::atomic<int64_t> last_deadline_ms{0};
  std::atomic<int> delay_ms{0};

  grpc::Status Generate(grpc::ServerContext* context, const v1::GenerateRequest* request,
                        v1::GenerateResponse* response) override {
    ++calls;
    last_deadline_ms = absl::ToInt64Milliseconds(absl::FromChrono(context->deadline()) - absl::Now());
    if (fail_first.fetch_sub(1) > 0) return UnavailableWithReason("UPSTREAM_UNAVAILABLE");
    absl::SleepFor(absl::Milliseconds(delay_ms.load()));
    response->set_text("echo " + request->prompt());
    return grpc::Status::OK;
  }

  grpc::Status GenerateStream(grpc::ServerContext* context, const v1::GenerateRequest* request,
                              grpc::ServerWriter<v1::GenerateStreamResponse>* writer) override {
    for (const char* text : {"a", "b", "c"}) {
      v1::GenerateStreamResponse chunk;
      chunk.set_text(text);
      if (!writer->Write(chunk)) break;
    }
    return grpc::Status::OK;
  }
};

// ListBatchJobResults serves indexes [start, total); the first
// `break_after` >= 0 stream breaks with UNAVAILABLE after that many results.
// GetBatchJob walks through `states`, failing where a state is UNSPECIFIED.
class FakeBatchJobs final : public v1::BatchJobs::Service {
 public:
  int total = 5;
  std::atomic<int> break_after{-1};
  std::vector<int> start_indexes;
  std::vector<v1::BatchJob::State> states;
  std::atomic<int> gets{0};
  std::string last_request_id;
  absl::Mutex mu;

  grpc::Status ListBatchJobResults(grpc::ServerContext*, const v1::ListBatchJobResultsRequest* request,
                                   grpc::ServerWriter<v1::BatchJobResult>* writer) override {
    {
      absl::MutexLock lock(&mu);
      start_indexes.push_back(request->start_index());
    }
    const int limit = break_after.exchange(-1);
    int sent = 0;
    for (int i = request->start_index(); i < total; ++i) {
      if (limit >= 0 && sent == limit) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting");
      v1::BatchJobResult result;
      result.set_index(i);
      result.set_custom_id("item-" + std::to_string(i));
      writer->Write(result);
      ++sent;
    }
    return grpc::Status::OK;
  }

  grpc::Status GetBatchJob(grpc::ServerContext*, const v1::GetBatchJobRequest* request,
                           v1::BatchJob* job) override {
    const int n = gets++;
    const v1::BatchJob::State state = states[std::min<size_t>(n, states.size() - 1)];
    if (state == v1::BatchJob::STATE_UNSPECIFIED) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "restarting");
    }
    job->set_id(request->id());
    job->set_state(state);
    job->set_total_count(10);
    job->set_succeeded_count(n);
    return grpc::Status::OK;
  }

  grpc::Status CreateBatchJob(grpc::ServerContext*, const v1::CreateBatchJobRequest* request,
                              v1::BatchJob* job) override {
    absl::MutexLock lock(&mu);
    last_request_id = request->request_id();
    job->set_id("job-1");
    return grpc::Status::OK;
  }
};

class GatewayClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&generation_);
    builder.RegisterService(&jobs_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  GatewayClient Client(ClientOptions options = {}) {
    options.target = "127.0.0.1:" + std::to_string(port_);
    options.initial_backoff = absl::Milliseconds(10);
    return GatewayClient(options);
  }

  FakeGeneration generation_;
  FakeBatchJobs jobs_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(GatewayClientTest, RetriesUnavailableByTheServiceConfigPolicy) {
  generation_.fail_first = 2;
  GatewayClient client = Client();
  v1::GenerateRequest request;
  request.set_prompt("hi");
  absl::StatusOr<v1::GenerateResponse> response = client.Generate(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->text(), "echo hi");
  EXPECT_EQ(generation_.calls.load(), 3);
}

TEST_F(GatewayClientTest, GivesUpAfterMaxAttemptsKeepingTheErrorDetails) {
  generation_.fail_first = 100;
  ClientOptions options;
  options.max_attempts = 2;
  GatewayClient client = Client(options);
  absl::StatusOr<v1::GenerateResponse> response = client.Generate(v1::GenerateRequest());
  ASSERT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  EXPECT_EQ(generation_.calls.load(), 2);
  std::optional<google::rpc::ErrorInfo> info = ErrorInfoOf(response.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "UPSTREAM_UNAVAILABLE");
}

TEST_F(GatewayClientTest, OneAttemptMeansNoRetry) {
  generation_.fail_first = 1;
  ClientOptions options;
  options.max_attempts = 1;
  GatewayClient client = Client(options);
  EXPECT_TRUE(absl::IsUnavailable(client.Generate(v1::GenerateRequest()).status()));
  EXPECT_EQ(generation_.calls.load(), 1);
}

TEST_F(GatewayClientTest, EveryCallCarriesTheConfiguredDeadline) {
  ClientOptions options;
  options.timeout = absl::Seconds(42);
  GatewayClient client = Client(options);
  ASSERT_TRUE(client.Generate(v1::GenerateRequest()).ok());
  EXPECT_GT(generation_.last_deadline_ms.load(), 30'000);
  // gRPC sends the deadline as grpc-timeout in coarse units, rounded up: the
  // server has seen 42,099 ms left of a 42 s deadline.
  EXPECT_LE(generation_.last_deadline_ms.load(), 43'000);
}

TEST_F(GatewayClientTest, StreamDeliversChunksInOrderAndStopsWhenAsked) {
  GatewayClient client = Client();
  std::string seen;
  ASSERT_TRUE(client
                  .GenerateStream(v1::GenerateRequest(),
                                  [&](const v1::GenerateStreamResponse& chunk) {
                                    seen += chunk.text();
                                    return true;
                                  })
                  .ok());
  EXPECT_EQ(seen, "abc");

  seen.clear();
  absl::Status stopped = client.GenerateStream(v1::GenerateRequest(),
                                               [&](const v1::GenerateStreamResponse& chunk) {
                                                 seen += chunk.text();
                                                 return false;
                                               });
  EXPECT_EQ(seen, "a");
  EXPECT_TRUE(absl::IsCancelled(stopped)) << stopped;
}

TEST_F(GatewayClientTest, ResultsResumeAfterABrokenStreamWithoutRepeats) {
  jobs_.break_after = 2;
  GatewayClient client = Client();
  std::vector<int> indexes;
  absl::StatusOr<int> next = client.ReadBatchJobResults(
      "job-1", 0, [&](const v1::BatchJobResult& r) { indexes.push_back(r.index()); });
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, 5);
  EXPECT_EQ(indexes, (std::vector<int>{0, 1, 2, 3, 4}));
  absl::MutexLock lock(&jobs_.mu);
  EXPECT_EQ(jobs_.start_indexes, (std::vector<int>{0, 2}));
}

TEST_F(GatewayClientTest, ResultsStartWhereTheCallerSays) {
  GatewayClient client = Client();
  std::vector<int> indexes;
  absl::StatusOr<int> next = client.ReadBatchJobResults(
      "job-1", 3, [&](const v1::BatchJobResult& r) { indexes.push_back(r.index()); });
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(indexes, (std::vector<int>{3, 4}));
}

TEST_F(GatewayClientTest, WaitReportsEachChangeAndRidesThroughARestart) {
  jobs_.states = {v1::BatchJob::STATE_QUEUED, v1::BatchJob::STATE_RUNNING,
                  v1::BatchJob::STATE_UNSPECIFIED, v1::BatchJob::STATE_RUNNING,
                  v1::BatchJob::STATE_SUCCEEDED};
  ClientOptions options;
  options.max_attempts = 1;  // the restart reaches WaitForBatchJob itself
  GatewayClient client = Client(options);
  WaitOptions wait;
  wait.poll_interval = absl::Milliseconds(1);
  std::vector<v1::BatchJob::State> seen;
  absl::StatusOr<v1::BatchJob> job =
      client.WaitForBatchJob("job-1", wait, [&](const v1::BatchJob& j) { seen.push_back(j.state()); });
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state(), v1::BatchJob::STATE_SUCCEEDED);
  EXPECT_EQ(seen.front(), v1::BatchJob::STATE_QUEUED);
  EXPECT_EQ(seen.back(), v1::BatchJob::STATE_SUCCEEDED);
  EXPECT_EQ(jobs_.gets.load(), 5);
}

TEST_F(GatewayClientTest, WaitGivesUpWhenTheGatewayStaysAway) {
  jobs_.states = {v1::BatchJob::STATE_UNSPECIFIED};
  ClientOptions options;
  options.max_attempts = 1;
  GatewayClient client = Client(options);
  WaitOptions wait;
  wait.poll_interval = absl::Milliseconds(1);
  wait.tolerate_unavailable = absl::ZeroDuration();
  EXPECT_TRUE(absl::IsUnavailable(client.WaitForBatchJob("job-1", wait, nullptr).status()));
}

TEST_F(GatewayClientTest, CreateSetsAnIdempotencyKeyOnlyWhenThereIsNone) {
  GatewayClient client = Client();
  ASSERT_TRUE(client.CreateBatchJob(v1::CreateBatchJobRequest()).ok());
  {
    absl::MutexLock lock(&jobs_.mu);
    EXPECT_EQ(jobs_.last_request_id.size(), 32u);
  }
  v1::CreateBatchJobRequest mine;
  mine.set_request_id("nightly-2026-11-29");
  ASSERT_TRUE(client.CreateBatchJob(mine).ok());
  absl::MutexLock lock(&jobs_.mu);
  EXPECT_EQ(jobs_.last_request_id, "nightly-2026-11-29");
}

// Holds every Generate until `expected` are open at once, then answers them
// all: the test passes only if they were all in flight together.
class HeldGeneration final : public v1::Generation::CallbackService {
 public:
  explicit HeldGeneration(int expected) : expected_(expected) {}

  grpc::ServerUnaryReactor* Generate(grpc::CallbackServerContext* context,
                                     const v1::GenerateRequest* request,
                                     v1::GenerateResponse* response) override {
    response->set_text("echo " + request->prompt());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    std::vector<grpc::ServerUnaryReactor*> release;
    {
      absl::MutexLock lock(&mu_);
      held_.push_back(reactor);
      if (static_cast<int>(held_.size()) == expected_) release.swap(held_);
    }
    for (grpc::ServerUnaryReactor* r : release) r->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const int expected_;
  absl::Mutex mu_;
  std::vector<grpc::ServerUnaryReactor*> held_;
};

TEST(GatewayClientAsyncTest, FiveHundredCallsInFlightFromOneThread) {
  constexpr int kCalls = 500;
  HeldGeneration service(kCalls);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  // Declared before the client, so they outlive its destructor, which waits
  // for the callbacks to be wholly done.
  absl::Mutex mu;
  int done = 0;
  int ok = 0;
  ClientOptions options;
  options.target = "127.0.0.1:" + std::to_string(port);
  GatewayClient client(options);
  for (int i = 0; i < kCalls; ++i) {
    v1::GenerateRequest request;
    request.set_prompt(std::to_string(i));
    client.GenerateAsync(std::move(request), [&, i](absl::StatusOr<v1::GenerateResponse> r) {
      absl::MutexLock lock(&mu);
      ++done;
      if (r.ok() && r->text() == "echo " + std::to_string(i)) {
        ++ok;
      }
    });
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(+[](int* d) { return *d == kCalls; }, &done));
    EXPECT_EQ(ok, kCalls);
  }
  server->Shutdown();
}

TEST_F(GatewayClientTest, TheClientOutlivesItsAsyncCalls) {
  // Calls still running when the client goes: its destructor waits for them
  // (each callback runs once), and nothing is freed twice (ASan).
  generation_.delay_ms = 1000;
  std::atomic<int> finished{0};
  {
    ClientOptions options;
    options.timeout = absl::Milliseconds(100);
    GatewayClient client = Client(options);
    for (int i = 0; i < 20; ++i) {
      client.GenerateAsync(v1::GenerateRequest(), [&](absl::StatusOr<v1::GenerateResponse> r) {
        EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
        ++finished;
      });
    }
  }
  EXPECT_EQ(finished.load(), 20);
}

}  // namespace
}  // namespace llmgateway::client
