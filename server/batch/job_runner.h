// The batch job runner: owns the job store and the one thread that touches
// it (DESIGN.md, "Threads"), and runs jobs' items through the call engine.
//
// Jobs run in creation order: the oldest unfinished job fills the global
// cap (`max_concurrency`) first, each job bounded by its own
// max_concurrency (calls at the upstream at once). An item's result is
// written as it completes; results that complete together are written in
// one transaction (group commit) while the freed slots already run the next
// items; nothing reads a result or a count, and no job ends, before its
// transaction has committed.
//
// Threads: the public methods may be called from any thread; each posts to
// the store thread and answers through `done` on that thread (which must not
// block). Call completions arrive on the HTTP loop thread and are only
// queued there.
//
// Faults: after a crash, jobs that were RUNNING resume; items that were in
// flight, or whose result was not yet committed, have no result and run
// again (at least once upstream: at most twice a job's max_concurrency
// items); each result is recorded once (the store's key on job and index).
#ifndef LLM_GATEWAY_SERVER_BATCH_JOB_RUNNER_H_
#define LLM_GATEWAY_SERVER_BATCH_JOB_RUNNER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/batch/job_store.h"
#include "server/routing/call_engine.h"

namespace llmgateway::batch {

// How an item's call starts: CallEngine::Start in the server, a fake in tests.
using StartCall = absl::AnyInvocable<std::shared_ptr<routing::CallHandle>(
    const llmgateway::v1::GenerateRequest*, routing::CallOptions, routing::CallObserver*)>;

struct RunnerOptions {
  // A job's max_concurrency when CreateBatchJob gives none.
  int default_concurrency = 32;
  // Items of all jobs in flight at once; also the most a job may ask for.
  int max_concurrency = 256;
  // Finished jobs older than this are deleted, checked every `sweep_every`.
  absl::Duration retention = absl::Hours(7 * 24);
  absl::Duration sweep_every = absl::Hours(1);
  // A job FAILS when its first min(total, fail_fast_items) finished items
  // all failed: nothing in it works (an unknown model, a rejected key), and
  // running the rest would only repeat the error.
  int fail_fast_items = 100;
};

// One read of ListBatchJobResults.
struct ResultsChunk {
  std::vector<llmgateway::v1::BatchJobResult> results;
  // The job had ended when read (its results are final).
  bool job_ended = false;
};

class JobRunner {
 public:
  // Resumes the store's unfinished jobs and starts the store thread. Reads
  // the store on the calling thread, before the store thread exists; from
  // then on only the store thread touches it.
  static absl::StatusOr<std::unique_ptr<JobRunner>> Start(std::unique_ptr<JobStore> store,
                                                          StartCall start_call,
                                                          RunnerOptions options);
  // Stop() if not done yet.
  ~JobRunner();

  template <typename T>
  using Done = absl::AnyInvocable<void(absl::StatusOr<T>)>;

  // Stores the job of `owner` ("" with auth off; durable before `done`)
  // and queues it. `request` has been validated and must stay alive until
  // `done` runs. The same owner's request_id again answers the existing job.
  void Create(const llmgateway::v1::CreateBatchJobRequest* request, std::string owner,
              Done<llmgateway::v1::BatchJob> done);
  // Each call below sees only `owner`'s jobs (nullopt: all of them).
  void Get(std::string id, Owner owner, Done<llmgateway::v1::BatchJob> done);
  void List(int page_size, std::string page_token, Owner owner, Done<JobStore::Page> done);
  // QUEUED -> CANCELLED; RUNNING -> CANCELLING, then CANCELLED once the
  // items in flight are aborted. No item starts after `done`. An ended job
  // is answered as it is.
  void Cancel(std::string id, Owner owner, Done<llmgateway::v1::BatchJob> done);
  // Up to `limit` results from `start_index`; while the job runs, only up to
  // its first unfinished item.
  void ReadResults(std::string id, Owner owner, int32_t start_index, int limit,
                   Done<ResultsChunk> done);

  // Drain: starts no more items; those in flight finish and are recorded.
  // Jobs stay RUNNING in the store and resume at the next start.
  void StopStarting();

  // Starts no more items, aborts those in flight (they have no result and
  // run again at the next start), records what finished, and joins the store
  // thread. The call engine must still be running.
  void Stop();

  // Items in flight now, over all jobs (for tests and metrics).
  int in_flight() const;

 private:
  class ItemCall;
  struct Job;

  // Runs on the store thread with alive=true, or with alive=false (answer
  // UNAVAILABLE, touch nothing) once the runner has stopped.
  using Task = absl::AnyInvocable<void(bool alive)>;

  JobRunner(std::unique_ptr<JobStore> store, StartCall start_call, RunnerOptions options);
  void Post(Task task);
  // Posts `work` (returning absl::StatusOr<T>) and hands its answer to `done`.
  template <typename T, typename Work>
  void Ask(Done<T> done, Work work);
  // From the HTTP loop: an item's call completed.
  void Finished(ItemCall* call);

  // Store thread only, from here on.
  void Loop();
  // A completed call's result on its way to the store.
  struct Outcome {
    ItemResult result;
    PendingItem item;  // to run it again if the write fails
  };
  // Frees the calls' slots; cancelled calls are not results.
  std::vector<Outcome> TakeOutcomes(std::vector<ItemCall*> finished);
  // Writes the results in one transaction, then counts them and ends the
  // jobs they complete.
  void Record(std::vector<Outcome> outcomes);
  void Schedule();
  bool StartOne(Job& job);
  void EndIfDone(Job& job);
  void CancelInFlight(Job& job);
  void SetState(Job& job, State state, const google::rpc::Status* error = nullptr);
  void MaybeSweep();

  const std::unique_ptr<JobStore> store_;
  StartCall start_call_;
  const RunnerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Task> tasks_;                         // under mu_
  std::vector<ItemCall*> finished_;                 // under mu_
  bool stop_requested_ = false;                     // under mu_
  bool loop_exited_ = false;                        // under mu_
  bool drain_requested_ = false;                    // under mu_
  int in_flight_ = 0;                               // under mu_ (read by in_flight())

  // Store thread state.
  std::map<int64_t, std::unique_ptr<Job>> jobs_;  // unfinished, by seq (FIFO)
  bool stopping_ = false;
  bool draining_ = false;  // drain_requested_, as of this round
  absl::Time paused_until_ = absl::InfinitePast();  // after a failed write
  absl::Time next_sweep_ = absl::InfinitePast();

  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace llmgateway::batch

#endif  // LLM_GATEWAY_SERVER_BATCH_JOB_RUNNER_H_
