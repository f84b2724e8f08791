// BatchJobs' unary methods answer from the runner's callback (on the store
// thread); ListBatchJobResults streams through its own reactor.
//
// Every method counts itself in the CallTracker, so a drain waits for them
// and refuses new ones (UNAVAILABLE, DRAINING) like any generation call.
// Get and List write no log line: callers poll them.
#include "server/api/batch_jobs_service.h"

#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/api/batch_job_results_call.h"
#include "server/api/authenticate.h"
#include "server/api/batch_job_validation.h"
#include "server/api/grpc_status.h"
#include "server/api/request_id.h"
#include "server/common/call_log.h"
#include "server/common/log.h"
#include "server/common/status_details.h"
#include "server/metrics/gateway_metrics.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::BatchJob;

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

// Runs a unary method: `start(done)` hands the runner a callback; the answer
// is moved into `response` and the RPC finished from that callback.
template <typename T, typename Response, typename Start, typename Log>
grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, CallTracker* tracker,
                                absl::string_view method, absl::Status checked,
                                Response* response, Start start, Log log) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time started = absl::Now();
  if (checked.ok()) checked = tracker->Enter();
  if (!checked.ok()) {
    log(checked, nullptr);
    metrics::RecordRpc(method, "", "", checked.code(), absl::Now() - started);
    reactor->Finish(ToGrpcStatus(checked));
    return reactor;
  }
  start([reactor, tracker, response, log, method, started](absl::StatusOr<T> answer) mutable {
    tracker->Exit();
    metrics::RecordRpc(method, "", "", answer.status().code(), absl::Now() - started);
    if (answer.ok()) {
      log(absl::OkStatus(), &*answer);
      answer->Swap(response);
      reactor->Finish(grpc::Status::OK);
    } else {
      log(answer.status(), nullptr);
      reactor->Finish(ToGrpcStatus(answer.status()));
    }
  });
  return reactor;
}

auto NoLog() {
  return [](const absl::Status&, const void*) {};
}

// One line per job-changing call: who asked, which job, what came of it.
// `fields`: what the request was about (ours, never caller text).
auto JobLog(absl::string_view rpc, grpc::CallbackServerContext* context,
            const absl::StatusOr<auth::Caller*>& caller, std::vector<RpcLogField> fields) {
  std::string key_id = caller.ok() && *caller != nullptr ? (*caller)->id() : "";
  return [rpc = std::string(rpc), request_id = AssignRequestId(context), key_id = std::move(key_id),
          fields = std::move(fields), start = absl::Now()](const absl::Status& status,
                                                           const BatchJob* job) {
    RpcLogRecord record;
    record.method = rpc;
    record.request_id = request_id;
    record.key_id = key_id;
    record.code = status.code();
    record.error = status.message();
    record.latency_ms = absl::ToInt64Milliseconds(absl::Now() - start);
    record.fields = fields;
    if (job != nullptr) {
      record.after_fields = {{"job", job->id()}, {"state", BatchJob::State_Name(job->state())}};
    }
    LogRpc(record);
  };
}

absl::Status CheckId(const std::string& id) {
  return id.empty() ? InvalidField("id", "is required") : absl::OkStatus();
}

// With caller auth, a key sees only the jobs it created; without, every job.
batch::Owner OwnerOf(const absl::StatusOr<auth::Caller*>& caller) {
  if (!caller.ok() || *caller == nullptr) return std::nullopt;
  return (*caller)->id();
}

// Auth comes first: a caller without a valid key learns nothing about its
// request, not even whether it was valid.
absl::Status Checked(const absl::StatusOr<auth::Caller*>& caller, absl::Status validation) {
  return caller.ok() ? validation : caller.status();
}

// A job is one model call of the key (its items have their own
// concurrency), and every item's model must be one the key may use.
absl::Status AdmitJob(auth::Caller* caller, const llmgateway::v1::CreateBatchJobRequest& request) {
  if (caller == nullptr || request.items().empty()) return absl::OkStatus();
  for (int i = 0; i < request.items_size(); ++i) {
    if (absl::Status allowed = caller->CheckModel(request.items(i).request().model());
        !allowed.ok()) {
      return absl::Status(allowed.code(), absl::StrCat("items[", i, "].request.model: ",
                                                       allowed.message()));
    }
  }
  absl::Status admitted = caller->Admit(request.items(0).request().model(), absl::Now());
  metrics::RecordKeyRequest(caller->id(), admitted.code());
  return admitted;
}

}  // namespace

