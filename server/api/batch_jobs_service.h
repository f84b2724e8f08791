// llmgateway.v1.BatchJobs: gRPC concerns only (validation, drain, status
// mapping, logs); the batch job runner (server/batch) stores and runs jobs
// on its own thread and answers each RPC through a callback.
#ifndef LLM_GATEWAY_SERVER_API_BATCH_JOBS_SERVICE_H_
#define LLM_GATEWAY_SERVER_API_BATCH_JOBS_SERVICE_H_

#include "llmgateway/v1/batch_jobs.grpc.pb.h"
#include "server/api/call_tracker.h"
#include "server/auth/authorizer.h"
#include "server/batch/job_runner.h"

namespace llmgateway {

struct BatchJobsDeps {
  batch::JobRunner* runner = nullptr;
  CallTracker* tracker = nullptr;
  // Callers' keys; null or without keys: auth is off.
  const auth::Authorizer* authorizer = nullptr;
  // Most items in one job (config batch.max_items).
  int max_items = 50000;
  // Largest CreateBatchJob request (config batch.max_request_bytes). gRPC's
  // own limit is per server and at least Generation's 64 MiB, so a smaller
  // one is enforced here.
  int64_t max_request_bytes = int64_t{256} << 20;
};

class BatchJobsService final : public llmgateway::v1::BatchJobs::CallbackService {
 public:
  explicit BatchJobsService(BatchJobsDeps deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* CreateBatchJob(grpc::CallbackServerContext* context,
                                           const llmgateway::v1::CreateBatchJobRequest* request,
                                           llmgateway::v1::BatchJob* response) override;
  grpc::ServerUnaryReactor* GetBatchJob(grpc::CallbackServerContext* context,
                                        const llmgateway::v1::GetBatchJobRequest* request,
                                        llmgateway::v1::BatchJob* response) override;
  grpc::ServerUnaryReactor* ListBatchJobs(grpc::CallbackServerContext* context,
                                          const llmgateway::v1::ListBatchJobsRequest* request,
                                          llmgateway::v1::ListBatchJobsResponse* response) override;
  grpc::ServerUnaryReactor* CancelBatchJob(grpc::CallbackServerContext* context,
                                           const llmgateway::v1::CancelBatchJobRequest* request,
                                           llmgateway::v1::BatchJob* response) override;
  grpc::ServerWriteReactor<llmgateway::v1::BatchJobResult>* ListBatchJobResults(
      grpc::CallbackServerContext* context,
      const llmgateway::v1::ListBatchJobResultsRequest* request) override;

 private:
  const BatchJobsDeps deps_;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_BATCH_JOBS_SERVICE_H_
