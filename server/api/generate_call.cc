// The unary Generate reactor: gRPC concerns only; the call engine owns the
// upstream side (attempts, retries, fallbacks).
//
// Lifetime: each call is a `new GenerateCall` that deletes itself in OnDone,
// which gRPC runs once, last, after Finish and after OnCancel (if any). The
// engine call is started from the method handler, before gRPC has bound the
// reactor, so neither OnCancel nor OnDone can run while it starts. The
// engine reports on its loop thread: OnResponse, then OnComplete, the only
// caller of Finish, which touches nothing after it. OnCancel may race with
// OnComplete: it only asks the handle to cancel, a no-op once complete.
#include "server/api/generate_call.h"

#include <memory>
#include <utility>

#include "server/api/grpc_status.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;

class GenerateCall final : public grpc::ServerUnaryReactor, public routing::CallObserver {
 public:
  GenerateCall(grpc::CallbackServerContext* context, const GenerateRequest* request,
               GenerateResponse* response, const GenerationDeps& deps)
      : call_(context, *request, /*stream=*/false, deps), response_(response) {
    if (!call_.ok()) {
      OnComplete(call_.status(), routing::CallSummary());
      return;
    }
    handle_ = deps.engine->Start(request, call_.engine_options(), this);
  }

  void OnResponse(GenerateResponse&& response) override {
    // Pointer swaps: the parsed answer becomes gRPC's response, no copy.
    response_->Swap(&response);
  }

  void OnComplete(absl::Status status, routing::CallSummary summary) override {
    call_.Report("Generate", status, status.ok() ? &response_->usage() : nullptr, -1, summary);
    // Last touch of `this`: OnDone may delete it on another thread from here.
    Finish(ToGrpcStatus(status));
  }

  void OnCancel() override {
    if (handle_ != nullptr) handle_->Cancel();
  }

  void OnDone() override { delete this; }

 private:
  CallContext call_;
  GenerateResponse* const response_;
  std::shared_ptr<routing::CallHandle> handle_;
};

}  // namespace

grpc::ServerUnaryReactor* StartGenerateCall(grpc::CallbackServerContext* context,
                                            const GenerateRequest* request,
                                            GenerateResponse* response,
                                            const GenerationDeps& deps) {
  return new GenerateCall(context, request, response, deps);
}

}  // namespace llmgateway
