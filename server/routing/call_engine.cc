// The call state machine. One Call per generation call; all of its state is
// touched on the transport's loop thread only (Start and the handle post
// there), so nothing here takes a lock.
//
// Lifetime: the Call holds a reference to itself (self_) from Begin until
// Complete, so it outlives every attempt, timer and admission wait it has
// started even if the starter drops its handle; closures given to the
// transport and the admission queue hold references too. Complete runs
// once: it detaches from whatever the call waits on (timer, queue), reports
// to the observer, and drops self_ as its very last step.
#include "server/routing/call_engine.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"
#include "server/providers/upstream_error.h"
#include "server/routing/upstream_attempt.h"

namespace llmgateway::routing {
namespace {

absl::Status CallCancelled() {
  return WithErrorInfo(absl::CancelledError("the call was cancelled"), "CANCELLED");
}

absl::Status DeadlinePassed() {
  return WithErrorInfo(
      absl::DeadlineExceededError("the deadline passed before an upstream answered"),
      "DEADLINE_EXCEEDED");
}

absl::Status QueueFull() {
  return WithRetryInfo(
      WithErrorInfo(absl::ResourceExhaustedError(
                        "too many upstream requests are waiting for a connection; "
                        "try again shortly"),
                    "UPSTREAM_QUEUE_FULL"),
      absl::Seconds(1));
}

}  // namespace

class CallEngine::Call final : public CallHandle,
                               public AttemptSink,
                               public std::enable_shared_from_this<Call> {
 public:
  Call(CallEngine* engine, const llmgateway::v1::GenerateRequest* request,
       CallOptions options, CallObserver* observer)
      : engine_(engine),
        transport_(engine->transport_),
        request_(request),
        options_(std::move(options)),
        observer_(observer),
        max_attempts_(request->routing().has_max_attempts()
                          ? request->routing().max_attempts()
                          : std::numeric_limits<int>::max()) {}

  void Begin() {
    self_ = shared_from_this();
    absl::StatusOr<Plan> plan = engine_->router_->MakePlan(*request_);
    if (!plan.ok()) {
      Complete(plan.status());
      return;
    }
    plan_ = *std::move(plan);
    Next();
  }

  void Cancel() override {
    transport_->Post([self = shared_from_this()] { self->DoCancel(); });
  }

  void Resume() override {
    transport_->Post([self = shared_from_this()] {
      if (self->transfer_active_) self->transport_->Resume(self->transfer_);
    });
  }

  bool OnAttemptDelta(llmgateway::v1::GenerateStreamResponse&& delta) override {
    // A cancelled call's transfer is being torn down: nothing more goes out.
    if (cancelled_ || done_) return true;
    committed_ = true;
    return observer_->OnDelta(std::move(delta));
  }

  void OnAttemptDone(AttemptOutcome outcome) override;

 private:
  // Picks the next target and starts an attempt there, or completes.
  void Next();
  Target* PickTarget(absl::Time now);
  Target* WeightedLeastLoaded(const std::vector<Target*>& candidates);
  // Holds an admission slot for `current_`: sends the attempt.
  void Send();
  void RetryLater(absl::Duration delay);
  void DoCancel();
  void Complete(absl::Status status);
  double Uniform01() {
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine_->random_);
  }
  const TargetGroup& CurrentGroup() const { return plan_.groups[group_]; }

  CallEngine* const engine_;
  http::Transport* const transport_;
  const llmgateway::v1::GenerateRequest* const request_;
  const CallOptions options_;
  CallObserver* const observer_;
  const int max_attempts_;

  std::shared_ptr<Call> self_;
  Plan plan_;
  size_t group_ = 0;
  // Targets this call is done with (retries spent, or failed in a way
  // only another target can fix).
  absl::flat_hash_set<const Target*> exhausted_;
  Target* current_ = nullptr;
  bool retry_current_ = false;
  int retries_on_current_ = 0;
  int attempts_ = 0;
  AdapterRequest adapter_request_;

  std::unique_ptr<UpstreamAttempt> attempt_;
  http::Transport::TransferId transfer_ = 0;
  bool transfer_active_ = false;
  absl::Time attempt_started_;
  // The attempt's timeout is the call's deadline: its running out ends the call.
  bool attempt_bounded_by_deadline_ = false;

  http::Transport::TimerId timer_ = 0;
  bool timer_armed_ = false;
  Admission::Ticket ticket_;
  bool queued_ = false;

  bool committed_ = false;
  bool cancelled_ = false;
  bool done_ = false;
  absl::Status last_error_;
  CallSummary summary_;
};

