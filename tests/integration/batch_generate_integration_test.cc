// BatchGenerate through the real llm_gateway binary against fakellm: bounded
// concurrency upstream, every index reported exactly once with per-item
// errors, results in completion order, a slow reader holding back the rest
// of the batch, cancellation reaching the running items, and the RPC's own
// INVALID_ARGUMENTs.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "tests/integration/fakellm_client.h"
#include "tests/integration/gateway_fixture.h"

namespace llmgateway {
namespace {

using ::llmgateway::testing::CallError;
using ::llmgateway::testing::Decode;
using ::llmgateway::testing::FakeLlmStat;
using ::llmgateway::v1::BatchGenerateRequest;
using ::llmgateway::v1::BatchGenerateResponse;
using ::llmgateway::v1::GenerateRequest;

testing::Servers* const servers = testing::AddServers("batch");

GenerateRequest Prompt(const std::string& model, const std::string& prompt) {
  GenerateRequest request;
  request.set_model(model);
  request.set_prompt(prompt);
  return request;
}

int FakeLlmPort() { return servers->fakellm->port(); }

// Polls `done` every 20 ms for up to `timeout`; true once it holds.
template <typename Predicate>
bool WaitFor(Predicate done, absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time give_up = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

// Each test starts from an idle upstream (an earlier test's cancelled
// transfers have closed) and zeroed counters.
class BatchGenerateIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(WaitFor([] { return FakeLlmStat(FakeLlmPort(), "in_flight") == 0; }))
        << "fakellm still busy from an earlier test";
    testing::HttpRequest(FakeLlmPort(), "DELETE", "/_stats");
    testing::HttpRequest(FakeLlmPort(), "DELETE", "/_requests");
  }
};

// What a caller sees of one item's error.
struct ItemError {
  int code = 0;
  std::string message;
  google::rpc::ErrorInfo info;
  bool has_bad_request = false;
  google::rpc::BadRequest bad_request;
};

ItemError DecodeItem(const google::rpc::Status& status) {
  ItemError error;
  error.code = status.code();
  error.message = status.message();
  for (const auto& any : status.details()) {
    if (any.UnpackTo(&error.info)) continue;
    if (any.UnpackTo(&error.bad_request)) error.has_bad_request = true;
  }
  return error;
}

struct Batch {
  std::vector<BatchGenerateResponse> results;  // in arrival order
  grpc::Status status;
};

Batch RunBatch(const BatchGenerateRequest& request, const std::string& request_id = "") {
  auto stub = v1::Generation::NewStub(servers->channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  if (!request_id.empty()) context.AddMetadata("x-request-id", request_id);
  auto reader = stub->BatchGenerate(&context, request);
  Batch batch;
  BatchGenerateResponse result;
  while (reader->Read(&result)) batch.results.push_back(result);
  batch.status = reader->Finish();
  return batch;
}

TEST_F(BatchGenerateIntegrationTest, BoundedConcurrencyEveryIndexOnceWithPerItemErrors) {
  constexpr int kItems = 50;
  constexpr int kConcurrency = 5;
  constexpr int kNoModel = 11;      // fails validation: no model
  constexpr int kBothInputs = 23;   // fails validation: prompt and messages
  auto upstream_400 = [](int i) { return i % 7 == 6; };
  BatchGenerateRequest request;
  request.set_max_concurrency(kConcurrency);
  for (int i = 0; i < kItems; ++i) {
    // Slow enough that items overlap; each prompt names its item.
    GenerateRequest* item = request.add_requests();
    *item = Prompt(upstream_400(i) ? "fake-model?delay_ms=200&status=400"
                                   : "fake-model?delay_ms=200&tokens=4",
                   absl::StrCat("item-", i));
  }
  request.mutable_requests(kNoModel)->clear_model();
  request.mutable_requests(kBothInputs)->add_messages()->add_parts()->set_text("x");

  Batch batch = RunBatch(request, "batch-mixed");
  ASSERT_TRUE(batch.status.ok()) << batch.status.error_message();

  ASSERT_EQ(batch.results.size(), static_cast<size_t>(kItems));
  std::map<int, const BatchGenerateResponse*> by_index;
  for (const BatchGenerateResponse& result : batch.results) {
    EXPECT_TRUE(by_index.emplace(result.index(), &result).second)
        << "index " << result.index() << " reported twice";
  }
  ASSERT_EQ(by_index.size(), static_cast<size_t>(kItems));
  EXPECT_EQ(by_index.begin()->first, 0);
  EXPECT_EQ(by_index.rbegin()->first, kItems - 1);

  int upstream_calls = 0;
  for (const auto& [index, result] : by_index) {
    SCOPED_TRACE(absl::StrCat("item ", index));
    if (index == kNoModel || index == kBothInputs) {
      ASSERT_TRUE(result->has_error());
      ItemError error = DecodeItem(result->error());
      EXPECT_EQ(error.code, static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
      const std::string field = index == kNoModel ? "model" : "prompt";
      EXPECT_EQ(error.message.rfind(field + ":", 0), 0u) << error.message;
      EXPECT_EQ(error.info.domain(), "llmgateway");
      EXPECT_EQ(error.info.reason(), "INVALID_REQUEST");
      ASSERT_TRUE(error.has_bad_request);
      ASSERT_EQ(error.bad_request.field_violations_size(), 1);
      EXPECT_EQ(error.bad_request.field_violations(0).field(), field);
      continue;
    }
    ++upstream_calls;
    if (upstream_400(index)) {
      ASSERT_TRUE(result->has_error());
      ItemError error = DecodeItem(result->error());
      EXPECT_EQ(error.code, static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT))
          << error.message;
      EXPECT_EQ(error.info.domain(), "llmgateway");
      EXPECT_EQ(error.info.reason(), "UPSTREAM_INVALID_REQUEST");
      EXPECT_EQ(error.info.metadata().at("upstreamStatus"), "400");
      continue;
    }
    ASSERT_TRUE(result->has_response()) << result->error().message();
    // The answer is this item's, not a neighbour's.
    EXPECT_EQ(result->response().text(), absl::StrCat("Echo: item-", index, " lorem ipsum"));
    EXPECT_EQ(result->response().provider(), "openai");
  }

  // Concurrent, but never more than asked.
  const long peak = FakeLlmStat(FakeLlmPort(), "peak_in_flight");
  EXPECT_LE(peak, kConcurrency);
  EXPECT_GT(peak, 1);
  // Items that failed validation never reached the upstream; 400s are not
  // retried.
  EXPECT_EQ(FakeLlmStat(FakeLlmPort(), "requests"), upstream_calls);
  // Each item carries the RPC's request id plus its index.
  auto sent = testing::FindRequest(FakeLlmPort(), "\"item-5\"");
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->headers["x-request-id"], "batch-mixed-5");
}

TEST_F(BatchGenerateIntegrationTest, ResultsStreamInCompletionOrder) {
  BatchGenerateRequest request;
  request.set_max_concurrency(5);
  *request.add_requests() = Prompt("fake-model?delay_ms=3000", "slow");
  for (int i = 1; i < 5; ++i) *request.add_requests() = Prompt("fake-model", "fast");
  Batch batch = RunBatch(request);
  ASSERT_TRUE(batch.status.ok()) << batch.status.error_message();
  ASSERT_EQ(batch.results.size(), 5u);
  // The slow first item did not hold back the four fast ones behind it.
  EXPECT_EQ(batch.results.back().index(), 0);
}

TEST_F(BatchGenerateIntegrationTest, ZeroConcurrencyTakesTheDefaultAndTooMuchIsClamped) {
  BatchGenerateRequest request;
  for (int i = 0; i < 24; ++i) {
    *request.add_requests() = Prompt("fake-model?delay_ms=300", absl::StrCat("d", i));
  }
  Batch batch = RunBatch(request);  // max_concurrency 0: the default, 8
  ASSERT_TRUE(batch.status.ok()) << batch.status.error_message();
  EXPECT_EQ(batch.results.size(), 24u);
  EXPECT_LE(FakeLlmStat(FakeLlmPort(), "peak_in_flight"), 8);

  ASSERT_TRUE(WaitFor([] { return FakeLlmStat(FakeLlmPort(), "in_flight") == 0; }));
  testing::HttpRequest(FakeLlmPort(), "DELETE", "/_stats");
  request.clear_requests();
  for (int i = 0; i < 100; ++i) {
    *request.add_requests() = Prompt("fake-model?delay_ms=300", absl::StrCat("c", i));
  }
  request.set_max_concurrency(1000);  // above the cap (64): clamped, not refused
  batch = RunBatch(request);
  ASSERT_TRUE(batch.status.ok()) << batch.status.error_message();
  EXPECT_EQ(batch.results.size(), 100u);
  const long peak = FakeLlmStat(FakeLlmPort(), "peak_in_flight");
  EXPECT_LE(peak, 64);
  EXPECT_GT(peak, 8);
}

TEST_F(BatchGenerateIntegrationTest, SlowReaderHoldsBackTheRestOfTheBatch) {
  constexpr int kItems = 200;
  constexpr int kConcurrency = 4;
  // A caller whose HTTP/2 stream window stays at 64 KiB (no BDP growth), so
  // what it does not read cannot hide in its own transport buffers.
  constexpr int kWindowBytes = 64 * 1024;
  grpc::ChannelArguments args;
  args.SetInt("grpc.http2.bdp_probe", 0);
  args.SetInt("grpc.http2.lookahead_bytes", kWindowBytes);
  args.SetInt("grpc.channel_id", 77);
  auto stub = v1::Generation::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", servers->gateway->port()), grpc::InsecureChannelCredentials(),
      args));
  // Fast items with answers of about 19 KB (text and message), so that a
  // few fill the window.
  BatchGenerateRequest request;
  request.set_max_concurrency(kConcurrency);
  for (int i = 0; i < kItems; ++i) {
    *request.add_requests() = Prompt("fake-model?tokens=1500", absl::StrCat("r", i));
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  auto reader = stub->BatchGenerate(&context, request);
  BatchGenerateResponse result;
  ASSERT_TRUE(reader->Read(&result));
  const size_t result_bytes = result.ByteSizeLong();
  ASSERT_GT(result_bytes, 4096u) << "answers too small to fill the window";

  // Stop reading. The gateway may run what fits in our window, its own
  // buffer (under 2 x max_concurrency results, the one being written
  // included); then the upstream goes idle, far short of the batch.
  auto requests = [] { return FakeLlmStat(FakeLlmPort(), "requests"); };
  long seen = requests();
  ASSERT_TRUE(WaitFor(
      [&] {
        // Idle, and no new request over the last 500 ms.
        absl::SleepFor(absl::Milliseconds(500));
        const long now = requests();
        const bool settled = now == seen && FakeLlmStat(FakeLlmPort(), "in_flight") == 0;
        seen = now;
        return settled;
      },
      absl::Seconds(30)))
      << "the upstream never settled while the caller was not reading";
  // What may have started: the result read, those whose writes completed
  // into our HTTP/2 window, and at most max_concurrency results buffered or
  // running in the gateway (the write stuck half-way through the window
  // among them). The window is 64 KiB, which gRPC widens by up to a message
  // while one is being read; allow four windows' worth of results for that
  // slack (8-10 items seen in practice, 18 allowed). Without backpressure
  // all 200 would run.
  const long bound = 1 + 4 * kWindowBytes / static_cast<long>(result_bytes) + 2 * kConcurrency;
  std::printf("slow reader: %ld of %d items started upstream (result %zu bytes, bound %ld)\n",
              seen, kItems, result_bytes, bound);
  EXPECT_LE(seen, bound);

  // Reading again lets the rest run: every item arrives, once.
  std::vector<bool> got(kItems, false);
  got[result.index()] = true;
  int count = 1;
  while (reader->Read(&result)) {
    ASSERT_TRUE(result.has_response()) << result.error().message();
    EXPECT_FALSE(got[result.index()]);
    got[result.index()] = true;
    ++count;
  }
  const grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(count, kItems);
  EXPECT_EQ(requests(), kItems);
}

