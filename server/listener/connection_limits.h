// Puts config.limits' connection limits on a grpc::ServerBuilder: the
// connection cap (an accept hook with a ConnectionLimiter), the handshake,
// idle and age timeouts, and HTTP/2's concurrent streams per connection.
#ifndef LLM_GATEWAY_SERVER_LISTENER_CONNECTION_LIMITS_H_
#define LLM_GATEWAY_SERVER_LISTENER_CONNECTION_LIMITS_H_

#include <memory>

#include "grpcpp/server_builder.h"
#include "server/config/config.pb.h"
#include "server/listener/connection_limiter.h"

namespace llmgateway::listener {

// `limits` has its defaults applied (config::ApplyLimitsDefaults). The
// returned limiter lives as long as the server's accept hook holds it.
std::shared_ptr<ConnectionLimiter> ApplyConnectionLimits(const config::Limits& limits,
                                                         grpc::ServerBuilder* builder);

}  // namespace llmgateway::listener

#endif  // LLM_GATEWAY_SERVER_LISTENER_CONNECTION_LIMITS_H_
