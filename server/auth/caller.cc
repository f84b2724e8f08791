// Limits are checked in the order a caller can act on: the model first (a
// config matter), then what is spent for good (the budget), then what a
// wait fixes (rates, with RetryInfo).
#include "server/auth/caller.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "server/auth/auth_errors.h"

namespace llmgateway::auth {

MinuteBucket::MinuteBucket(int64_t per_minute, absl::Time now)
    : capacity_(static_cast<double>(per_minute)),
      per_second_(static_cast<double>(per_minute) / 60.0),
      level_(static_cast<double>(per_minute)),
      refilled_(now) {}

absl::Duration MinuteBucket::WaitFor(double needed, absl::Time now) {
  if (now > refilled_) {
    level_ = std::min(capacity_, level_ + absl::ToDoubleSeconds(now - refilled_) * per_second_);
    refilled_ = now;
  }
  if (level_ >= needed || per_second_ <= 0) return absl::ZeroDuration();
  // Rounded up to the millisecond, so a retry at that time is admitted.
  return absl::Milliseconds(std::ceil((needed - level_) / per_second_ * 1000.0));
}

Caller::Caller(const config::ApiKey& key, absl::Time now)
    : id_(key.id()),
      models_(key.models().begin(), key.models().end()),
      requests_per_minute_(key.requests_per_minute()),
      tokens_per_minute_(key.tokens_per_minute()),
      token_budget_(key.token_budget()),
      max_streams_(key.max_concurrent_streams()),
      requests_(key.requests_per_minute(), now),
      tokens_(key.tokens_per_minute(), now) {}

absl::Status Caller::CheckModel(absl::string_view model) const {
  if (models_.empty()) return absl::OkStatus();
  for (const std::string& allowed : models_) {
    if (absl::EndsWith(allowed, "*")
            ? absl::StartsWith(model, absl::string_view(allowed).substr(0, allowed.size() - 1))
            : model == allowed) {
      return absl::OkStatus();
    }
  }
  return ModelNotAllowed(id_, model);
}

absl::Status Caller::Admit(absl::string_view model, absl::Time now) {
  if (absl::Status allowed = CheckModel(model); !allowed.ok()) return allowed;
  std::lock_guard<std::mutex> lock(mu_);
  if (token_budget_ > 0 && tokens_used_ >= token_budget_) {
    return TokenBudgetExhausted(id_, token_budget_);
  }
  if (tokens_per_minute_ > 0) {
    // Admitted while the bucket holds anything: a call's size is known only
    // when it ends.
    const absl::Duration wait = tokens_.WaitFor(std::nextafter(0.0, 1.0), now);
    if (wait > absl::ZeroDuration()) return TokenRateExceeded(id_, tokens_per_minute_, wait);
  }
  if (requests_per_minute_ > 0) {
    const absl::Duration wait = requests_.WaitFor(1.0, now);
    if (wait > absl::ZeroDuration()) return RequestRateExceeded(id_, requests_per_minute_, wait);
    requests_.Take(1.0);
  }
  return absl::OkStatus();
}

absl::Status Caller::OpenStream() {
  std::lock_guard<std::mutex> lock(mu_);
  if (max_streams_ > 0 && streams_open_ >= max_streams_) return StreamLimit(id_, max_streams_);
  ++streams_open_;
  return absl::OkStatus();
}

void Caller::CloseStream() {
  std::lock_guard<std::mutex> lock(mu_);
  --streams_open_;
}

void Caller::Charge(int64_t tokens, absl::Time now) {
  if (tokens <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  tokens_used_ += tokens;
  if (tokens_per_minute_ > 0) {
    tokens_.WaitFor(0, now);  // refill up to now before taking
    tokens_.Take(static_cast<double>(tokens));
  }
}

int64_t Caller::tokens_used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_used_;
}

}  // namespace llmgateway::auth
