// Limits: defaults a production gateway wants, and range checks.
#include "server/config/limits_config.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace llmgateway::config {
namespace {

absl::Status LimitError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("config: limits.", field, ": ", problem));
}

bool IsNegative(const google::protobuf::Duration& d) { return d.seconds() < 0 || d.nanos() < 0; }

bool IsZero(const google::protobuf::Duration& d) { return d.seconds() == 0 && d.nanos() == 0; }

void DefaultSeconds(google::protobuf::Duration* d, int64_t seconds) {
  if (IsZero(*d)) d->set_seconds(seconds);
}

// gRPC takes its timeouts as int milliseconds.
constexpr int64_t kMaxGrpcMillis = std::numeric_limits<int>::max();

bool FitsGrpcMillis(const google::protobuf::Duration& d) {
  return d.seconds() < kMaxGrpcMillis / 1000;
}

}  // namespace

void ApplyLimitsDefaults(Limits* limits) {
  DefaultSeconds(limits->mutable_handshake_timeout(), kDefaultHandshakeTimeoutSeconds);
  DefaultSeconds(limits->mutable_idle_timeout(), kDefaultIdleTimeoutSeconds);
  auto set_default = [](auto value, auto fallback) { return value == 0 ? fallback : value; };
  limits->set_max_receive_message_bytes(
      set_default(limits->max_receive_message_bytes(), kDefaultMaxReceiveMessageBytes));
  limits->set_max_messages_per_request(
      set_default(limits->max_messages_per_request(), kDefaultMaxMessagesPerRequest));
  limits->set_max_media_bytes_per_request(
      set_default(limits->max_media_bytes_per_request(), kDefaultMaxMediaBytesPerRequest));
  limits->set_max_concurrent_streams(
      set_default(limits->max_concurrent_streams(), kDefaultMaxConcurrentStreams));
  limits->set_max_calls_in_flight(
      set_default(limits->max_calls_in_flight(), kDefaultMaxCallsInFlight));
  limits->set_max_request_bytes_in_flight(
      set_default(limits->max_request_bytes_in_flight(), kDefaultMaxRequestBytesInFlight));
  limits->set_memory_limit_bytes(
      set_default(limits->memory_limit_bytes(), kDefaultMemoryLimitBytes));
}

absl::Status ValidateLimits(const Limits& limits) {
  const std::pair<absl::string_view, int64_t> counts[] = {
      {"max_connections", limits.max_connections()},
      {"max_receive_message_bytes", limits.max_receive_message_bytes()},
      {"max_messages_per_request", limits.max_messages_per_request()},
      {"max_media_bytes_per_request", limits.max_media_bytes_per_request()},
      {"max_concurrent_streams", limits.max_concurrent_streams()},
      {"max_calls_in_flight", limits.max_calls_in_flight()},
      {"max_request_bytes_in_flight", limits.max_request_bytes_in_flight()},
      {"memory_limit_bytes", limits.memory_limit_bytes()},
  };
  for (const auto& [name, value] : counts) {
    if (value < 0) return LimitError(name, absl::StrCat("must not be negative, got ", value));
  }
  // gRPC takes an int for its message size limit.
  if (limits.max_receive_message_bytes() > std::numeric_limits<int>::max()) {
    return LimitError("max_receive_message_bytes",
                      absl::StrCat("must be at most ", std::numeric_limits<int>::max()));
  }
  const std::pair<absl::string_view, const google::protobuf::Duration*> durations[] = {
      {"handshake_timeout", &limits.handshake_timeout()},
      {"idle_timeout", &limits.idle_timeout()},
      {"max_connection_age", &limits.max_connection_age()},
      {"max_connection_age_grace", &limits.max_connection_age_grace()},
  };
  for (const auto& [name, duration] : durations) {
    if (IsNegative(*duration)) return LimitError(name, "must not be negative");
    if (!FitsGrpcMillis(*duration)) {
      return LimitError(name, absl::StrCat("must be under ", kMaxGrpcMillis / 1000, "s"));
    }
  }
  return absl::OkStatus();
}

}  // namespace llmgateway::config
