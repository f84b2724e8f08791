// In-flight call accounting for graceful drain (see the header).
#include "server/api/call_tracker.h"

#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"
#include "server/metrics/gateway_metrics.h"

namespace llmgateway {
namespace {

// What a refused caller is told to wait: calls finish in seconds.
constexpr absl::Duration kRetryFullAfter = absl::Seconds(1);

}  // namespace

void CallTracker::SetLimits(int max_calls, int64_t max_request_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  max_calls_ = max_calls > 0 ? max_calls : std::numeric_limits<int>::max();
  max_bytes_ = max_request_bytes > 0 ? max_request_bytes : std::numeric_limits<int64_t>::max();
}

absl::Status CallTracker::Enter(int64_t request_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (draining_) {
    return WithErrorInfo(
        absl::UnavailableError("the gateway is shutting down; retry on another replica"),
        "DRAINING");
  }
  if (in_flight_ >= max_calls_) {
    metrics::RecordCallRejected("calls_in_flight");
    return WithRetryInfo(
        WithErrorInfo(absl::ResourceExhaustedError(absl::StrCat(
                          "the gateway has ", in_flight_,
                          " calls in flight, its limit (limits.max_calls_in_flight)")),
                      "CALLS_IN_FLIGHT_LIMIT"),
        kRetryFullAfter);
  }
  // A request larger than the whole budget could never run: it is refused
  // the same way (the limit is named), not queued.
  if (request_bytes > max_bytes_ - bytes_in_flight_) {
    metrics::RecordCallRejected("request_bytes_in_flight");
    return WithRetryInfo(
        WithErrorInfo(absl::ResourceExhaustedError(absl::StrCat(
                          "this request's ", request_bytes, " bytes do not fit beside the ",
                          bytes_in_flight_, " bytes held by calls in flight (at most ",
                          max_bytes_, ": limits.max_request_bytes_in_flight)")),
                      "REQUEST_MEMORY_LIMIT"),
        kRetryFullAfter);
  }
  ++in_flight_;
  bytes_in_flight_ += request_bytes;
  return absl::OkStatus();
}

void CallTracker::Exit(int64_t request_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  bytes_in_flight_ -= request_bytes;
  if (--in_flight_ == 0) idle_.notify_all();
}

void CallTracker::StartDraining() {
  std::lock_guard<std::mutex> lock(mu_);
  draining_ = true;
}

bool CallTracker::WaitIdle(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                        [this] { return in_flight_ == 0; });
}

int CallTracker::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

}  // namespace llmgateway
