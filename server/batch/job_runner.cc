// Scheduling, group commit and state changes of batch jobs (store thread).
#include "server/batch/job_runner.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/common/rpc_status.h"
#include "server/metrics/gateway_metrics.h"

namespace llmgateway::batch {

using ::llmgateway::v1::BatchJob;

// One item's call: the engine's observer, owned by its job's `in_flight`
// map on the store thread. The engine writes `response`/`status` on the
// loop thread before Finished() queues the call under mu_; the store thread
// reads them after taking it from the queue under mu_.
class JobRunner::ItemCall final : public routing::CallObserver {
 public:
  ItemCall(JobRunner* runner, int64_t job_seq, PendingItem item)
      : runner_(runner), job_seq(job_seq), index(item.index), item(std::move(item)) {}

  void OnResponse(llmgateway::v1::GenerateResponse&& r) override { response.Swap(&r); }
  void OnComplete(absl::Status s, routing::CallSummary summary) override {
    for (const routing::AttemptRecord& a : summary.attempts) {
      metrics::RecordAttempt(a.provider, a.code);
    }
    if (s.ok()) {
      metrics::RecordTokens(item.request.model(), summary.provider,
                            response.usage().prompt_tokens(),
                            response.usage().completion_tokens());
    }
    status = std::move(s);
    runner_->Finished(this);  // last touch by the engine's thread
  }

  JobRunner* const runner_;
  const int64_t job_seq;
  const int32_t index;  // `item` may be moved back to the queue
  PendingItem item;
  std::shared_ptr<routing::CallHandle> handle;  // store thread
  llmgateway::v1::GenerateResponse response;
  absl::Status status;
};

struct JobRunner::Job {
  JobRow row;
  // Items without a result, loaded from the store a chunk at a time from
  // `cursor` on; `exhausted` once the store has no more past it.
  std::deque<PendingItem> pending;
  int32_t cursor = 0;
  bool exhausted = false;
  absl::flat_hash_map<int32_t, std::unique_ptr<ItemCall>> in_flight;
  // Items whose call has completed and whose result is not yet committed.
  int unrecorded = 0;
  // Cancelled, or failing fast: no more items start; the job ends once
  // `in_flight` is empty.
  bool stopping = false;
  State end_state = BatchJob::STATE_SUCCEEDED;
  std::optional<google::rpc::Status> error;
};

JobRunner::JobRunner(std::unique_ptr<JobStore> store, StartCall start_call,
                     RunnerOptions options)
    : store_(std::move(store)), start_call_(std::move(start_call)), options_(options) {}

absl::StatusOr<std::unique_ptr<JobRunner>> JobRunner::Start(std::unique_ptr<JobStore> store,
                                                            StartCall start_call,
                                                            RunnerOptions options) {
  std::unique_ptr<JobRunner> runner(
      new JobRunner(std::move(store), std::move(start_call), options));
  absl::StatusOr<std::vector<JobRow>> unfinished = runner->store_->UnfinishedJobs();
  if (!unfinished.ok()) return unfinished.status();
  for (JobRow& row : *unfinished) {
    if (row.state == BatchJob::STATE_CANCELLING) {
      // Nothing is in flight after a restart: the cancel is complete.
      if (absl::Status s = runner->store_->SetState(row.seq, BatchJob::STATE_CANCELLED,
                                                    absl::Now());
          !s.ok()) {
        return s;
      }
      continue;
    }
    if (row.state == BatchJob::STATE_RUNNING) {
      LogInfo("batch job ", row.id, " resumes: ", row.succeeded_count + row.failed_count, "/",
              row.total_count, " items have results");
    }
    auto job = std::make_unique<Job>();
    job->row = std::move(row);
    runner->jobs_.emplace(job->row.seq, std::move(job));
  }
  runner->thread_ = std::thread([r = runner.get()] { r->Loop(); });
  return runner;
}

JobRunner::~JobRunner() { Stop(); }

void JobRunner::Stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requested_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void JobRunner::StopStarting() {
  // A flag rather than a task: it must hold before the loop's next round
  // starts anything, whatever else that round takes.
  std::lock_guard<std::mutex> lock(mu_);
  drain_requested_ = true;
}

int JobRunner::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_;
}

void JobRunner::Post(Task task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!loop_exited_) {
      tasks_.push_back(std::move(task));
      task = nullptr;
    }
  }
  if (task != nullptr) {
    task(/*alive=*/false);
    return;
  }
  wake_.notify_one();
}

