// The durable half of BatchJobs: jobs, their items and their results in one
// SQLite file (WAL, synchronous=FULL: a committed result survives kill -9
// and power loss). Synchronous and single-threaded by design: only the job
// runner's store thread calls it (DESIGN.md, "Threads").
//
// Invariants the schema itself keeps: an item has at most one result (primary
// key on job and index, results inserted with OR IGNORE), and a job's
// succeeded/failed counts and usage move only in the transaction that
// inserts a result, by what was actually inserted.
#ifndef LLM_GATEWAY_SERVER_BATCH_JOB_STORE_H_
#define LLM_GATEWAY_SERVER_BATCH_JOB_STORE_H_

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "google/rpc/status.pb.h"
#include "llmgateway/v1/batch_jobs.pb.h"

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace llmgateway::batch {

using State = llmgateway::v1::BatchJob::State;

// Whose jobs a call may see (with caller auth, the key id that created
// them): nullopt, every job (auth off). A job of another owner is NOT_FOUND,
// exactly like one that does not exist.
using Owner = std::optional<std::string>;

// What the runner keeps of a job that has not ended.
struct JobRow {
  int64_t seq = 0;  // creation order: FIFO, and newest-first listing
  std::string id;
  State state = llmgateway::v1::BatchJob::STATE_UNSPECIFIED;
  int64_t total_count = 0;
  int64_t succeeded_count = 0;
  int64_t failed_count = 0;
  int max_concurrency = 0;
};

// An item without a result yet.
struct PendingItem {
  int32_t index = 0;
  std::string custom_id;
  llmgateway::v1::GenerateRequest request;
};

// One finished item, to record.
struct ItemResult {
  int64_t job_seq = 0;
  llmgateway::v1::BatchJobResult result;
};

class JobStore {
 public:
  // Opens (creating if needed) and migrates the store. Errors name `path`.
  // The file is locked for this process: a second gateway on the same store
  // fails here rather than running the same jobs twice.
  static absl::StatusOr<std::unique_ptr<JobStore>> Open(const std::string& path);
  ~JobStore();

  // The schema version this build writes (PRAGMA user_version).
  static constexpr int kSchemaVersion = 2;

  struct Created {
    llmgateway::v1::BatchJob job;
    int64_t seq = 0;
    // False: the request_id had made this job before; nothing was written.
    bool created = false;
  };
  // Stores a QUEUED job of `owner` ("" with auth off) and all its items in
  // one transaction. The request has been validated. A non-empty request_id
  // the same owner used before returns that job.
  absl::StatusOr<Created> CreateJob(const llmgateway::v1::CreateBatchJobRequest& request,
                                    int max_concurrency, absl::Time now,
                                    absl::string_view owner = "");

  // NOT_FOUND naming the id.
  absl::StatusOr<llmgateway::v1::BatchJob> GetJob(absl::string_view id,
                                                  const Owner& owner = std::nullopt);
  absl::StatusOr<JobRow> GetJobRow(absl::string_view id, const Owner& owner = std::nullopt);

  struct Page {
    std::vector<llmgateway::v1::BatchJob> jobs;
    std::string next_page_token;
  };
  // Newest first. `page_token` is a next_page_token from an earlier page.
  absl::StatusOr<Page> ListJobs(int page_size, absl::string_view page_token,
                                const Owner& owner = std::nullopt);

  // Jobs QUEUED, RUNNING or CANCELLING, oldest first: what a restart resumes.
  absl::StatusOr<std::vector<JobRow>> UnfinishedJobs();

  // Up to `limit` items of the job from `from_index` on that have no result,
  // in index order.
  absl::StatusOr<std::vector<PendingItem>> PendingItems(int64_t job_seq, int32_t from_index,
                                                        int limit);

  // Records results in one transaction, with the jobs' counts, usage and
  // update_time. A result whose item has one already is ignored:
  // `recorded[i]` says whether results[i] was new.
  absl::Status RecordResults(absl::Span<const ItemResult> results, absl::Time now,
                             std::vector<bool>* recorded);

  // Moves a job to `state`: RUNNING sets start_time (once), an end state
  // sets end_time; `error` is why a job FAILED.
  absl::Status SetState(int64_t job_seq, State state, absl::Time now,
                        const google::rpc::Status* error = nullptr);

  // Results in index order from `start_index`, at most `limit`. With
  // `contiguous`, stops before the first index that has no result (a job
  // still running), so a reader resuming from the last index seen + 1
  // never skips one.
  absl::StatusOr<std::vector<llmgateway::v1::BatchJobResult>> ReadResults(
      int64_t job_seq, int32_t start_index, int limit, bool contiguous);

  // Deletes jobs that ended before `cutoff`, with their items and results.
  // Returns how many jobs went.
  absl::StatusOr<int> SweepEndedBefore(absl::Time cutoff);

  const std::string& path() const { return path_; }

 private:
  JobStore(std::string path, std::unique_ptr<SQLite::Database> db);
  absl::Status Migrate();
  void Prepare();
  // The job with `id` converted by `convert(row)`, or NOT_FOUND.
  template <typename T, typename Convert>
  absl::StatusOr<T> FindJob(absl::string_view id, const Owner& owner, Convert convert);
  absl::Status Error(absl::string_view what, const std::exception& e) const;

  const std::string path_;
  std::unique_ptr<SQLite::Database> db_;
  // Statements of the hot path, prepared once.
  std::unique_ptr<SQLite::Statement> insert_result_;
  std::unique_ptr<SQLite::Statement> add_counts_;
  std::unique_ptr<SQLite::Statement> pending_items_;
};

}  // namespace llmgateway::batch

#endif  // LLM_GATEWAY_SERVER_BATCH_JOB_STORE_H_
