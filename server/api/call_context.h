// What every generation call does before it reaches a provider: adopt or
// mint the request id, validate the request, route the model, derive the
// upstream options from the gRPC deadline; and the call's log line at the end.
#ifndef LLM_GATEWAY_SERVER_API_CALL_CONTEXT_H_
#define LLM_GATEWAY_SERVER_API_CALL_CONTEXT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/provider.h"
#include "server/routing/router.h"

namespace llmgateway {

class CallContext {
 public:
  CallContext(grpc::CallbackServerContext* context,
              const llmgateway::v1::GenerateRequest& request, const Router* router);

  // False when validation or routing failed; status() says why.
  bool routed() const { return provider_ != nullptr; }
  const absl::Status& status() const { return status_; }
  Provider* provider() const { return provider_; }
  const UpstreamCallOptions& upstream_options() const { return options_; }

  // Writes the call's log line (`messages` < 0: not a stream).
  void Log(absl::string_view rpc, const absl::Status& status,
           const llmgateway::v1::Usage* usage, int messages) const;

 private:
  const std::string model_;
  const absl::Time start_;
  UpstreamCallOptions options_;
  Provider* provider_ = nullptr;
  absl::Status status_;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_CALL_CONTEXT_H_