grpc::ServerUnaryReactor* BatchJobsService::CreateBatchJob(
    grpc::CallbackServerContext* context, const llmgateway::v1::CreateBatchJobRequest* request,
    BatchJob* response) {
  const absl::StatusOr<auth::Caller*> caller = AuthenticateCall(deps_.authorizer, context);
  absl::Status checked;
  if (!caller.ok()) {
    checked = caller.status();
  } else if (const size_t bytes = request->ByteSizeLong();
      bytes > static_cast<uint64_t>(deps_.max_request_bytes)) {
    checked = WithErrorInfo(
        absl::ResourceExhaustedError(absl::StrCat("the request is ", bytes,
                                                  " bytes; CreateBatchJob takes at most ",
                                                  deps_.max_request_bytes, " (split the job)")),
        "BATCH_REQUEST_TOO_LARGE");
  } else {
    checked = ValidateCreateBatchJobRequest(*request, deps_.max_items);
    if (checked.ok()) checked = AdmitJob(*caller, *request);
  }
  return Unary<BatchJob>(
      context, deps_.tracker, "CreateBatchJob", std::move(checked), response,
      [this, request, owner = OwnerOf(caller).value_or("")](auto done) {
        deps_.runner->Create(request, owner, std::move(done));
      },
      JobLog("CreateBatchJob", context, caller,
             {{"items", absl::StrCat(request->items_size()), true}}));
}

grpc::ServerUnaryReactor* BatchJobsService::GetBatchJob(
    grpc::CallbackServerContext* context, const llmgateway::v1::GetBatchJobRequest* request,
    BatchJob* response) {
  const absl::StatusOr<auth::Caller*> caller = AuthenticateCall(deps_.authorizer, context);
  return Unary<BatchJob>(
      context, deps_.tracker, "GetBatchJob", Checked(caller, CheckId(request->id())), response,
      [this, request, owner = OwnerOf(caller)](auto done) {
        deps_.runner->Get(request->id(), owner, std::move(done));
      },
      NoLog());
}

grpc::ServerUnaryReactor* BatchJobsService::ListBatchJobs(
    grpc::CallbackServerContext* context, const llmgateway::v1::ListBatchJobsRequest* request,
    llmgateway::v1::ListBatchJobsResponse* response) {
  absl::Status checked;
  if (request->page_size() < 0) checked = InvalidField("page_size", "must not be negative");
  const absl::StatusOr<auth::Caller*> caller = AuthenticateCall(deps_.authorizer, context);
  checked = Checked(caller, std::move(checked));
  const int page_size =
      request->page_size() == 0 ? kDefaultPageSize : std::min(request->page_size(), kMaxPageSize);
  return Unary<llmgateway::v1::ListBatchJobsResponse>(
      context, deps_.tracker, "ListBatchJobs", checked, response,
      [this, request, page_size, owner = OwnerOf(caller)](auto done) {
        deps_.runner->List(
            page_size, request->page_token(), owner,
            [done = std::move(done)](absl::StatusOr<batch::JobStore::Page> page) mutable {
              if (!page.ok()) {
                done(page.status());
                return;
              }
              llmgateway::v1::ListBatchJobsResponse answer;
              for (BatchJob& job : page->jobs) *answer.add_jobs() = std::move(job);
              answer.set_next_page_token(std::move(page->next_page_token));
              done(std::move(answer));
            });
      },
      NoLog());
}

grpc::ServerUnaryReactor* BatchJobsService::CancelBatchJob(
    grpc::CallbackServerContext* context, const llmgateway::v1::CancelBatchJobRequest* request,
    BatchJob* response) {
  const absl::StatusOr<auth::Caller*> caller = AuthenticateCall(deps_.authorizer, context);
  return Unary<BatchJob>(
      context, deps_.tracker, "CancelBatchJob", Checked(caller, CheckId(request->id())), response,
      [this, request, owner = OwnerOf(caller)](auto done) {
        deps_.runner->Cancel(request->id(), owner, std::move(done));
      },
      JobLog("CancelBatchJob", context, caller, {}));
}

grpc::ServerWriteReactor<llmgateway::v1::BatchJobResult>* BatchJobsService::ListBatchJobResults(
    grpc::CallbackServerContext* context,
    const llmgateway::v1::ListBatchJobResultsRequest* request) {
  const absl::StatusOr<auth::Caller*> caller = AuthenticateCall(deps_.authorizer, context);
  return StartBatchJobResultsCall(context, request, deps_.runner, deps_.tracker, OwnerOf(caller),
                                  caller.status());
}

}  // namespace llmgateway