template <typename T, typename Work>
void JobRunner::Ask(Done<T> done, Work work) {
  Post([done = std::move(done), work = std::move(work)](bool alive) mutable {
    if (!alive) {
      done(absl::UnavailableError("the gateway is shutting down; batch jobs resume at its next start"));
      return;
    }
    done(work());
  });
}

void JobRunner::Finished(ItemCall* call) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished_.push_back(call);
  }
  wake_.notify_one();
}

void JobRunner::Create(const llmgateway::v1::CreateBatchJobRequest* request, std::string owner,
                       Done<BatchJob> done) {
  Ask(std::move(done), [this, request, owner = std::move(owner)]() -> absl::StatusOr<BatchJob> {
    const int concurrency =
        std::min(request->max_concurrency() > 0 ? request->max_concurrency()
                                                : options_.default_concurrency,
                 options_.max_concurrency);
    absl::StatusOr<JobStore::Created> created =
        store_->CreateJob(*request, concurrency, absl::Now(), owner);
    if (!created.ok()) return created.status();
    if (created->created) {
      auto job = std::make_unique<Job>();
      job->row.seq = created->seq;
      job->row.id = created->job.id();
      job->row.state = BatchJob::STATE_QUEUED;
      job->row.total_count = created->job.total_count();
      job->row.max_concurrency = concurrency;
      jobs_.emplace(created->seq, std::move(job));
      LogInfo("batch job ", created->job.id(), " created: ", created->job.total_count(),
              " items, max_concurrency ", concurrency);
    }
    return std::move(created->job);
  });
}

void JobRunner::Get(std::string id, Owner owner, Done<BatchJob> done) {
  Ask(std::move(done), [this, id = std::move(id), owner = std::move(owner)] {
    return store_->GetJob(id, owner);
  });
}

void JobRunner::List(int page_size, std::string page_token, Owner owner,
                     Done<JobStore::Page> done) {
  Ask(std::move(done),
      [this, page_size, token = std::move(page_token), owner = std::move(owner)] {
        return store_->ListJobs(page_size, token, owner);
      });
}

void JobRunner::Cancel(std::string id, Owner owner, Done<BatchJob> done) {
  Ask(std::move(done),
      [this, id = std::move(id), owner = std::move(owner)]() -> absl::StatusOr<BatchJob> {
    absl::StatusOr<JobRow> row = store_->GetJobRow(id, owner);
    if (!row.ok()) return row.status();
    auto it = jobs_.find(row->seq);
    if (it != jobs_.end() && it->second->end_state != BatchJob::STATE_FAILED) {
      Job& job = *it->second;
      job.stopping = true;
      job.end_state = BatchJob::STATE_CANCELLED;
      job.pending.clear();
      if (!job.in_flight.empty()) {
        SetState(job, BatchJob::STATE_CANCELLING);
        // The calls complete CANCELLED (not recorded) unless they had
        // finished already; the job ends when the last one is back.
        CancelInFlight(job);
      }
      EndIfDone(job);  // may erase the job
    }
    return store_->GetJob(id);
  });
}

void JobRunner::ReadResults(std::string id, Owner owner, int32_t start_index, int limit,
                            Done<ResultsChunk> done) {
  Ask(std::move(done), [this, id = std::move(id), owner = std::move(owner), start_index,
                        limit]() -> absl::StatusOr<ResultsChunk> {
    absl::StatusOr<JobRow> row = store_->GetJobRow(id, owner);
    if (!row.ok()) return row.status();
    ResultsChunk chunk;
    chunk.job_ended = jobs_.find(row->seq) == jobs_.end();
    absl::StatusOr<std::vector<llmgateway::v1::BatchJobResult>> results =
        store_->ReadResults(row->seq, start_index, limit, /*contiguous=*/!chunk.job_ended);
    if (!results.ok()) return results.status();
    chunk.results = *std::move(results);
    return chunk;
  });
}

void JobRunner::CancelInFlight(Job& job) {
  for (auto& [index, call] : job.in_flight) {
    if (call->handle != nullptr) call->handle->Cancel();
  }
}