void CallEngine::Call::Next() {
  if (attempts_ >= max_attempts_ && !last_error_.ok()) {
    Complete(last_error_);
    return;
  }
  const absl::Time now = transport_->Now();
  if (now >= options_.deadline) {
    Complete(last_error_.ok() ? DeadlinePassed() : last_error_);
    return;
  }
  Target* target = retry_current_ ? current_ : PickTarget(now);
  retry_current_ = false;
  if (target == nullptr) {
    Complete(last_error_);
    return;
  }
  if (target != current_) retries_on_current_ = 0;
  current_ = target;

  AttemptOptions attempt;
  attempt.upstream_model = target->upstream_model;
  attempt.stream = options_.stream;
  attempt.request_id = options_.request_id;
  absl::StatusOr<AdapterRequest> built =
      target->provider->adapter->BuildRequest(*request_, attempt);
  if (!built.ok()) {
    // The caller's request does not fit this provider: not the target's
    // fault, and no other target makes it a different request.
    Complete(built.status());
    return;
  }
  adapter_request_ = *std::move(built);

  Admission& admission = *target->provider->admission;
  if (admission.TryAcquire()) {
    Send();
    return;
  }
  if (!admission.Enqueue(
          [self = shared_from_this()] {
            self->queued_ = false;
            if (self->timer_armed_) {
              self->transport_->CancelTimer(self->timer_);
              self->timer_armed_ = false;
            }
            self->Send();
          },
          &ticket_)) {
    Complete(QueueFull());
    return;
  }
  queued_ = true;
  if (options_.deadline != absl::InfiniteFuture()) {
    timer_armed_ = true;
    timer_ = transport_->RunAfter(options_.deadline - now, [self = shared_from_this()] {
      self->timer_armed_ = false;
      self->Complete(self->last_error_.ok() ? DeadlinePassed() : self->last_error_);
    });
  }
}

Target* CallEngine::Call::PickTarget(absl::Time now) {
  // In plan order, the first group with a target that is in rotation now:
  // a group whose every target is cooling is skipped, not waited for.
  std::vector<Target*> available;
  for (size_t g = group_; g < plan_.groups.size(); ++g) {
    available.clear();
    for (Target* t : plan_.groups[g].targets) {
      if (exhausted_.contains(t)) continue;
      if (t->health == nullptr || t->health->Available(now)) available.push_back(t);
    }
    if (!available.empty()) {
      group_ = g;
      return WeightedLeastLoaded(available);
    }
  }
  // Everything left is cooling: rather than fail, try the one that recovers
  // first (it becomes its probe).
  Target* best = nullptr;
  size_t best_group = group_;
  for (size_t g = group_; g < plan_.groups.size(); ++g) {
    for (Target* t : plan_.groups[g].targets) {
      if (exhausted_.contains(t)) continue;
      if (best == nullptr || t->health->RecoversAt(now) < best->health->RecoversAt(now)) {
        best = t;
        best_group = g;
      }
    }
  }
  group_ = best_group;
  return best;
}

Target* CallEngine::Call::WeightedLeastLoaded(const std::vector<Target*>& candidates) {
  if (candidates.size() == 1) return candidates.front();
  // Load relative to weight; ties (the common idle case) go by weighted
  // chance, so weights shape traffic even when nothing is in flight.
  auto load = [](const Target* t) {
    const int in_flight = t->health != nullptr ? t->health->in_flight() : 0;
    return static_cast<double>(in_flight) / t->weight;
  };
  double lowest = std::numeric_limits<double>::infinity();
  for (const Target* t : candidates) lowest = std::min(lowest, load(t));
  int total_weight = 0;
  for (const Target* t : candidates) {
    if (load(t) == lowest) total_weight += t->weight;
  }
  double pick = Uniform01() * total_weight;
  for (Target* t : candidates) {
    if (load(t) != lowest) continue;
    pick -= t->weight;
    if (pick < 0) return t;
  }
  for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) {
    if (load(*it) == lowest) return *it;
  }
  return candidates.front();
}

void CallEngine::Call::Send() {
  const absl::Time now = transport_->Now();
  const ProviderRoute& provider = *current_->provider;
  absl::Duration timeout = provider.timeout;
  if (request_->routing().has_attempt_timeout()) {
    timeout = std::min(timeout, FromProto(request_->routing().attempt_timeout()));
  }
  const absl::Duration left = options_.deadline - now;
  if (left <= absl::ZeroDuration()) {
    provider.admission->Release();
    Complete(last_error_.ok() ? DeadlinePassed() : last_error_);
    return;
  }
  attempt_bounded_by_deadline_ = left <= timeout;
  timeout = std::min(timeout, left);

  http::HttpRequest http_request;
  http_request.url = std::move(adapter_request_.url);
  http_request.headers = std::move(adapter_request_.headers);
  http_request.body = std::move(adapter_request_.body);
  http_request.timeout = timeout;
  http_request.connect_timeout = provider.connect_timeout;
  // Streams pause when their caller reads slowly (backpressure).
  http_request.pausable = options_.stream;
  http_request.ca_file = provider.ca_file;

  ++attempts_;
  attempt_started_ = now;
  if (current_->health != nullptr) current_->health->OnAttemptStart(now);
  attempt_ = std::make_unique<UpstreamAttempt>(*provider.adapter, options_.stream,
                                               engine_->options_.max_body_bytes, this);
  transfer_active_ = true;
  const http::Transport::TransferId id =
      transport_->Start(std::move(http_request), attempt_.get());
  // A transport that is shutting down may complete the transfer inside Start.
  if (transfer_active_) transfer_ = id;
}

