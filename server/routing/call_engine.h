// The call engine: a generation call's life from the validated request to
// its last byte, whoever started it. It plans the targets (router.h), makes
// attempts through an http::Transport, retries and falls back by the rules
// in retry_policy.h, keeps each deployment's health, honours per-provider
// admission, and reports to one CallObserver. See docs/call-engine.md.
//
// Threads: Start and the handle's methods may be called from any thread;
// everything else (planning, attempts, timers, observer callbacks) runs on
// the transport's loop thread, so a call's state needs no lock.
#ifndef LLM_GATEWAY_SERVER_ROUTING_CALL_ENGINE_H_
#define LLM_GATEWAY_SERVER_ROUTING_CALL_ENGINE_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "absl/time/time.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/http/transport.h"
#include "server/routing/call_observer.h"
#include "server/routing/router.h"

namespace llmgateway::routing {

struct CallOptions {
  // GenerateStream (SSE upstream, deltas) rather than Generate.
  bool stream = false;
  // The whole call's deadline (the gRPC deadline): no attempt or wait runs
  // past it.
  absl::Time deadline = absl::InfiniteFuture();
  // Sent upstream as X-Request-Id.
  std::string request_id;
};

// What the starter holds: the same object across every attempt.
class CallHandle {
 public:
  virtual ~CallHandle() = default;
  // Thread-safe. Aborts the attempt in flight (or the backoff, or the
  // admission wait) at once; the call then completes CANCELLED, unless it
  // had completed already.
  virtual void Cancel() = 0;
  // Thread-safe. Reads from the upstream again after OnDelta returned false.
  virtual void Resume() = 0;
};

class CallEngine {
 public:
  struct Options {
    // A buffered (unary) upstream body past this fails the attempt.
    size_t max_body_bytes = 64 << 20;
    // Seeds backoff jitter and weighted picks (0: from std::random_device).
    uint64_t seed = 0;
  };

  // `router` and `transport` must outlive the engine and every call.
  CallEngine(Router* router, http::Transport* transport, Options options);
  CallEngine(Router* router, http::Transport* transport)
      : CallEngine(router, transport, Options()) {}

  // Starts a call. `request` (validated) and `observer` must stay alive
  // until observer->OnComplete has returned. Never calls the observer
  // before returning.
  std::shared_ptr<CallHandle> Start(const llmgateway::v1::GenerateRequest* request,
                                    CallOptions options, CallObserver* observer);

 private:
  class Call;
  friend class Call;

  Router* const router_;
  http::Transport* const transport_;
  const Options options_;
  // Loop thread only.
  std::mt19937_64 random_;
};

}  // namespace llmgateway::routing

#endif  // LLM_GATEWAY_SERVER_ROUTING_CALL_ENGINE_H_