TEST_F(BatchGenerateIntegrationTest, CancelAbortsRunningItemsAndStartsNoMore) {
  constexpr int kConcurrency = 3;
  BatchGenerateRequest request;
  request.set_max_concurrency(kConcurrency);
  // One fast item for a first result, then items the upstream stalls.
  *request.add_requests() = Prompt("fake-model", "first");
  for (int i = 1; i < 20; ++i) {
    *request.add_requests() = Prompt("fake-model?delay_ms=60000", absl::StrCat("stall-", i));
  }
  auto stub = v1::Generation::NewStub(servers->channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  auto reader = stub->BatchGenerate(&context, request);
  BatchGenerateResponse result;
  ASSERT_TRUE(reader->Read(&result));
  EXPECT_EQ(result.index(), 0);
  ASSERT_TRUE(result.has_response());
  // Once the first result is written, its slot goes to a stalled item.
  ASSERT_TRUE(WaitFor([] { return FakeLlmStat(FakeLlmPort(), "in_flight") == kConcurrency; }));
  const long started = FakeLlmStat(FakeLlmPort(), "requests");
  EXPECT_EQ(started, 1 + kConcurrency);

  context.TryCancel();
  while (reader->Read(&result)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The running items' upstream transfers were aborted...
  EXPECT_TRUE(WaitFor([] { return FakeLlmStat(FakeLlmPort(), "closed_early") >= kConcurrency; }))
      << "closed_early " << FakeLlmStat(FakeLlmPort(), "closed_early");
  EXPECT_TRUE(WaitFor([] { return FakeLlmStat(FakeLlmPort(), "in_flight") == 0; }));
  // ...and nothing started after them.
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(FakeLlmStat(FakeLlmPort(), "requests"), started);
  EXPECT_EQ(FakeLlmStat(FakeLlmPort(), "closed_early"), kConcurrency);
}

TEST_F(BatchGenerateIntegrationTest, NegativeConcurrencyIsInvalidArgument) {
  BatchGenerateRequest request;
  *request.add_requests() = Prompt("fake-model", "x");
  request.set_max_concurrency(-1);
  Batch batch = RunBatch(request);
  EXPECT_TRUE(batch.results.empty());
  CallError error = Decode(batch.status);
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(error.message.rfind("max_concurrency:", 0), 0u) << error.message;
  EXPECT_EQ(error.info.reason(), "INVALID_REQUEST");
  EXPECT_EQ(error.info.metadata().at("field"), "max_concurrency");
  EXPECT_EQ(FakeLlmStat(FakeLlmPort(), "requests"), 0);
}

TEST_F(BatchGenerateIntegrationTest, EmptyBatchIsInvalidArgument) {
  Batch batch = RunBatch(BatchGenerateRequest());
  EXPECT_TRUE(batch.results.empty());
  CallError error = Decode(batch.status);
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(error.message.rfind("requests:", 0), 0u) << error.message;
  EXPECT_EQ(error.info.metadata().at("field"), "requests");
}

}  // namespace
}  // namespace llmgateway
