// The call engine (server/routing/) through the real llm_gateway binary
// against fakellm: Retry-After, retries then fallback (unary and stream),
// no retry after a stream's first delta, deployment cooldown and recovery,
// per-provider max_connections, the admission queue cap, connection refused
// with its attempts in the log, and libcurl never re-sending a POST itself.
//
// Every test writes its own --config and starts its own fakellm(s) and
// gateway, so counters and circuit breakers never leak between tests.
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "tests/integration/fakellm_client.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

using ::llmgateway::testing::CallError;
using ::llmgateway::testing::Decode;
using ::llmgateway::testing::FakeLlmStat;
using ::llmgateway::testing::HttpRequest;
using ::llmgateway::testing::RecordedRequests;
using ::llmgateway::testing::StartFakeLlm;
using ::llmgateway::testing::StartGateway;
using ::llmgateway::testing::Subprocess;
using ::llmgateway::testing::TempPath;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;
using ::llmgateway::v1::GenerateStreamResponse;

constexpr const char* kApiKey = ::llmgateway::testing::kTestApiKey;

// `retry { initial_backoff: 50ms }`: retries stay fast (full jitter, so each
// wait is at most 50 ms, 100 ms, ...).
constexpr const char* kFastRetry = "retry { initial_backoff { nanos: 50000000 } }\n";

std::string BaseUrl(int port) { return absl::StrCat("http://127.0.0.1:", port, "/v1"); }

// A `providers { ... }` entry of kind "openai" at 127.0.0.1:port.
std::string Provider(const std::string& name, int port, const std::string& extra = "") {
  return absl::StrCat("providers { name: \"", name, "\" kind: \"openai\" base_url: \"",
                      BaseUrl(port), "\" ", extra, " }\n");
}

// The gateway with `config` as its --config (written to $TEST_TMPDIR), and
// the fixture's --openai_base_url (a pass-through provider "openai" no test
// alias uses) pointing at `default_upstream`.
std::unique_ptr<Subprocess> StartWithConfig(const std::string& name, const std::string& config,
                                            const Subprocess& default_upstream) {
  const std::string path = TempPath(name + ".textproto");
  {
    std::ofstream file(path);
    file << config;
  }
  return StartGateway(BaseUrl(default_upstream.port()), {"--config=" + path},
                      name + "-gateway.log");
}

GenerateRequest Prompt(const std::string& model, const std::string& prompt = "hi") {
  GenerateRequest request;
  request.set_model(model);
  request.set_prompt(prompt);
  return request;
}

std::chrono::system_clock::time_point DeadlineIn(absl::Duration d) {
  return std::chrono::system_clock::now() +
         std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

grpc::Status Generate(const std::shared_ptr<grpc::Channel>& channel,
                      const GenerateRequest& request, GenerateResponse* response,
                      absl::Duration timeout = absl::Seconds(30)) {
  auto stub = v1::Generation::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(timeout));
  return stub->Generate(&context, request, response);
}

struct Collected {
  std::vector<GenerateStreamResponse> messages;
  std::string text;
  grpc::Status status;
};

Collected Stream(const std::shared_ptr<grpc::Channel>& channel, const GenerateRequest& request,
                 absl::Duration timeout = absl::Seconds(30)) {
  auto stub = v1::Generation::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(timeout));
  auto reader = stub->GenerateStream(&context, request);
  Collected collected;
  GenerateStreamResponse message;
  while (reader->Read(&message)) {
    collected.text += message.text();
    collected.messages.push_back(message);
  }
  collected.status = reader->Finish();
  return collected;
}

// An integer field of a /_stats answer, or -1.
long StatIn(const std::string& stats, const std::string& name) {
  long value = -1;
  if (!absl::SimpleAtoi(testing::JsonAt(stats, "/" + name), &value)) return -1;
  return value;
}

// An ErrorInfo metadata value, or "" (never throws, so the test goes on).
std::string Meta(const CallError& error, const std::string& key) {
  auto it = error.info.metadata().find(key);
  return it == error.info.metadata().end() ? "" : it->second;
}

long Requests(const Subprocess& fakellm) { return FakeLlmStat(fakellm.port(), "requests"); }

