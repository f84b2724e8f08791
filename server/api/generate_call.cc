// The unary Generate reactor.
//
// Lifetime: each call is a `new GenerateCall` that deletes itself in OnDone,
// which gRPC runs once, last, after Finish and after OnCancel (if any). The
// upstream call is started from the method handler, before gRPC has bound
// the reactor, so neither OnCancel nor OnDone can run while it starts. Its
// `done` (HTTP loop thread) is the only caller of Finish and touches nothing
// after it. OnCancel may race with `done`: it only calls Provider::Cancel(id),
// a no-op for a finished call.
#include "server/api/generate_call.h"

#include <chrono>
#include <string>

#include "absl/time/clock.h"
#include "server/api/call_context.h"
#include "server/api/grpc_status.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;

class GenerateCall final : public grpc::ServerUnaryReactor {
 public:
  GenerateCall(grpc::CallbackServerContext* context, const GenerateRequest* request,
               GenerateResponse* response, const Router* router)
      : call_(context, *request, router), response_(response) {
    if (!call_.routed()) {
      Complete(call_.status());
      return;
    }
    call_id_ = call_.provider()->Generate(*request, call_.upstream_options(), response,
                                          [this](absl::Status status) {
                                            Complete(std::move(status));
                                          });
  }

  void OnCancel() override {
    if (call_id_ != 0) call_.provider()->Cancel(call_id_);
  }

  void OnDone() override { delete this; }

 private:
  void Complete(absl::Status status) {
    call_.Log("Generate", status, &response_->usage(), -1);
    // Last touch of `this`: OnDone may delete it on another thread from here.
    Finish(ToGrpcStatus(status));
  }

  CallContext call_;
  GenerateResponse* const response_;
  Provider::CallId call_id_ = 0;
};

}  // namespace

grpc::ServerUnaryReactor* StartGenerateCall(grpc::CallbackServerContext* context,
                                            const GenerateRequest* request,
                                            GenerateResponse* response,
                                            const Router* router) {
  return new GenerateCall(context, request, response, router);
}

}  // namespace llmgateway
