// The ListBatchJobResults reactor: a job's results in index order, read
// from the store a chunk at a time as the caller takes them.
#ifndef LLM_GATEWAY_SERVER_API_BATCH_JOB_RESULTS_CALL_H_
#define LLM_GATEWAY_SERVER_API_BATCH_JOB_RESULTS_CALL_H_

#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "absl/status/status.h"
#include "llmgateway/v1/batch_jobs.pb.h"
#include "server/api/call_tracker.h"
#include "server/batch/job_runner.h"

namespace llmgateway {

grpc::ServerWriteReactor<llmgateway::v1::BatchJobResult>* StartBatchJobResultsCall(
    grpc::CallbackServerContext* context,
    const llmgateway::v1::ListBatchJobResultsRequest* request, batch::JobRunner* runner,
    CallTracker* tracker, batch::Owner owner, absl::Status authenticated);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_BATCH_JOB_RESULTS_CALL_H_
