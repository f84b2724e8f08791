// Puts config.limits' connection limits on a grpc::ServerBuilder: the
// connection cap (an accept hook with a ConnectionLimiter), a listen
// backlog small enough for the descriptors kept free, the handshake, idle
// and age timeouts, and HTTP/2's concurrent streams per connection.
#ifndef LLM_GATEWAY_SERVER_LISTENER_CONNECTION_LIMITS_H_
#define LLM_GATEWAY_SERVER_LISTENER_CONNECTION_LIMITS_H_

#include <memory>
#include <mutex>
#include <vector>

#include "grpcpp/server_builder.h"
#include "server/config/config.pb.h"
#include "server/listener/connection_limiter.h"

namespace llmgateway::listener {

class ConnectionLimits {
 public:
  // `limits` has its defaults applied (config::ApplyLimitsDefaults).
  static std::shared_ptr<ConnectionLimits> Apply(const config::Limits& limits,
                                                 grpc::ServerBuilder* builder);

  // After BuildAndStart: shortens gRPC's listen backlog (it asks for
  // somaxconn, 4096). gRPC 1.51 accepts everything queued in one loop
  // before the connections it was told to drop are closed, so a queue
  // longer than the free descriptors would still hit EMFILE, which stops
  // its listener for good.
  void AfterStart();

  const ConnectionLimiter& limiter() const { return limiter_; }
  int backlog() const { return backlog_; }

  ConnectionLimits(ConnectionLimiterOptions options, int backlog)
      : limiter_(options), backlog_(backlog) {}

 private:
  friend class AcceptHookOption;
  ConnectionLimiter limiter_;
  const int backlog_;
  std::mutex mu_;
  std::vector<int> listeners_;
};

}  // namespace llmgateway::listener

#endif  // LLM_GATEWAY_SERVER_LISTENER_CONNECTION_LIMITS_H_
