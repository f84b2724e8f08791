// What every generation call does around the call engine: count itself for
// drain, adopt or mint the request id, validate the request, derive the
// engine's options from the gRPC deadline; and write the call's log line at
// the end. RpcScope is the part an RPC of many engine calls (BatchGenerate)
// shares with the one-request calls.
#ifndef LLM_GATEWAY_SERVER_API_CALL_CONTEXT_H_
#define LLM_GATEWAY_SERVER_API_CALL_CONTEXT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/api/call_tracker.h"
#include "server/auth/authorizer.h"
#include "server/routing/call_engine.h"

namespace llmgateway {

// What the Generation reactors need; outlives every call.
struct GenerationDeps {
  routing::CallEngine* engine = nullptr;
  CallTracker* tracker = nullptr;
  // Callers' keys and limits; null or without keys: auth is off.
  const auth::Authorizer* authorizer = nullptr;
  // BatchGenerate: upstream calls at once when the request gives no
  // max_concurrency, and the most a request gets (config::Batch's
  // generate_default_concurrency / generate_max_concurrency; these are its
  // defaults).
  int batch_default_concurrency = 8;
  int batch_max_concurrency = 64;
};

// One RPC's drain accounting, request id, caller and deadline, whatever it
// runs.
class RpcScope {
 public:
  // Adopts or mints the request id (into the initial metadata), enters
  // `tracker` holding `request_bytes` (the request's size) of its budget,
  // and authenticates the caller.
  RpcScope(grpc::CallbackServerContext* context, CallTracker* tracker,
           const auth::Authorizer* authorizer, int64_t request_bytes = 0);
  // Leaves the tracker if it entered: destroyed when the reactor is.
  ~RpcScope();
  RpcScope(const RpcScope&) = delete;
  RpcScope& operator=(const RpcScope&) = delete;

  // OK when the RPC is counted and its caller known; UNAVAILABLE
  // (DRAINING) or UNAUTHENTICATED when refused.
  const absl::Status& admission() const { return admission_; }
  // The caller's key; null when auth is off (or the call was refused).
  auth::Caller* caller() const { return caller_; }
  // Its id for logs and metrics; "" when none.
  absl::string_view key_id() const;
  const std::string& request_id() const { return request_id_; }
  // The gRPC deadline; InfiniteFuture when the caller set none.
  absl::Time deadline() const { return deadline_; }
  absl::Duration elapsed() const;

 private:
  const absl::Time start_;
  CallTracker* const tracker_;
  const int64_t request_bytes_;
  std::string request_id_;
  absl::Time deadline_ = absl::InfiniteFuture();
  bool entered_ = false;
  auth::Caller* caller_ = nullptr;
  absl::Status admission_;
};

class CallContext {
 public:
  CallContext(grpc::CallbackServerContext* context,
              const llmgateway::v1::GenerateRequest& request, bool stream,
              const GenerationDeps& deps);
  // Leaves the tracker (RpcScope) and closes the key's stream slot: the
  // reactors destroy their context in OnDone.
  ~CallContext();
  CallContext(const CallContext&) = delete;
  CallContext& operator=(const CallContext&) = delete;

  // False when the call was refused (draining, no valid key, over a key's
  // limit) or the request is invalid; status() says why.
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  routing::CallOptions engine_options() const { return options_; }
  absl::Duration elapsed() const { return scope_.elapsed(); }

  // Writes the call's log line (`messages` < 0: not a stream), records its
  // metrics (request, tokens, upstream attempts) and charges its tokens to
  // the caller's key.
  void Report(absl::string_view rpc, const absl::Status& status,
           const llmgateway::v1::Usage* usage, int messages,
           const routing::CallSummary& summary) const;

 private:
  const std::string model_;
  const RpcScope scope_;
  routing::CallOptions options_;
  bool stream_slot_ = false;  // holds one of the key's streams
  absl::Status status_;
  // The request's labels for the log line (gRPC owns the request until the
  // reactor is done); null when none or invalid.
  const google::protobuf::Map<std::string, std::string>* labels_ = nullptr;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_CALL_CONTEXT_H_
