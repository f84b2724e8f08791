// One caller's API key as configured (id, models it may use, limits) and its
// running counts: request and token buckets, tokens used, streams open.
// Thread-safe: every call of the key, on any gRPC thread, shares it.
#ifndef LLM_GATEWAY_SERVER_AUTH_CALLER_H_
#define LLM_GATEWAY_SERVER_AUTH_CALLER_H_

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/config/config.pb.h"

namespace llmgateway::auth {

// A bucket that holds at most a minute's worth and refills evenly; it may
// go below zero when usage is charged after the fact (tokens).
class MinuteBucket {
 public:
  MinuteBucket(int64_t per_minute, absl::Time now);
  // Refills up to `now`, then: how long until the level reaches `needed`
  // (zero when it already has).
  absl::Duration WaitFor(double needed, absl::Time now);
  void Take(double amount) { level_ -= amount; }

 private:
  const double capacity_;
  const double per_second_;
  double level_;
  absl::Time refilled_;
};

class Caller {
 public:
  Caller(const config::ApiKey& key, absl::Time now);
  Caller(const Caller&) = delete;
  Caller& operator=(const Caller&) = delete;

  const std::string& id() const { return id_; }

  // OK, or PERMISSION_DENIED naming the key and the model.
  absl::Status CheckModel(absl::string_view model) const;
  // One model call: CheckModel, then the token budget, the token rate and
  // the request rate (RESOURCE_EXHAUSTED naming the limit). Takes one
  // request from the bucket only when it returns OK.
  absl::Status Admit(absl::string_view model, absl::Time now);
  // A stream opens: RESOURCE_EXHAUSTED at the key's limit. Each OK is
  // matched by one CloseStream.
  absl::Status OpenStream();
  void CloseStream();
  // Usage of a finished call (prompt + completion tokens).
  void Charge(int64_t tokens, absl::Time now);

  int64_t tokens_used() const;

 private:
  const std::string id_;
  std::vector<std::string> models_;  // exact names, or prefixes ending in '*'
  const int64_t requests_per_minute_;
  const int64_t tokens_per_minute_;
  const int64_t token_budget_;
  const int64_t max_streams_;

  mutable std::mutex mu_;
  MinuteBucket requests_;
  MinuteBucket tokens_;
  int64_t tokens_used_ = 0;
  int64_t streams_open_ = 0;
};

}  // namespace llmgateway::auth

#endif  // LLM_GATEWAY_SERVER_AUTH_CALLER_H_
