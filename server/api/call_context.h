// What every generation call does around the call engine: count itself for
// drain, adopt or mint the request id, validate the request, derive the
// engine's options from the gRPC deadline; and write the call's log line at
// the end.
#ifndef LLM_GATEWAY_SERVER_API_CALL_CONTEXT_H_
#define LLM_GATEWAY_SERVER_API_CALL_CONTEXT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/api/call_tracker.h"
#include "server/routing/call_engine.h"

namespace llmgateway {

// What the Generation reactors need; outlives every call.
struct GenerationDeps {
  routing::CallEngine* engine = nullptr;
  CallTracker* tracker = nullptr;
};

class CallContext {
 public:
  CallContext(grpc::CallbackServerContext* context,
              const llmgateway::v1::GenerateRequest& request, bool stream,
              CallTracker* tracker);
  // Leaves the tracker: the reactors destroy their context in OnDone.
  ~CallContext();

  // False when the call was refused (draining) or the request is invalid;
  // status() says why.
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  routing::CallOptions engine_options() const { return options_; }

  // Writes the call's log line (`messages` < 0: not a stream).
  void Log(absl::string_view rpc, const absl::Status& status,
           const llmgateway::v1::Usage* usage, int messages,
           const routing::CallSummary& summary) const;

 private:
  const std::string model_;
  const absl::Time start_;
  CallTracker* const tracker_;
  bool entered_ = false;
  routing::CallOptions options_;
  absl::Status status_;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_CALL_CONTEXT_H_