void JobRunner::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [this] { return stop_requested_ || !tasks_.empty() || !finished_.empty(); };
  while (true) {
    // Wake for work, for the next sweep, or when a pause after a failed
    // write ends; once stopping, only for the last completions.
    const absl::Time now = absl::Now();
    absl::Time wake_at = next_sweep_ + options_.sweep_every;
    if (paused_until_ > now) wake_at = std::min(wake_at, paused_until_);
    if (stopping_) {
      // (stop_requested_ stays true: `ready` would spin.)
      wake_.wait(lock, [this] { return !tasks_.empty() || !finished_.empty() || in_flight_ == 0; });
    } else if (wake_at > now) {
      wake_.wait_until(lock, absl::ToChronoTime(wake_at), ready);
    }

    std::vector<Task> tasks = std::move(tasks_);
    tasks_.clear();
    std::vector<ItemCall*> finished = std::move(finished_);
    finished_.clear();
    in_flight_ -= static_cast<int>(finished.size());
    const bool stop_now = stop_requested_ && !stopping_;
    draining_ = drain_requested_;
    lock.unlock();

    if (stop_now) {
      stopping_ = true;
      for (auto& [seq, job] : jobs_) CancelInFlight(*job);
    }
    if (!finished.empty()) {
      std::vector<Outcome> outcomes = TakeOutcomes(std::move(finished));
      // The freed slots take their next items before the results go to
      // disk: the upstream calls overlap the write (fsync), and the
      // upstream still never sees more than max_concurrency of a job.
      if (!stopping_) Schedule();
      // Results before tasks: a Get or a read answered below sees them.
      if (!outcomes.empty()) Record(std::move(outcomes));
    }
    for (Task& task : tasks) task(/*alive=*/true);
    if (!stopping_) {
      Schedule();
      MaybeSweep();
    }

    lock.lock();
    if (stopping_ && in_flight_ == 0 && finished_.empty()) break;
  }
  loop_exited_ = true;
  std::vector<Task> late = std::move(tasks_);
  tasks_.clear();
  lock.unlock();
  for (Task& task : late) task(/*alive=*/false);
}

std::vector<JobRunner::Outcome> JobRunner::TakeOutcomes(std::vector<ItemCall*> finished) {
  std::vector<Outcome> outcomes;
  outcomes.reserve(finished.size());
  for (ItemCall* call : finished) {
    Job& job = *jobs_.at(call->job_seq);
    // Ours now: the engine is done with it.
    std::unique_ptr<ItemCall> owned = std::move(job.in_flight.at(call->index));
    job.in_flight.erase(call->index);
    if (call->status.code() == absl::StatusCode::kCancelled) {
      // Aborted by us (cancel, stop) or by the engine's shutdown: not a
      // result. Unless the job is ending, the item runs again.
      if (!job.stopping && !stopping_) job.pending.push_front(std::move(call->item));
      EndIfDone(job);  // may erase the job
      continue;
    }
    Outcome& outcome = outcomes.emplace_back();
    outcome.result.job_seq = call->job_seq;
    outcome.result.result.set_index(call->index);
    outcome.result.result.set_custom_id(call->item.custom_id);
    if (call->status.ok()) {
      outcome.result.result.mutable_response()->Swap(&call->response);
    } else {
      *outcome.result.result.mutable_error() = ToRpcStatus(call->status);
    }
    outcome.item = std::move(call->item);
    ++job.unrecorded;
  }
  return outcomes;
}

void JobRunner::Record(std::vector<Outcome> outcomes) {
  std::vector<ItemResult> results;
  results.reserve(outcomes.size());
  for (Outcome& outcome : outcomes) results.push_back(std::move(outcome.result));
  std::vector<bool> recorded;
  if (absl::Status written = store_->RecordResults(results, absl::Now(), &recorded);
      !written.ok()) {
    // Nothing of this group is durable: its items run again, after a pause
    // so a full disk is not hammered.
    LogError(written.message(), "; ", results.size(), " item(s) will run again");
    paused_until_ = absl::Now() + absl::Seconds(1);
    for (size_t i = 0; i < outcomes.size(); ++i) {
      Job& job = *jobs_.at(results[i].job_seq);
      if (!job.stopping && !stopping_) job.pending.push_front(std::move(outcomes[i].item));
    }
  }
  std::vector<int64_t> touched;
  for (size_t i = 0; i < results.size(); ++i) {
    Job& job = *jobs_.at(results[i].job_seq);
    --job.unrecorded;
    touched.push_back(job.row.seq);
    if (recorded.empty() || !recorded[i]) continue;
    const llmgateway::v1::BatchJobResult& result = results[i].result;
    metrics::RecordBatchItem(result.has_response());
    if (result.has_response()) {
      ++job.row.succeeded_count;
      continue;
    }
    ++job.row.failed_count;
    // Item errors are results, not log noise, except while a job may be
    // failing as a whole.
    if (job.row.succeeded_count == 0) {
      LogWarning("batch job ", job.row.id, " item ", result.index(), " failed: ",
                 absl::StatusCodeToString(static_cast<absl::StatusCode>(result.error().code())));
    }
    const int64_t threshold = std::min<int64_t>(job.row.total_count, options_.fail_fast_items);
    if (!job.stopping && job.row.succeeded_count == 0 && job.row.failed_count >= threshold) {
      job.stopping = true;
      job.end_state = BatchJob::STATE_FAILED;
      job.error = result.error();
      job.error->set_message(absl::StrCat("the first ", job.row.failed_count,
                                          " items all failed; the last: ",
                                          result.error().message()));
      job.pending.clear();
      CancelInFlight(job);
    }
  }
  // A job ends only once its last result is durable.
  for (int64_t seq : touched) {
    auto it = jobs_.find(seq);
    if (it != jobs_.end()) EndIfDone(*it->second);
  }
}

