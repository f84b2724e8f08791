// The C++ client library: the four ways to call the gateway (blocking,
// async with a callback and no thread per call, streaming, batch) and the
// batch job helpers (create, wait with progress, read results resumably).
// Errors are absl::Status with the gateway's google.rpc details kept (see
// status.h).
#ifndef LLM_GATEWAY_CLIENT_GATEWAY_CLIENT_H_
#define LLM_GATEWAY_CLIENT_GATEWAY_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/channel.h"
#include "grpcpp/grpcpp.h"
#include "llmgateway/v1/batch_jobs.grpc.pb.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "llmgateway/v1/models.grpc.pb.h"

namespace llmgateway::client {

namespace v1 = ::llmgateway::v1;

// An async call in flight. Dropping the handle does not cancel the call.
class PendingCall {
 public:
  virtual ~PendingCall() = default;
  // Asks gRPC to cancel; the callback still runs once (with CANCELLED unless
  // the call had already finished).
  virtual void Cancel() = 0;
};

// How WaitForBatchJob polls.
struct WaitOptions {
  absl::Duration poll_interval = absl::Seconds(1);
  // A gateway that restarts mid-job is normal (jobs survive restarts): keep
  // polling through UNAVAILABLE for this long before giving up.
  absl::Duration tolerate_unavailable = absl::Minutes(2);
};

class GatewayClient {
 public:
  explicit GatewayClient(const ClientOptions& options);
  GatewayClient(std::shared_ptr<grpc::Channel> channel, const ClientOptions& options);
  // Waits for async calls still in flight (Cancel them to hurry it); never
  // destroy the client from inside one of their callbacks.
  ~GatewayClient();
  GatewayClient(GatewayClient&&) = delete;
  GatewayClient& operator=(GatewayClient&&) = delete;

  struct AsyncCalls;

  const ClientOptions& options() const { return options_; }

  // --- Generation ---
  absl::StatusOr<v1::GenerateResponse> Generate(const v1::GenerateRequest& request);

  // Returns at once; `done` runs exactly once, on a gRPC thread, when the
  // call ends. Thousands may be in flight from one thread.
  using GenerateDone = std::function<void(absl::StatusOr<v1::GenerateResponse>)>;
  std::shared_ptr<PendingCall> GenerateAsync(v1::GenerateRequest request, GenerateDone done);

  // Calls `on_chunk` on this thread for each chunk as it arrives; returning
  // false from it cancels the call (the result is then CANCELLED).
  using StreamChunk = std::function<bool(const v1::GenerateStreamResponse&)>;
  absl::Status GenerateStream(const v1::GenerateRequest& request, const StreamChunk& on_chunk);

  // Results arrive by index as items finish (not in index order).
  using BatchItem = std::function<void(const v1::BatchGenerateResponse&)>;
  absl::Status BatchGenerate(const v1::BatchGenerateRequest& request, const BatchItem& on_item);

  // --- Batch jobs ---
  // Sets a random request_id when the request has none, so the retry policy
  // can never create the job twice.
  absl::StatusOr<v1::BatchJob> CreateBatchJob(v1::CreateBatchJobRequest request);
  absl::StatusOr<v1::BatchJob> GetBatchJob(const std::string& id);
  absl::StatusOr<v1::BatchJob> CancelBatchJob(const std::string& id);
  absl::StatusOr<v1::ListBatchJobsResponse> ListBatchJobs(int page_size,
                                                          const std::string& page_token);

  // Polls until the job has ended (SUCCEEDED, FAILED or CANCELLED) and
  // returns it; `on_progress` (optional) sees each poll whose job changed.
  using JobProgress = std::function<void(const v1::BatchJob&)>;
  absl::StatusOr<v1::BatchJob> WaitForBatchJob(const std::string& id, const WaitOptions& wait,
                                               const JobProgress& on_progress);

  // Reads results in index order from `start_index` up to the end, or while
  // the job still runs up to its first unfinished item. A stream broken by
  // UNAVAILABLE is reopened after the last index seen. Returns the next
  // index to ask for (resume from it later).
  using JobResult = std::function<void(const v1::BatchJobResult&)>;
  absl::StatusOr<int> ReadBatchJobResults(const std::string& id, int start_index,
                                          const JobResult& on_result);

  // --- Models ---
  // Every page.
  absl::StatusOr<std::vector<v1::Model>> ListModels();

 private:
  // The client's deadline and the API key's metadata.
  void SetDeadline(grpc::ClientContext& context) const;
  // The API key's metadata alone (calls without a deadline).
  void Authorize(grpc::ClientContext& context) const;
  // One unary call with the client's deadline.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Unary(
      Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
      const Request& request) const;

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Generation::Stub> generation_;
  std::unique_ptr<v1::BatchJobs::Stub> batch_jobs_;
  std::unique_ptr<v1::Models::Stub> models_;
  std::shared_ptr<AsyncCalls> async_calls_;
};

// Ended: SUCCEEDED, FAILED or CANCELLED.
bool IsTerminal(v1::BatchJob::State state);

}  // namespace llmgateway::client

#endif  // LLM_GATEWAY_CLIENT_GATEWAY_CLIENT_H_
