// many_streams: issue 17's "10,000 concurrent streams" load client. Opens
// --streams GenerateStream calls against a gateway at once, spread over
// --channels connections, on gRPC's C++ callback API (gRPC's own few
// threads run every call; no thread per stream), and records per stream the
// time to its first delta, the deltas it got, its status and its total time.
//
// Against bench/fast_upstream's streaming mode each stream's text is
// "t0 t1 ... t<n-1> " (one token per upstream delta; the gateway may merge
// deltas into fewer messages when a reader lags, so tokens are counted, not
// messages). Prints min/p50/p90/p99/max of both times and the counts by status
// code, then a `RESULT {json}` line for scripts. Exits 1 if any stream
// failed or lost a delta.
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "llmgateway/v1/generation.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "The gateway's gRPC address HOST:PORT.");
ABSL_FLAG(int, streams, 10000, "GenerateStream calls, all opened at once.");
ABSL_FLAG(int, channels, 0,
          "Connections to spread them over (0: one per --streams_per_channel). Each is a "
          "distinct TCP connection (its own subchannel).");
ABSL_FLAG(int, streams_per_channel, 1000,
          "With --channels=0: streams per connection. Keep it below the gateway's "
          "limits.max_concurrent_streams (default 4096), or calls queue in the client.");
ABSL_FLAG(std::string, model, "bench-model", "GenerateRequest.model.");
ABSL_FLAG(int, expect_deltas, 50,
          "Tokens each stream must bring, \"t0 \" to \"t<n-1> \" in order (fast_upstream's "
          "--stream_deltas); 0: do not check the text.");
ABSL_FLAG(int, deadline_s, 120, "Each call's gRPC deadline.");

namespace {

using Clock = std::chrono::steady_clock;
using llmgateway::v1::GenerateRequest;
using llmgateway::v1::GenerateStreamResponse;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Record {
  Clock::time_point start;
  Clock::time_point first_delta;  // == start: none came
  Clock::time_point end;
  bool got_delta = false;
  int messages = 0;
  int tokens_in_order = 0;  // t0, t1, ... as expected, up to the first surprise
  bool extra_text = false;  // anything after them
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string error;
};

// Counts down finished calls; main waits for zero.
class Countdown {
 public:
  explicit Countdown(int n) : left_(n) {}
  void Done() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--left_ == 0) cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return left_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int left_;
};

// Checks "t0 t1 ... " in `text`: how many tokens came in order, and whether
// anything else followed them.
void CheckTokens(const std::string& text, Record* record) {
  size_t at = 0;
  int k = 0;
  while (at < text.size()) {
    const std::string want = "t" + std::to_string(k) + " ";
    if (text.compare(at, want.size(), want) != 0) {
      record->extra_text = true;
      break;
    }
    at += want.size();
    ++k;
  }
  record->tokens_in_order = k;
}

// One GenerateStream call: reads until the end, then records and frees itself.
class StreamCall final : public grpc::ClientReadReactor<GenerateStreamResponse> {
 public:
  StreamCall(Record* record, Countdown* countdown, int deadline_s)
      : record_(record), countdown_(countdown) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_s));
  }

  void Start(llmgateway::v1::Generation::Stub* stub, const GenerateRequest* request) {
    stub->async()->GenerateStream(&context_, request, this);
    StartRead(&response_);
    record_->start = Clock::now();
    record_->first_delta = record_->start;
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    if (!record_->got_delta && !response_.text().empty()) {
      record_->first_delta = Clock::now();
      record_->got_delta = true;
    }
    ++record_->messages;
    text_.append(response_.text());
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    record_->end = Clock::now();
    record_->code = status.error_code();
    if (!status.ok()) record_->error = status.error_message();
    CheckTokens(text_, record_);
    Countdown* countdown = countdown_;
    delete this;
    countdown->Done();
  }

 private:
  grpc::ClientContext context_;
  GenerateStreamResponse response_;
  std::string text_;
  Record* record_;
  Countdown* countdown_;
};