void CallEngine::Call::OnAttemptDone(AttemptOutcome outcome) {
  transfer_active_ = false;
  // Dies at the end of this function, after the attempt's last touch of itself.
  std::unique_ptr<UpstreamAttempt> finished = std::move(attempt_);
  const absl::Time now = transport_->Now();
  Target* const target = current_;
  target->provider->admission->Release();

  AttemptRecord& record = summary_.attempts.emplace_back();
  record.provider = target->provider->adapter->name();
  record.upstream_model = target->upstream_model;
  record.code = outcome.status.code();
  record.http_status = outcome.http_status;
  record.network_error = std::move(outcome.network_error);
  record.elapsed = now - attempt_started_;

  if (target->health != nullptr) {
    if (outcome.status.ok()) {
      target->health->OnSuccess();
    } else if (CountsAgainstTarget(outcome.status) && !cancelled_) {
      target->health->OnFailure(now);
    } else {
      target->health->OnNeutral();
    }
  }

  if (outcome.status.ok()) {
    summary_.provider = target->provider->adapter->name();
    if (!options_.stream) observer_->OnResponse(std::move(outcome.response));
    Complete(absl::OkStatus());
    return;
  }
  if (cancelled_) {
    Complete(CallCancelled());
    return;
  }
  // After the first delta the caller has part of an answer: a retry would
  // duplicate it.
  if (committed_) {
    Complete(std::move(outcome.status));
    return;
  }
  last_error_ = outcome.status;
  const FailureClass failure = Classify(outcome.status);
  const bool deadline_hit =
      now >= options_.deadline ||
      (attempt_bounded_by_deadline_ &&
       outcome.status.code() == absl::StatusCode::kDeadlineExceeded);
  if (failure == FailureClass::kFatal || deadline_hit) {
    Complete(std::move(outcome.status));
    return;
  }
  const TargetGroup& group = CurrentGroup();
  // Retries are this call's budget on its target; a cooldown the failures
  // open steers the calls that come next (and this call's fallback).
  if (failure == FailureClass::kRetry && retries_on_current_ < group.retry.max_retries &&
      attempts_ < max_attempts_) {
    const absl::Duration delay =
        RetryDelay(outcome.status, group.retry, retries_on_current_, Uniform01());
    // A wait the deadline would cut short is not taken: the caller learns
    // now, with the upstream's RetryInfo, and can decide for itself.
    if (now + delay >= options_.deadline) {
      Complete(std::move(outcome.status));
      return;
    }
    ++retries_on_current_;
    retry_current_ = true;
    RetryLater(delay);
    return;
  }
  exhausted_.insert(target);
  Next();
}

void CallEngine::Call::RetryLater(absl::Duration delay) {
  timer_armed_ = true;
  timer_ = transport_->RunAfter(delay, [self = shared_from_this()] {
    self->timer_armed_ = false;
    if (!self->done_) self->Next();
  });
}

void CallEngine::Call::DoCancel() {
  if (done_ || cancelled_) return;
  cancelled_ = true;
  if (transfer_active_) {
    // Its completion (CANCELLED) finishes the call.
    transport_->Cancel(transfer_);
    return;
  }
  Complete(CallCancelled());
}

void CallEngine::Call::Complete(absl::Status status) {
  if (done_) return;
  done_ = true;
  // Keeps `this` alive to the end of this function, whatever the observer
  // does with its handle.
  std::shared_ptr<Call> keep = std::move(self_);
  if (timer_armed_) {
    transport_->CancelTimer(timer_);
    timer_armed_ = false;
  }
  if (queued_) {
    current_->provider->admission->Leave(ticket_);
    queued_ = false;
  }
  CallObserver* const observer = observer_;
  observer->OnComplete(std::move(status), std::move(summary_));
}

CallEngine::CallEngine(Router* router, http::Transport* transport, Options options)
    : router_(router),
      transport_(transport),
      options_(options),
      random_(options.seed != 0 ? options.seed : std::random_device()()) {}

std::shared_ptr<CallHandle> CallEngine::Start(const llmgateway::v1::GenerateRequest* request,
                                              CallOptions options, CallObserver* observer) {
  auto call = std::make_shared<Call>(this, request, std::move(options), observer);
  // Planning and the first attempt run on the loop: a failure there never
  // completes on the starter's thread, and no retry ever recurses into it.
  transport_->Post([call] { call->Begin(); });
  return call;
}

}  // namespace llmgateway::routing
