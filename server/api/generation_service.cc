// The unary Generate reactor.
//
// Lifetime: gRPC owns nothing here; each call is a `new GenerateCall` that
// deletes itself in OnDone, which gRPC runs once, last, after Finish and after
// OnCancel (if any). The upstream call is started from the method handler,
// before gRPC has bound the reactor, so neither OnCancel nor OnDone can run
// while it is being started. Its `done` (HTTP loop thread) is the only caller
// of Finish, and touches nothing after it. OnCancel may race with `done`: it
// only calls Provider::Cancel(id), a no-op for a finished call.
#include "server/api/generation_service.h"

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/api/grpc_status.h"
#include "server/api/request_id.h"
#include "server/api/request_validation.h"
#include "server/common/log.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;

class GenerateCall final : public grpc::ServerUnaryReactor {
 public:
  GenerateCall(grpc::CallbackServerContext* context, const GenerateRequest* request,
               GenerateResponse* response, const Router* router)
      : request_(request),
        response_(response),
        request_id_(AssignRequestId(context)),
        start_(absl::Now()) {
    absl::Status valid = ValidateGenerateRequest(*request);
    if (!valid.ok()) {
      Complete(std::move(valid));
      return;
    }
    absl::StatusOr<Route> route = router->Resolve(request->model());
    if (!route.ok()) {
      Complete(route.status());
      return;
    }
    provider_ = route->provider;
    UpstreamCallOptions options;
    options.upstream_model = std::move(route->upstream_model);
    // gRPC reports "no deadline" as time_point::max(), beyond absl::Time's range.
    if (context->deadline() != std::chrono::system_clock::time_point::max()) {
      options.deadline = absl::FromChrono(context->deadline());
    }
    options.request_id = request_id_;
    call_id_ = provider_->Generate(*request, options, response,
                                   [this](absl::Status status) { Complete(std::move(status)); });
  }

  void OnCancel() override {
    if (call_id_ != 0) provider_->Cancel(call_id_);
  }

  void OnDone() override { delete this; }

 private:
  void Complete(absl::Status status) {
    LogInfo("rpc=Generate request_id=", request_id_, " model=", request_->model(),
            " provider=", provider_ ? provider_->name() : "-",
            " code=", absl::StatusCodeToString(status.code()),
            " ms=", absl::ToInt64Milliseconds(absl::Now() - start_),
            " prompt_tokens=", response_->usage().prompt_tokens(),
            " completion_tokens=", response_->usage().completion_tokens());
    // Last touch of `this`: OnDone may delete it on another thread from here.
    Finish(ToGrpcStatus(status));
  }

  const GenerateRequest* const request_;
  GenerateResponse* const response_;
  const std::string request_id_;
  const absl::Time start_;
  Provider* provider_ = nullptr;
  Provider::CallId call_id_ = 0;
};

}  // namespace

grpc::ServerUnaryReactor* GenerationService::Generate(grpc::CallbackServerContext* context,
                                                      const GenerateRequest* request,
                                                      GenerateResponse* response) {
  return new GenerateCall(context, request, response, router_);
}

}  // namespace llmgateway