void JobRunner::Schedule() {
  if (draining_ || absl::Now() < paused_until_) return;
  int in_flight = 0;
  for (const auto& [seq, job] : jobs_) in_flight += static_cast<int>(job->in_flight.size());
  std::vector<int64_t> idle;
  for (auto& [seq, job_ptr] : jobs_) {
    Job& job = *job_ptr;
    while (in_flight < options_.max_concurrency && !job.stopping &&
           static_cast<int>(job.in_flight.size()) < job.row.max_concurrency) {
      if (!StartOne(job)) break;
      ++in_flight;
    }
    if (job.in_flight.empty() && job.unrecorded == 0) idle.push_back(seq);
    if (in_flight >= options_.max_concurrency) break;
  }
  for (int64_t seq : idle) EndIfDone(*jobs_.at(seq));
}

bool JobRunner::StartOne(Job& job) {
  if (job.pending.empty()) {
    if (job.exhausted) return false;
    const int chunk = std::max(256, job.row.max_concurrency);
    absl::StatusOr<std::vector<PendingItem>> items =
        store_->PendingItems(job.row.seq, job.cursor, chunk);
    if (!items.ok()) {
      // An unreadable item cannot run: the job fails rather than spin.
      LogError(items.status().message());
      job.stopping = true;
      job.end_state = BatchJob::STATE_FAILED;
      job.error = ToRpcStatus(items.status());
      return false;
    }
    if (items->empty()) {
      job.exhausted = true;
      return false;
    }
    job.cursor = items->back().index + 1;
    for (PendingItem& item : *items) job.pending.push_back(std::move(item));
  }
  if (job.row.state == BatchJob::STATE_QUEUED) {
    SetState(job, BatchJob::STATE_RUNNING);
    LogInfo("batch job ", job.row.id, " running");
  }
  auto owned = std::make_unique<ItemCall>(this, job.row.seq, std::move(job.pending.front()));
  job.pending.pop_front();
  ItemCall* call = owned.get();
  job.in_flight[call->index] = std::move(owned);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++in_flight_;
  }
  routing::CallOptions options;
  options.request_id = absl::StrCat(job.row.id, "-", call->index);
  // The engine never completes inside Start, so `call` is still ours here.
  call->handle = start_call_(&call->item.request, std::move(options), call);
  return true;
}

void JobRunner::EndIfDone(Job& job) {
  if (!job.in_flight.empty() || job.unrecorded > 0) return;
  if (!job.stopping && !(job.exhausted && job.pending.empty())) return;
  const State state = job.stopping ? job.end_state : BatchJob::STATE_SUCCEEDED;
  SetState(job, state, job.error.has_value() ? &*job.error : nullptr);
  LogInfo("batch job ", job.row.id, " ", BatchJob::State_Name(state), ": ",
          job.row.succeeded_count, " succeeded, ", job.row.failed_count, " failed of ",
          job.row.total_count);
  jobs_.erase(job.row.seq);
}

void JobRunner::SetState(Job& job, State state, const google::rpc::Status* error) {
  if (absl::Status s = store_->SetState(job.row.seq, state, absl::Now(), error); !s.ok()) {
    // The job keeps its old state on disk; a restart takes it from there.
    LogError(s.message());
  }
  job.row.state = state;
}

void JobRunner::MaybeSweep() {
  const absl::Time now = absl::Now();
  if (now < next_sweep_ + options_.sweep_every) return;
  next_sweep_ = now;
  absl::StatusOr<int> swept = store_->SweepEndedBefore(now - options_.retention);
  if (!swept.ok()) {
    LogError(swept.status().message());
  } else if (*swept > 0) {
    LogInfo("batch store: deleted ", *swept, " job(s) ended over ",
            absl::FormatDuration(options_.retention), " ago");
  }
}

}  // namespace llmgateway::batch
