// CreateBatchJob's checks: the job's own fields, then every item.
#include "server/api/batch_job_validation.h"

#include "absl/strings/str_cat.h"
#include "server/api/request_validation.h"
#include "server/common/status_details.h"

namespace llmgateway {

absl::Status ValidateCreateBatchJobRequest(const llmgateway::v1::CreateBatchJobRequest& request,
                                           int max_items) {
  if (request.items().empty()) return InvalidField("items", "a job needs at least one item");
  if (request.items_size() > max_items) {
    return InvalidField("items", absl::StrCat(request.items_size(),
                                              " items; a job takes at most ", max_items));
  }
  if (request.request_id().size() > kMaxRequestIdLength) {
    return InvalidField("request_id",
                        absl::StrCat("is longer than ", kMaxRequestIdLength, " characters"));
  }
  if (request.max_concurrency() < 0) {
    return InvalidField("max_concurrency", "must not be negative");
  }
  if (absl::Status labels = ValidateLabels(request.labels(), "labels"); !labels.ok()) {
    return labels;
  }
  for (int i = 0; i < request.items_size(); ++i) {
    if (absl::Status valid = ValidateGenerateRequest(request.items(i).request()); !valid.ok()) {
      return WithFieldPrefix(valid, absl::StrCat("items[", i, "].request."));
    }
  }
  return absl::OkStatus();
}

}  // namespace llmgateway
