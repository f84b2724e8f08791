// Checks a CreateBatchJobRequest as a whole before anything is stored: a job
// with one bad item is rejected entirely, naming the item's index and field
// (`items[3].request.messages[0].role`), so a caller fixes it in one round.
#ifndef LLM_GATEWAY_SERVER_API_BATCH_JOB_VALIDATION_H_
#define LLM_GATEWAY_SERVER_API_BATCH_JOB_VALIDATION_H_

#include "absl/status/status.h"
#include "llmgateway/v1/batch_jobs.pb.h"

namespace llmgateway {

// The longest request_id kept for idempotency (DESIGN.md: "up to 128").
inline constexpr int kMaxRequestIdLength = 128;

absl::Status ValidateCreateBatchJobRequest(const llmgateway::v1::CreateBatchJobRequest& request,
                                           int max_items);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_BATCH_JOB_VALIDATION_H_