// The gateway's log lines for calls whose model is `model`, once there are
// at least `at_least` (each is written before the call's status is sent,
// but polled a little anyway).
std::vector<std::string> LogLinesFor(const Subprocess& gateway, const std::string& rpc,
                                     const std::string& model, size_t at_least = 1) {
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (true) {
    std::vector<std::string> lines;
    for (absl::string_view line : absl::StrSplit(gateway.ReadStderr(), '\n')) {
      if (absl::StrContains(line, absl::StrCat("rpc=", rpc, " ")) &&
          absl::StrContains(line, absl::StrCat(" model=", model, " "))) {
        lines.emplace_back(line);
      }
    }
    if (lines.size() >= at_least || absl::Now() > give_up) return lines;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

// The first of them, or "".
std::string LogLineFor(const Subprocess& gateway, const std::string& rpc,
                       const std::string& model) {
  std::vector<std::string> lines = LogLinesFor(gateway, rpc, model);
  return lines.empty() ? "" : lines.front();
}

// Stops the gateway (SIGTERM: drain, exit 0). Under --config=asan a memory
// error or a leak found at exit makes the exit status non-zero.
void ExpectCleanExit(Subprocess& gateway) {
  const int status = gateway.Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "gateway exit status " << status << "; its log:\n"
      << gateway.ReadStderr();
}

int CountOf(absl::string_view text, absl::string_view needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != absl::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// Many unary calls at once (callback API), each timed from the common start.
struct ConcurrentCall {
  grpc::ClientContext context;
  GenerateRequest request;
  GenerateResponse response;
  grpc::Status status;
  absl::Duration done_after;
};

std::vector<std::unique_ptr<ConcurrentCall>> GenerateConcurrently(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& model, int n,
    absl::Duration timeout) {
  auto stub = v1::Generation::NewStub(channel);
  std::vector<std::unique_ptr<ConcurrentCall>> calls;
  absl::Mutex mu;
  absl::CondVar all_done;
  int done = 0;
  const absl::Time start = absl::Now();
  for (int i = 0; i < n; ++i) {
    auto call = std::make_unique<ConcurrentCall>();
    call->context.set_deadline(DeadlineIn(timeout));
    call->request = Prompt(model, absl::StrCat("call-", i));
    stub->async()->Generate(&call->context, &call->request, &call->response,
                            [&, c = call.get()](grpc::Status status) {
                              absl::MutexLock lock(&mu);
                              c->status = std::move(status);
                              c->done_after = absl::Now() - start;
                              if (++done == n) all_done.Signal();
                            });
    calls.push_back(std::move(call));
  }
  absl::MutexLock lock(&mu);
  while (done < n) all_done.Wait(&mu);
  return calls;
}

// 1. 429 with Retry-After: 1, then 200: the engine waits what the upstream
// asked (not its 50 ms backoff) and the second attempt succeeds.
TEST(RoutingIntegrationTest, RetryAfterIsHonouredThenTheRetrySucceeds) {
  auto fakellm = StartFakeLlm("retry-after-fakellm.log");
  const std::string model = "fake-model?status=429&retry_after=1&fail_first=1";
  auto gateway = StartWithConfig(
      "retry-after",
      absl::StrCat(Provider("p1", fakellm->port()), kFastRetry,
                   "models { name: \"m\" provider: \"p1\" upstream_model: \"", model, "\" }\n"),
      *fakellm);
  auto channel = testing::ChannelTo(*gateway);

  GenerateResponse response;
  const absl::Time start = absl::Now();
  grpc::Status status = Generate(channel, Prompt("m"), &response);
  const absl::Duration elapsed = absl::Now() - start;
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::printf("429 + Retry-After: 1, then 200: %.3f s\n", absl::ToDoubleSeconds(elapsed));
  EXPECT_GE(elapsed, absl::Milliseconds(900));
  EXPECT_LT(elapsed, absl::Seconds(10));
  EXPECT_EQ(response.provider(), "p1");
  EXPECT_EQ(response.text(), "Echo: hi lorem ipsum dolor sit amet consectetur");
  EXPECT_EQ(Requests(*fakellm), 2);

  const std::string line = LogLineFor(*gateway, "Generate", "m");
  EXPECT_NE(line.find(" code=OK "), std::string::npos) << line;
  EXPECT_NE(line.find("attempts=2 [p1/" + model + ":RESOURCE_EXHAUSTED/429:"), std::string::npos)
      << line;
  EXPECT_NE(line.find(",p1/" + model + ":OK/200:"), std::string::npos) << line;
  ExpectCleanExit(*gateway);
}

// 2. A primary that always answers 503: the default policy tries it 3 times
// (1 + 2 retries), then the fallback alias answers, in both RPCs.
TEST(RoutingIntegrationTest, DefaultRetriesThenFallbackForUnaryAndStream) {
  auto primary = StartFakeLlm("fallback-primary-fakellm.log");
  auto backup = StartFakeLlm("fallback-backup-fakellm.log");
  auto gateway = StartWithConfig(
      "fallback",
      absl::StrCat(Provider("p1", primary->port()), Provider("p2", backup->port()), kFastRetry,
                   // High enough that the first call's 3 failures do not
                   // cool the primary down for the second call.
                   "cooldown { failures: 100 }\n",
                   "models { name: \"primary\" provider: \"p1\" "
                   "upstream_model: \"fake-model?status=503\" fallbacks: \"backup\" }\n",
                   "models { name: \"backup\" provider: \"p2\" upstream_model: \"fake-model\" }\n"),
      *primary);
  auto channel = testing::ChannelTo(*gateway);

  GenerateResponse response;
  grpc::Status status = Generate(channel, Prompt("primary", "unary"), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.provider(), "p2");
  EXPECT_EQ(response.text(), "Echo: unary lorem ipsum dolor sit amet consectetur");
  EXPECT_EQ(Requests(*primary), 3);
  EXPECT_EQ(Requests(*backup), 1);
  const std::string unary_line = LogLineFor(*gateway, "Generate", "primary");
  EXPECT_NE(unary_line.find(" provider=p2 "), std::string::npos) << unary_line;
  EXPECT_NE(unary_line.find("attempts=4 "), std::string::npos) << unary_line;
  EXPECT_EQ(CountOf(unary_line, "p1/fake-model?status=503:UNAVAILABLE/503:"), 3) << unary_line;

  Collected c = Stream(channel, Prompt("primary", "streamed"));
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  EXPECT_EQ(c.text, "Echo: streamed lorem ipsum dolor sit amet consectetur");
  ASSERT_GE(c.messages.size(), 2u);
  // Who answers is on the first and the last message (the ones between stay
  // lean), and it is never the primary.
  EXPECT_EQ(c.messages.front().provider(), "p2");
  EXPECT_EQ(c.messages.back().provider(), "p2");
  for (const GenerateStreamResponse& m : c.messages) {
    EXPECT_TRUE(m.provider().empty() || m.provider() == "p2") << m.provider();
  }
  EXPECT_EQ(c.messages.back().finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(Requests(*primary), 6);
  EXPECT_EQ(Requests(*backup), 2);
  const std::string stream_line = LogLineFor(*gateway, "GenerateStream", "primary");
  EXPECT_NE(stream_line.find("attempts=4 "), std::string::npos) << stream_line;
  ExpectCleanExit(*gateway);
}

// 3. A stream that breaks after its first delta: the caller already has part
// of an answer, so there is no retry and no fallback (a second attempt
// would repeat the text), only a non-OK status.
struct AfterFirstDeltaCase {
  std::string fault;
  std::string reason;
};

void PrintTo(const AfterFirstDeltaCase& c, std::ostream* os) { *os << c.fault; }

class AfterFirstDeltaTest : public ::testing::TestWithParam<AfterFirstDeltaCase> {};

TEST_P(AfterFirstDeltaTest, NoRetryNoFallbackNoDuplicatedText) {
  const std::string name = "after-first-delta-" + GetParam().fault;
  auto fakellm = StartFakeLlm(name + "-fakellm.log");
  auto gateway = StartWithConfig(
      name,
      absl::StrCat(Provider("p1", fakellm->port()), kFastRetry,
                   "models { name: \"primary\" provider: \"p1\" upstream_model: "
                   "\"fake-model?tokens=6&fault=",
                   GetParam().fault,
                   "\" fallbacks: \"backup\" }\n"
                   "models { name: \"backup\" provider: \"p1\" upstream_model: \"fake-model\" }\n"),
      *fakellm);
  auto channel = testing::ChannelTo(*gateway);

  Collected c = Stream(channel, Prompt("primary"));
  CallError error = Decode(c.status);
  EXPECT_EQ(error.code, grpc::StatusCode::UNAVAILABLE) << error.message;
  EXPECT_EQ(error.info.reason(), GetParam().reason) << error.message;
  EXPECT_EQ(Meta(error, "provider"), "p1");
  // Exactly the first token, once: no second attempt's text after it.
  EXPECT_EQ(c.text, "Echo: ");
  ASSERT_FALSE(c.messages.empty());
  EXPECT_EQ(c.messages.front().provider(), "p1");
  for (const GenerateStreamResponse& m : c.messages) {
    EXPECT_TRUE(m.provider().empty() || m.provider() == "p1") << m.provider();
    EXPECT_EQ(m.finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
  }
  // One upstream request in all: the primary's; none to the backup alias.
  EXPECT_EQ(Requests(*fakellm), 1);
  const auto recorded = RecordedRequests(fakellm->port());
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_NE(recorded[0].body.find("fault=" + GetParam().fault), std::string::npos);
  const std::string line = LogLineFor(*gateway, "GenerateStream", "primary");
  EXPECT_NE(line.find("attempts=1 [p1/"), std::string::npos) << line;
  ExpectCleanExit(*gateway);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, AfterFirstDeltaTest,
    ::testing::Values(AfterFirstDeltaCase{"drop", "UPSTREAM_STREAM_BROKEN"},
                      AfterFirstDeltaCase{"error_event", "UPSTREAM_STREAM_ERROR"}),
    [](const ::testing::TestParamInfo<AfterFirstDeltaCase>& info) { return info.param.fault; });

// 4. Two deployments; B dies. After `failures` (2) failed attempts B is out
// of rotation for `period`: no call reaches it. Once revived and the period
// is over, B serves calls again.
TEST(RoutingIntegrationTest, DeadDeploymentCoolsDownThenComesBack) {
  auto a = StartFakeLlm("cooldown-a-fakellm.log");
  auto b = StartFakeLlm("cooldown-b-fakellm.log");
  constexpr absl::Duration kPeriod = absl::Seconds(2);
  auto gateway = StartWithConfig(
      "cooldown",
      absl::StrCat(Provider("pa", a->port()), Provider("pb", b->port()),
                   "retry { max_retries: 0 }\n"
                   "cooldown { failures: 2 period { seconds: 2 } }\n"
                   "models { name: \"m\" upstream_model: \"fake-model\" "
                   "deployments { provider: \"pa\" } deployments { provider: \"pb\" } }\n"),
      *a);
  auto channel = testing::ChannelTo(*gateway);
  auto call_ok = [&](const std::string& prompt, std::string* provider) {
    GenerateResponse response;
    grpc::Status status = Generate(channel, Prompt("m", prompt), &response);
    EXPECT_TRUE(status.ok()) << prompt << ": " << status.error_message();
    if (provider != nullptr) *provider = response.provider();
    return status.ok();
  };

  // Both healthy: traffic goes to both (equal weights: an even chance each
  // time, so 60 calls all to one of them would be a 1-in-2^59 fluke).
  bool a_served = false;
  bool b_served = false;
  for (int i = 0; i < 60 && !(a_served && b_served); ++i) {
    std::string provider;
    ASSERT_TRUE(call_ok(absl::StrCat("warm-", i), &provider));
    a_served |= provider == "pa";
    b_served |= provider == "pb";
  }
  ASSERT_TRUE(a_served && b_served) << "calls do not spread over the deployments";

  HttpRequest(b->port(), "PUT", "/_fault", R"({"status":503})");
  HttpRequest(b->port(), "DELETE", "/_stats");
  ASSERT_EQ(Requests(*b), 0);

  // Sequential calls until B has failed twice. Every call still succeeds:
  // B's failure (no retries) moves the call to A, the other deployment.
  absl::Time opened_before = absl::InfinitePast();  // the breaker opened after this
  absl::Time opened_by = absl::InfinitePast();      // ...and by this
  for (int i = 0; i < 200 && Requests(*b) < 2; ++i) {
    const absl::Time started = absl::Now();
    std::string provider;
    ASSERT_TRUE(call_ok(absl::StrCat("kill-", i), &provider));
    EXPECT_EQ(provider, "pa");
    opened_before = started;
    opened_by = absl::Now();
  }
  ASSERT_EQ(Requests(*b), 2) << "B was never picked";

  // Cooling: the breaker opened no earlier than `opened_before`, so it stays
  // open until at least opened_before + period. Calls made well within that
  // must all go to A (up to 20 of them).
  const long a_before = Requests(*a);
  int calls = 0;
  while (calls < 20 && absl::Now() + absl::Milliseconds(300) < opened_before + kPeriod) {
    std::string provider;
    ASSERT_TRUE(call_ok(absl::StrCat("cooling-", calls), &provider));
    EXPECT_EQ(provider, "pa");
    ++calls;
  }
  std::printf("cooling: %d calls within the period, B requests %ld\n", calls, Requests(*b));
  EXPECT_GE(calls, 5) << "the machine was too slow to test the cooling period";
  EXPECT_EQ(Requests(*b), 2) << "a call reached B while it was cooling";
  EXPECT_EQ(Requests(*a), a_before + calls);

  // Revived, and the period over: B is probed and serves calls again.
  HttpRequest(b->port(), "DELETE", "/_fault");
  absl::SleepFor(opened_by + kPeriod + absl::Milliseconds(300) - absl::Now());
  int to_b = 0;
  for (int i = 0; i < 40 && to_b < 3; ++i) {
    std::string provider;
    ASSERT_TRUE(call_ok(absl::StrCat("revived-", i), &provider));
    if (provider == "pb") ++to_b;
  }
  EXPECT_EQ(to_b, 3) << "B never came back into rotation";
  EXPECT_EQ(Requests(*b), 2 + to_b);
  ExpectCleanExit(*gateway);
}

// 5. max_connections: 4 with 50 concurrent calls of ~200 ms each: never more
// than 4 upstream requests at once, the rest wait in the gateway's queue and
// all succeed.
TEST(RoutingIntegrationTest, MaxConnectionsBoundsUpstreamRequestsInFlight) {
  constexpr int kCalls = 50;
  auto fakellm = StartFakeLlm("max-connections-fakellm.log");
  auto gateway = StartWithConfig(
      "max-connections",
      absl::StrCat(Provider("p1", fakellm->port(), "max_connections: 4"),
                   "models { name: \"slow\" provider: \"p1\" "
                   "upstream_model: \"fake-model?delay_ms=200\" }\n"),
      *fakellm);
  auto channel = testing::ChannelTo(*gateway);
  HttpRequest(fakellm->port(), "DELETE", "/_stats");

  const absl::Time start = absl::Now();
  auto calls = GenerateConcurrently(channel, "slow", kCalls, absl::Seconds(60));
  const absl::Duration elapsed = absl::Now() - start;
  int ok = 0;
  for (const auto& call : calls) {
    if (call->status.ok() && call->response.provider() == "p1") {
      ++ok;
    } else if (ok == 0) {
      ADD_FAILURE() << call->status.error_message();
    }
  }
  EXPECT_EQ(ok, kCalls);
  // One GET: a second one could overlap the first's connection on fakellm's
  // side and count it.
  const std::string stats = testing::HttpGet(fakellm->port(), "/_stats");
  const long peak_in_flight = StatIn(stats, "peak_in_flight");
  const long peak_connections = StatIn(stats, "peak_connections");
  std::printf(
      "max_connections 4, %d calls of 200 ms: %.2f s, upstream peak_in_flight %ld, "
      "peak_connections %ld (includes the test's own /_stats connection), requests %ld\n",
      kCalls, absl::ToDoubleSeconds(elapsed), peak_in_flight, peak_connections,
      Requests(*fakellm));
  EXPECT_LE(peak_in_flight, 4);
  EXPECT_GE(peak_in_flight, 1);
  // HTTP/1.1: at most 4 requests in flight means at most 4 connections (curl
  // reuses the pooled ones), plus the one this test asks /_stats on.
  EXPECT_LE(peak_connections, 4 + 1);
  EXPECT_EQ(Requests(*fakellm), kCalls);
  // 50 x 200 ms over at most 4 at once takes at least 2.5 s.
  EXPECT_GE(elapsed, absl::Milliseconds(2400));
  EXPECT_LT(elapsed, absl::Seconds(40));
  ExpectCleanExit(*gateway);
}

// 6. max_connections: 1 and max_queued_requests: 2: of 6 slow calls at once,
// one is in flight, two wait, and the rest fail at once RESOURCE_EXHAUSTED
// with RetryInfo (UPSTREAM_QUEUE_FULL), never reaching the upstream.
TEST(RoutingIntegrationTest, FullAdmissionQueueFailsFastWithRetryInfo) {
  constexpr int kCalls = 6;
  auto fakellm = StartFakeLlm("queue-full-fakellm.log");
  auto gateway = StartWithConfig(
      "queue-full",
      absl::StrCat(Provider("p1", fakellm->port(), "max_connections: 1"),
                   "max_queued_requests: 2\n"
                   "models { name: \"slow\" provider: \"p1\" "
                   "upstream_model: \"fake-model?delay_ms=2000\" }\n"),
      *fakellm);
  auto channel = testing::ChannelTo(*gateway);

  auto calls = GenerateConcurrently(channel, "slow", kCalls, absl::Seconds(60));
  int ok = 0;
  int rejected = 0;
  absl::Duration first_ok = absl::InfiniteDuration();
  absl::Duration last_rejected = absl::ZeroDuration();
  for (const auto& call : calls) {
    if (call->status.ok()) {
      ++ok;
      EXPECT_EQ(call->response.provider(), "p1");
      first_ok = std::min(first_ok, call->done_after);
      continue;
    }
    ++rejected;
    last_rejected = std::max(last_rejected, call->done_after);
    CallError error = Decode(call->status);
    EXPECT_EQ(error.code, grpc::StatusCode::RESOURCE_EXHAUSTED) << error.message;
    EXPECT_EQ(error.info.reason(), "UPSTREAM_QUEUE_FULL") << error.message;
    EXPECT_TRUE(error.has_retry_info) << error.message;
    const auto& delay = error.retry.retry_delay();
    EXPECT_TRUE(delay.seconds() > 0 || delay.nanos() > 0) << delay.DebugString();
  }
  std::printf("queue full: %d ok (first after %.2f s), %d rejected (last after %.2f s)\n", ok,
              absl::ToDoubleSeconds(first_ok), rejected, absl::ToDoubleSeconds(last_rejected));
  // All 6 arrive well within the first call's 2 s: 1 in flight + 2 queued.
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(rejected, 3);
  // Rejected at once, not after waiting for a slot.
  EXPECT_LT(last_rejected, first_ok);
  EXPECT_EQ(Requests(*fakellm), 3);
  EXPECT_EQ(FakeLlmStat(fakellm->port(), "peak_in_flight"), 1);
  ExpectCleanExit(*gateway);
}

// 7. The only deployment refuses connections: retried (connect errors are
// retryable), then the fallback answers. The log line lists every attempt
// and never the API key.
TEST(RoutingIntegrationTest, ConnectionRefusedIsRetriedThenFallsBack) {
  auto fakellm = StartFakeLlm("refused-fakellm.log");
  const int dead_port = testing::UnusedPort();
  auto gateway = StartWithConfig(
      "refused",
      absl::StrCat(Provider("dead", dead_port, "api_key_env: \"OPENAI_API_KEY\""),
                   Provider("live", fakellm->port(), "api_key_env: \"OPENAI_API_KEY\""),
                   kFastRetry,
                   "models { name: \"main\" provider: \"dead\" upstream_model: \"fake-model\" "
                   "fallbacks: \"backup\" }\n"
                   "models { name: \"backup\" provider: \"live\" upstream_model: \"fake-model\" }\n"
                   "models { name: \"only-dead\" provider: \"dead\" "
                   "upstream_model: \"fake-model\" }\n"),
      *fakellm);
  auto channel = testing::ChannelTo(*gateway);

  GenerateResponse response;
  grpc::Status status = Generate(channel, Prompt("main"), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.provider(), "live");
  EXPECT_EQ(Requests(*fakellm), 1);
  const auto recorded = RecordedRequests(fakellm->port());
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].headers.at("authorization"), std::string("Bearer ") + kApiKey);

  const std::string line = LogLineFor(*gateway, "Generate", "main");
  std::printf("log: %s\n", line.c_str());
  EXPECT_NE(line.find(" provider=live code=OK "), std::string::npos) << line;
  EXPECT_NE(line.find("attempts=4 [dead/fake-model:UNAVAILABLE/"), std::string::npos) << line;
  EXPECT_EQ(CountOf(line, "dead/fake-model:UNAVAILABLE/0:"), 3) << line;
  EXPECT_EQ(CountOf(line, "live/fake-model:OK/200:"), 1) << line;

  // Without a fallback: the caller gets the connect error after 3 attempts.
  CallError error = Decode(Generate(channel, Prompt("only-dead"), &response));
  EXPECT_EQ(error.code, grpc::StatusCode::UNAVAILABLE) << error.message;
  EXPECT_EQ(error.info.reason(), "UPSTREAM_UNREACHABLE") << error.message;
  EXPECT_EQ(Meta(error, "provider"), "dead");
  const std::string failed_line = LogLineFor(*gateway, "Generate", "only-dead");
  std::printf("log: %s\n", failed_line.c_str());
  EXPECT_NE(failed_line.find(" code=UNAVAILABLE "), std::string::npos) << failed_line;
  EXPECT_EQ(CountOf(failed_line, "dead/fake-model:UNAVAILABLE/0:"), 3) << failed_line;
  EXPECT_NE(failed_line.find("attempts=3 "), std::string::npos) << failed_line;

  const std::string log = gateway->ReadStderr();
  EXPECT_EQ(log.find(kApiKey), std::string::npos);
  EXPECT_EQ(log.find("SECRET"), std::string::npos);
  EXPECT_EQ(error.message.find(kApiKey), std::string::npos);
  ExpectCleanExit(*gateway);
}

// 8. The upstream closes a reused (pooled) connection without answering:
// libcurl would send the POST again by itself, up to 5 times. With
// max_retries 0 and no fallback, exactly one request must reach it.
TEST(RoutingIntegrationTest, ADroppedPostOnAPooledConnectionIsNeverResent) {
  auto fakellm = StartFakeLlm("no-resend-fakellm.log");
  auto gateway = StartWithConfig(
      "no-resend",
      absl::StrCat(Provider("p1", fakellm->port()),
                   "retry { max_retries: 0 }\n"
                   "models { name: \"ok\" provider: \"p1\" upstream_model: \"fake-model\" }\n"
                   "models { name: \"drop\" provider: \"p1\" "
                   "upstream_model: \"fake-model?fault=drop\" }\n"),
      *fakellm);
  auto channel = testing::ChannelTo(*gateway);
  auto dropped = [&] {
    int n = 0;
    for (const auto& r : RecordedRequests(fakellm->port())) {
      if (r.body.find("fault=drop") != std::string::npos) ++n;
    }
    return n;
  };

  for (int round = 1; round <= 3; ++round) {
    // Sequential successful calls: the next one goes out on a pooled
    // connection.
    for (int i = 0; i < 3; ++i) {
      GenerateResponse response;
      grpc::Status status = Generate(channel, Prompt("ok"), &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
    GenerateResponse response;
    CallError error = Decode(Generate(channel, Prompt("drop"), &response));
    EXPECT_EQ(error.code, grpc::StatusCode::UNAVAILABLE) << error.message;
    if (round == 1) std::printf("dropped on a pooled connection: %s\n", error.message.c_str());
    // A re-send would already have been read before the call completed; give
    // a late one a moment to show up anyway.
    absl::SleepFor(absl::Milliseconds(200));
    EXPECT_EQ(dropped(), round) << "round " << round;
  }
  const std::vector<std::string> lines = LogLinesFor(*gateway, "Generate", "drop", 3);
  EXPECT_EQ(lines.size(), 3u);
  for (const std::string& line : lines) {
    EXPECT_NE(line.find("attempts=1 [p1/fake-model?fault=drop:UNAVAILABLE/0:"),
              std::string::npos)
        << line;
  }
  EXPECT_EQ(Requests(*fakellm), 12);
  ExpectCleanExit(*gateway);
}

}  // namespace
}  // namespace llmgateway