// Nearest-rank percentile of sorted values (0 for none).
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(p / 100.0 * sorted.size() + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

std::string CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : std::to_string(i);
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return 0;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // As the gateway's optimized build does: Debian's Abseil records every
  // absl::Mutex lock (gRPC's) in a global deadlock graph, CPU this client
  // would take from the gateway on a shared machine.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const int n = absl::GetFlag(FLAGS_streams);
  const int expect = absl::GetFlag(FLAGS_expect_deltas);
  int channels = absl::GetFlag(FLAGS_channels);
  if (channels <= 0) {
    const int per = std::max(1, absl::GetFlag(FLAGS_streams_per_channel));
    channels = std::max(1, (n + per - 1) / per);
  }
  if (n <= 0) {
    std::fprintf(stderr, "many_streams: --streams must be positive\n");
    return 2;
  }

  // Distinct connections: a local subchannel pool per channel (channels
  // with equal arguments would otherwise share one connection).
  std::vector<std::unique_ptr<llmgateway::v1::Generation::Stub>> stubs;
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("llmgateway.bench_channel_id", i);
    auto channel = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_target),
                                             grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      std::fprintf(stderr, "many_streams: channel %d could not connect to %s\n", i,
                   absl::GetFlag(FLAGS_target).c_str());
      return 2;
    }
    stubs.push_back(llmgateway::v1::Generation::NewStub(channel));
  }

  GenerateRequest request;
  request.set_model(absl::GetFlag(FLAGS_model));
  request.set_prompt("Say something, slowly.");

  std::vector<Record> records(n);
  Countdown countdown(n);
  const double cpu_before = CpuSeconds();
  const Clock::time_point begin = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto* call = new StreamCall(&records[i], &countdown, absl::GetFlag(FLAGS_deadline_s));
    call->Start(stubs[i % channels].get(), &request);
  }
  const Clock::time_point started = Clock::now();
  const int threads_running = ThreadCount();
  countdown.Wait();
  const Clock::time_point finished = Clock::now();
  const double cpu = CpuSeconds() - cpu_before;

  std::vector<double> ttfd, total;
  std::map<std::string, int> by_code;
  std::map<std::string, int> errors;
  int ok = 0, failed = 0, lost = 0, no_delta = 0;
  int64_t messages = 0;
  for (const Record& r : records) {
    by_code[CodeName(r.code)]++;
    messages += r.messages;
    total.push_back(Ms(r.end - r.start));
    if (r.got_delta) {
      ttfd.push_back(Ms(r.first_delta - r.start));
    } else {
      ++no_delta;
    }
    const bool whole = expect <= 0 || (r.tokens_in_order == expect && !r.extra_text);
    if (r.code != grpc::StatusCode::OK) {
      ++failed;
      errors[CodeName(r.code) + ": " + r.error]++;
    } else if (!whole) {
      ++lost;
    } else {
      ++ok;
    }
  }
  std::sort(ttfd.begin(), ttfd.end());
  std::sort(total.begin(), total.end());

  std::printf("many_streams: %d streams to %s over %d connections, all started in %.0f ms\n", n,
              absl::GetFlag(FLAGS_target).c_str(), channels, Ms(started - begin));
  std::printf("  ok %d, failed %d, lost deltas %d (no delta at all: %d); %lld messages\n", ok,
              failed, lost, no_delta, static_cast<long long>(messages));
  for (const auto& [code, count] : by_code) std::printf("  status %s: %d\n", code.c_str(), count);
  int shown = 0;
  for (const auto& [error, count] : errors) {
    if (++shown > 5) break;
    std::printf("  %d x %s\n", count, error.c_str());
  }
  std::printf("  time to first delta ms: min %.1f p50 %.1f p90 %.1f p99 %.1f max %.1f\n",
              ttfd.empty() ? 0.0 : ttfd.front(), Percentile(ttfd, 50), Percentile(ttfd, 90),
              Percentile(ttfd, 99), ttfd.empty() ? 0.0 : ttfd.back());
  std::printf("  total stream time ms:   min %.1f p50 %.1f p90 %.1f p99 %.1f max %.1f\n",
              total.front(), Percentile(total, 50), Percentile(total, 90), Percentile(total, 99),
              total.back());
  std::printf("  wall %.2f s; this client: %.2f s CPU, %d threads while running\n",
              Ms(finished - begin) / 1000, cpu, threads_running);

  std::printf(
      "RESULT {\"streams\":%d,\"connections\":%d,\"ok\":%d,\"failed\":%d,\"lost\":%d,"
      "\"messages\":%lld,\"ramp_ms\":%.1f,\"wall_s\":%.3f,"
      "\"ttfd_ms\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
      "\"total_ms\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
      "\"client_cpu_s\":%.2f,\"client_threads\":%d,\"codes\":{",
      n, channels, ok, failed, lost, static_cast<long long>(messages), Ms(started - begin),
      Ms(finished - begin) / 1000, Percentile(ttfd, 50), Percentile(ttfd, 90), Percentile(ttfd, 99),
      ttfd.empty() ? 0.0 : ttfd.back(), Percentile(total, 50), Percentile(total, 90),
      Percentile(total, 99), total.back(), cpu, threads_running);
  bool first = true;
  for (const auto& [code, count] : by_code) {
    std::printf("%s\"%s\":%d", first ? "" : ",", JsonEscape(code).c_str(), count);
    first = false;
  }
  std::printf("}}\n");
  std::fflush(stdout);
  return failed == 0 && lost == 0 ? 0 : 1;
}
