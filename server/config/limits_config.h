// Defaults and validation of GatewayConfig.limits (config.proto's Limits):
// kept apart from config_loader.cc so the limits' numbers live in one place.
#ifndef LLM_GATEWAY_SERVER_CONFIG_LIMITS_CONFIG_H_
#define LLM_GATEWAY_SERVER_CONFIG_LIMITS_CONFIG_H_

#include <cstdint>

#include "absl/status/status.h"
#include "server/config/config.pb.h"

namespace llmgateway::config {

inline constexpr int64_t kDefaultHandshakeTimeoutSeconds = 10;
inline constexpr int64_t kDefaultIdleTimeoutSeconds = 300;
inline constexpr int64_t kDefaultMaxReceiveMessageBytes = int64_t{64} << 20;
inline constexpr int kDefaultMaxMessagesPerRequest = 10000;
inline constexpr int64_t kDefaultMaxMediaBytesPerRequest = int64_t{50} << 20;
inline constexpr int kDefaultMaxConcurrentStreams = 4096;
inline constexpr int kDefaultMaxCallsInFlight = 20000;
inline constexpr int64_t kDefaultMaxRequestBytesInFlight = int64_t{512} << 20;
inline constexpr int64_t kDefaultMemoryLimitBytes = int64_t{2} << 30;

// Fills unset (zero) limits in place. max_connections stays 0 ("half of
// RLIMIT_NOFILE", resolved when the server starts) and so does
// max_connection_age (no limit).
void ApplyLimitsDefaults(Limits* limits);

// INVALID_ARGUMENT naming the field (`limits.max_connections: ...`).
absl::Status ValidateLimits(const Limits& limits);

}  // namespace llmgateway::config

#endif  // LLM_GATEWAY_SERVER_CONFIG_LIMITS_CONFIG_H_
