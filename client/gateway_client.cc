#include "client/gateway_client.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "client/status.h"

namespace llmgateway::client {
namespace {

}  // namespace

// Async calls not yet wholly gone. A call's ClientContext holds a channel
// reference; if the last one went with it, the channel would be destroyed
// on one of its own callback threads, which gRPC 1.51 answers with a
// double free of the callback completion queue (seen under ASan). So the
// client outlives its calls: ~GatewayClient waits for this to reach 0.
struct GatewayClient::AsyncCalls {
  absl::Mutex mu;
  int in_flight ABSL_GUARDED_BY(mu) = 0;
};

namespace {

// Counts one call in flight for as long as it lives.
class InFlight {
 public:
  explicit InFlight(std::shared_ptr<GatewayClient::AsyncCalls> calls) : calls_(std::move(calls)) {
    absl::MutexLock lock(&calls_->mu);
    ++calls_->in_flight;
  }
  ~InFlight() {
    absl::MutexLock lock(&calls_->mu);
    --calls_->in_flight;
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::shared_ptr<GatewayClient::AsyncCalls> calls_;
};

// One async Generate: owns what gRPC needs until the callback has run.
class AsyncGenerate final : public PendingCall {
 public:
  AsyncGenerate(std::shared_ptr<GatewayClient::AsyncCalls> calls, v1::GenerateRequest request,
                GatewayClient::GenerateDone done)
      : in_flight_(std::move(calls)), request_(std::move(request)), done_(std::move(done)) {}

  void Cancel() override { context_.TryCancel(); }

  grpc::ClientContext& context() { return context_; }
  const v1::GenerateRequest& request() const { return request_; }
  v1::GenerateResponse& response() { return response_; }

  void Finish(const grpc::Status& status) {
    if (status.ok()) {
      done_(std::move(response_));
    } else {
      done_(FromGrpcStatus(status));
    }
    done_ = nullptr;  // what the callback captured goes now, not with the last handle
  }

