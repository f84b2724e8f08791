// One upstream request of a call: the transfer glue every wire format
// shares. It checks the HTTP status, keeps a capped error body, buffers a
// unary body (with simdjson's padding), frames SSE and feeds the adapter's
// decoder, pauses on backpressure, and turns whatever happened into one
// outcome, with the provider's key scrubbed from any message.
#ifndef LLM_GATEWAY_SERVER_ROUTING_UPSTREAM_ATTEMPT_H_
#define LLM_GATEWAY_SERVER_ROUTING_UPSTREAM_ATTEMPT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/http/sse_parser.h"
#include "server/http/transport.h"
#include "server/providers/adapter.h"

namespace llmgateway::routing {

struct AttemptOutcome {
  absl::Status status;
  // 0 when no response head arrived.
  long http_status = 0;
  // curl's specific words for a network failure (addresses included), for
  // the log only (http::NetworkDetail); "" otherwise.
  std::string network_error;
  // Unary calls, OK only.
  llmgateway::v1::GenerateResponse response;
};

class AttemptSink {
 public:
  virtual ~AttemptSink() = default;
  // Streamed attempts: a delta (the last one included). false: pause.
  virtual bool OnAttemptDelta(llmgateway::v1::GenerateStreamResponse&& delta) = 0;
  // Exactly once, last; the sink may destroy the attempt from here.
  virtual void OnAttemptDone(AttemptOutcome outcome) = 0;
};

class UpstreamAttempt final : public http::TransferHandler {
 public:
  // `adapter` and `sink` outlive the attempt. `max_body_bytes` caps a
  // buffered unary body.
  UpstreamAttempt(const Adapter& adapter, bool stream, size_t max_body_bytes,
                  AttemptSink* sink);

  void OnHead(const http::ResponseHead& head) override;
  http::BodyAction OnBody(absl::string_view chunk) override;
  void OnComplete(absl::Status transport) override;

 private:
  http::BodyAction OnStreamBody(absl::string_view chunk);
  absl::Status StreamOutcome(const absl::Status& transport);
  absl::Status UnaryOutcome(const absl::Status& transport,
                            llmgateway::v1::GenerateResponse* response);
  absl::Status HttpError();

  const Adapter& adapter_;
  const bool stream_;
  const size_t max_body_bytes_;
  AttemptSink* const sink_;

  long http_status_ = 0;
  std::string retry_after_;
  // The unary body, or the first bytes of an error body.
  std::string body_;
  bool body_too_large_ = false;
  std::unique_ptr<http::SseParser> sse_;
  std::unique_ptr<StreamDecoder> decoder_;
  // A stream's bad event, or a head the attempt cannot use (an encoded body).
  absl::Status failure_;
};

}  // namespace llmgateway::routing

#endif  // LLM_GATEWAY_SERVER_ROUTING_UPSTREAM_ATTEMPT_H_
