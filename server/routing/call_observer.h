// The one interface a call reports to, whoever started it (a gRPC reactor,
// the BatchGenerate fan-out, the job runner). Every method runs on the HTTP
// loop thread, never inside CallEngine::Start, and must not block.
#ifndef LLM_GATEWAY_SERVER_ROUTING_CALL_OBSERVER_H_
#define LLM_GATEWAY_SERVER_ROUTING_CALL_OBSERVER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::routing {

// One upstream request the call made.
struct AttemptRecord {
  std::string provider;
  std::string upstream_model;
  // The attempt's outcome; `http_status` 0 when no response head arrived.
  absl::StatusCode code = absl::StatusCode::kOk;
  long http_status = 0;
  absl::Duration elapsed;
  // curl's own words for a network failure, naming the upstream's address:
  // for the call log, never for callers. "" when there was none.
  std::string network_error;
};

struct CallSummary {
  std::vector<AttemptRecord> attempts;
  // The provider whose answer the caller got ("" if none): after a fallback,
  // not the one the model names.
  std::string provider;
};

class CallObserver {
 public:
  virtual ~CallObserver() = default;

  // Streamed calls: one delta, in order; the first one commits the call
  // (no retry or fallback after it). Returning false asks for
  // backpressure: the upstream is paused after the current network chunk
  // until CallHandle::Resume. A successful stream's last delta carries
  // finish_reason and usage.
  virtual bool OnDelta(llmgateway::v1::GenerateStreamResponse&& delta) { return true; }

  // Unary calls: the whole answer, just before OnComplete(OK).
  virtual void OnResponse(llmgateway::v1::GenerateResponse&& response) {}

  // Exactly once, last: the engine never touches the observer after it.
  virtual void OnComplete(absl::Status status, CallSummary summary) = 0;
};

}  // namespace llmgateway::routing

#endif  // LLM_GATEWAY_SERVER_ROUTING_CALL_OBSERVER_H_
