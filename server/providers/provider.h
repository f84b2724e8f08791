// What the API layer asks of an upstream, whatever its wire format. An
// implementation joins a pure adapter (request/response mapping) to the
// HTTP client; it is the only layer that knows both.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_PROVIDER_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_PROVIDER_H_

#include <cstdint>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway {

struct UpstreamCallOptions {
  // The model name the upstream knows.
  std::string upstream_model;
  // The caller's deadline; bounds the upstream request.
  absl::Time deadline = absl::InfiniteFuture();
  // Sent upstream as X-Request-Id.
  std::string request_id;
};

// Receives one streamed call's messages, on the HTTP loop thread and in
// order: OnMessage zero or more times, then OnComplete exactly once (last;
// the provider never touches the observer after it). Must not block.
class StreamObserver {
 public:
  virtual ~StreamObserver() = default;
  // A message to relay. Returning false asks for backpressure: the provider
  // stops reading from the upstream after the current network chunk until
  // Provider::Resume. A successful stream's last message carries
  // finish_reason and usage.
  virtual bool OnMessage(llmgateway::v1::GenerateStreamResponse&& message) = 0;
  // OK only when the upstream finished its stream properly; a stream cut
  // short, an error event or a cancel is an error.
  virtual void OnComplete(absl::Status status) = 0;
};

class Provider {
 public:
  using CallId = uint64_t;
  using Done = absl::AnyInvocable<void(absl::Status)>;

  virtual ~Provider() = default;

  // The config name ("openai"), reported in responses and errors.
  virtual const std::string& name() const = 0;

  // Starts one unary call. The answer is parsed straight into `*response`
  // (the gRPC response message: no copy), which must outlive `done`. `done`
  // runs exactly once: on the HTTP loop thread (so it must not block), or on
  // the calling thread before Generate returns when the request fails before
  // it is sent. Returns an id for Cancel (0 when nothing was started).
  virtual CallId Generate(const llmgateway::v1::GenerateRequest& request,
                          const UpstreamCallOptions& options,
                          llmgateway::v1::GenerateResponse* response,
                          Done done) = 0;

  // Starts one streamed call. `observer` must stay alive until its
  // OnComplete has returned. As with Generate, a request that fails before it
  // is sent completes (OnComplete) on the calling thread, returning 0.
  virtual CallId GenerateStream(const llmgateway::v1::GenerateRequest& request,
                                const UpstreamCallOptions& options,
                                StreamObserver* observer) = 0;

  // Thread-safe. Aborts the call's upstream transfer at once; it then
  // completes with CANCELLED. A no-op once the call has completed.
  virtual void Cancel(CallId id) = 0;

  // Thread-safe. Reads from the upstream again after an observer asked for
  // backpressure. A no-op once the call has completed.
  virtual void Resume(CallId id) = 0;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_PROVIDER_H_