 private:
  // First, so it goes last: after the context and its channel reference.
  InFlight in_flight_;
  grpc::ClientContext context_;
  v1::GenerateRequest request_;
  v1::GenerateResponse response_;
  GatewayClient::GenerateDone done_;
};

std::string RandomRequestId() {
  absl::BitGen gen;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(gen), absl::Uniform<uint64_t>(gen));
}

bool SameProgress(const v1::BatchJob& a, const v1::BatchJob& b) {
  return a.state() == b.state() && a.succeeded_count() == b.succeeded_count() &&
         a.failed_count() == b.failed_count();
}

}  // namespace

bool IsTerminal(v1::BatchJob::State state) {
  return state == v1::BatchJob::STATE_SUCCEEDED || state == v1::BatchJob::STATE_FAILED ||
         state == v1::BatchJob::STATE_CANCELLED;
}

GatewayClient::GatewayClient(const ClientOptions& options)
    : GatewayClient(CreateChannel(options), options) {}

GatewayClient::GatewayClient(std::shared_ptr<grpc::Channel> channel, const ClientOptions& options)
    : options_(options),
      channel_(std::move(channel)),
      generation_(v1::Generation::NewStub(channel_)),
      batch_jobs_(v1::BatchJobs::NewStub(channel_)),
      models_(v1::Models::NewStub(channel_)),
      async_calls_(std::make_shared<AsyncCalls>()) {}

GatewayClient::~GatewayClient() {
  absl::MutexLock lock(&async_calls_->mu);
  async_calls_->mu.Await(absl::Condition(
      +[](int* in_flight) { return *in_flight == 0; }, &async_calls_->in_flight));
}

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> GatewayClient::Unary(
    Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Request& request) const {
  grpc::ClientContext context;
  SetDeadline(context);
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

void GatewayClient::SetDeadline(grpc::ClientContext& context) const {
  if (options_.timeout != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  }
  Authorize(context);
}

void GatewayClient::Authorize(grpc::ClientContext& context) const {
  if (!options_.api_key.empty()) context.AddMetadata("authorization", "Bearer " + options_.api_key);
}

absl::StatusOr<v1::GenerateResponse> GatewayClient::Generate(const v1::GenerateRequest& request) {
  return Unary(*generation_, &v1::Generation::Stub::Generate, request);
}

std::shared_ptr<PendingCall> GatewayClient::GenerateAsync(v1::GenerateRequest request,
                                                          GenerateDone done) {
  auto call = std::make_shared<AsyncGenerate>(async_calls_, std::move(request), std::move(done));
  SetDeadline(call->context());
  // The callback holds the call alive until it has run.
  generation_->async()->Generate(&call->context(), &call->request(), &call->response(),
                                 [call](grpc::Status status) { call->Finish(status); });
  return call;
}

absl::Status GatewayClient::GenerateStream(const v1::GenerateRequest& request,
                                           const StreamChunk& on_chunk) {
  grpc::ClientContext context;
  SetDeadline(context);
  std::unique_ptr<grpc::ClientReader<v1::GenerateStreamResponse>> reader =
      generation_->GenerateStream(&context, request);
  v1::GenerateStreamResponse chunk;
  while (reader->Read(&chunk)) {
    if (!on_chunk(chunk)) {
      context.TryCancel();
      while (reader->Read(&chunk)) {
      }
      break;
    }
  }
  return FromGrpcStatus(reader->Finish());
}

absl::Status GatewayClient::BatchGenerate(const v1::BatchGenerateRequest& request,
                                          const BatchItem& on_item) {
  grpc::ClientContext context;
  SetDeadline(context);
  std::unique_ptr<grpc::ClientReader<v1::BatchGenerateResponse>> reader =
      generation_->BatchGenerate(&context, request);
  v1::BatchGenerateResponse item;
  while (reader->Read(&item)) on_item(item);
  return FromGrpcStatus(reader->Finish());
}

absl::StatusOr<v1::BatchJob> GatewayClient::CreateBatchJob(v1::CreateBatchJobRequest request) {
  if (request.request_id().empty()) request.set_request_id(RandomRequestId());
  return Unary(*batch_jobs_, &v1::BatchJobs::Stub::CreateBatchJob, request);
}

absl::StatusOr<v1::BatchJob> GatewayClient::GetBatchJob(const std::string& id) {
  v1::GetBatchJobRequest request;
  request.set_id(id);
  return Unary(*batch_jobs_, &v1::BatchJobs::Stub::GetBatchJob, request);
}

absl::StatusOr<v1::BatchJob> GatewayClient::CancelBatchJob(const std::string& id) {
  v1::CancelBatchJobRequest request;
  request.set_id(id);
  return Unary(*batch_jobs_, &v1::BatchJobs::Stub::CancelBatchJob, request);
}

absl::StatusOr<v1::ListBatchJobsResponse> GatewayClient::ListBatchJobs(
    int page_size, const std::string& page_token) {
  v1::ListBatchJobsRequest request;
  request.set_page_size(page_size);
  request.set_page_token(page_token);
  return Unary(*batch_jobs_, &v1::BatchJobs::Stub::ListBatchJobs, request);
}

absl::StatusOr<v1::BatchJob> GatewayClient::WaitForBatchJob(const std::string& id,
                                                            const WaitOptions& wait,
                                                            const JobProgress& on_progress) {
  std::optional<v1::BatchJob> last;
  absl::Time unavailable_since = absl::InfiniteFuture();
  while (true) {
    absl::StatusOr<v1::BatchJob> job = GetBatchJob(id);
    if (!job.ok()) {
      if (!absl::IsUnavailable(job.status())) return job.status();
      absl::Time now = absl::Now();
      unavailable_since = std::min(unavailable_since, now);
      if (now - unavailable_since >= wait.tolerate_unavailable) return job.status();
    } else {
      unavailable_since = absl::InfiniteFuture();
      if (on_progress && (!last || !SameProgress(*last, *job))) on_progress(*job);
      if (IsTerminal(job->state())) return *std::move(job);
      last = *std::move(job);
    }
    absl::SleepFor(wait.poll_interval);
  }
}

absl::StatusOr<int> GatewayClient::ReadBatchJobResults(const std::string& id, int start_index,
                                                       const JobResult& on_result) {
  int next = start_index;
  int failures = 0;  // consecutive broken streams that brought nothing new
  absl::Duration backoff = options_.initial_backoff;
  while (true) {
    // No deadline: a job's results can take long to stream.
    grpc::ClientContext context;
    Authorize(context);
    v1::ListBatchJobResultsRequest request;
    request.set_id(id);
    request.set_start_index(next);
    std::unique_ptr<grpc::ClientReader<v1::BatchJobResult>> reader =
        batch_jobs_->ListBatchJobResults(&context, request);
    const int first = next;
    v1::BatchJobResult result;
    while (reader->Read(&result)) {
      // Resuming must not repeat a result, whatever the server sends.
      if (result.index() < next) continue;
      next = result.index() + 1;
      on_result(result);
    }
    absl::Status status = FromGrpcStatus(reader->Finish());
    if (status.ok() || !absl::IsUnavailable(status)) {
      if (!status.ok()) return status;
      return next;
    }
    if (next > first) {
      failures = 0;
      backoff = options_.initial_backoff;
    }
    if (++failures >= std::max(options_.max_attempts, 1)) return status;
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

absl::StatusOr<std::vector<v1::Model>> GatewayClient::ListModels() {
  std::vector<v1::Model> models;
  v1::ListModelsRequest request;
  do {
    absl::StatusOr<v1::ListModelsResponse> page =
        Unary(*models_, &v1::Models::Stub::ListModels, request);
    if (!page.ok()) return page.status();
    for (v1::Model& model : *page->mutable_models()) models.push_back(std::move(model));
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  return models;
}

}  // namespace llmgateway::client
