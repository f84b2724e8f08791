// Connection limits on the gRPC listener (see the header).
#include "server/listener/connection_limits.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/support/channel_arguments.h"
#include "server/common/log.h"
#include "server/listener/accept_hook.h"
#include "server/metrics/gateway_metrics.h"

namespace llmgateway::listener {
namespace {

// One log line per this period at most, however many connections a flood
// brings: the counter has the exact number.
constexpr absl::Duration kLogPeriod = absl::Seconds(10);

int ToMillis(const google::protobuf::Duration& d) {
  return static_cast<int>(d.seconds() * 1000 + d.nanos() / 1000000);
}

// Counts and reports refused connections; one line per kLogPeriod.
class RejectionLog {
 public:
  void Record(Admission why, int max_connections) {
    const bool cap = why == Admission::kOverCap;
    metrics::RecordConnectionRejected(cap ? "max_connections" : "descriptors");
    std::lock_guard<std::mutex> lock(mu_);
    ++(cap ? over_cap_ : few_fds_);
    const absl::Time now = absl::Now();
    if (now - last_log_ < kLogPeriod) return;
    LogWarning("closed ", over_cap_, " new caller connection(s) at limits.max_connections (",
               max_connections, ") and ", few_fds_,
               " with few file descriptors left, since the last such line");
    over_cap_ = few_fds_ = 0;
    last_log_ = now;
  }

 private:
  std::mutex mu_;
  int64_t over_cap_ = 0;
  int64_t few_fds_ = 0;
  absl::Time last_log_ = absl::InfinitePast();
};

// The listen backlog: an eighth of the descriptors, 16 to 1024. With the
// default cap (half the descriptors) a whole queue accepted at once still
// fits in what is left. Smaller would refuse bursts of honest connects
// (the kernel drops their SYNs; they retry after a second).
int BacklogFor(int64_t fd_limit) {
  return static_cast<int>(std::clamp<int64_t>(fd_limit / 8, 16, 1024));
}

}  // namespace

class AcceptHookOption : public grpc::ServerBuilderOption {
 public:
  explicit AcceptHookOption(std::shared_ptr<ConnectionLimits> limits)
      : limits_(std::move(limits)) {}

  void UpdateArguments(grpc::ChannelArguments* args) override {
    auto log = std::make_shared<RejectionLog>();
    ConnectionLimits* limits = limits_.get();
    args->SetSocketMutator(NewAcceptHook(
        [keep = limits_, limits, log](int fd) {
          const Admission admission = limits->limiter_.Admit(fd);
          metrics::SetConnectionsOpen(limits->limiter_.counted());
          if (admission == Admission::kAdmit) return;
          // Not close(2): gRPC owns the fd. It reads EOF at once and closes it.
          shutdown(fd, SHUT_RDWR);
          log->Record(admission, limits->limiter_.max_connections());
        },
        [limits](int fd) {
          std::lock_guard<std::mutex> lock(limits->mu_);
          limits->listeners_.push_back(fd);
        }));
  }
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*) override {}

 private:
  std::shared_ptr<ConnectionLimits> limits_;
};

void ConnectionLimits::AfterStart() {
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : listeners_) {
    // Only a socket that listens now (one gRPC gave up on may have been
    // closed, and its number reused).
    int listening = 0;
    socklen_t size = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0 && listening) {
      listen(fd, backlog_);  // Linux updates the backlog of a listening socket
    }
  }
}

std::shared_ptr<ConnectionLimits> ConnectionLimits::Apply(const config::Limits& limits,
                                                          grpc::ServerBuilder* builder) {
  ConnectionLimiterOptions options;
  options.fd_limit = FileDescriptorLimit();
  const int backlog = BacklogFor(options.fd_limit);
  // Refused at accept while fewer than two queues' worth are free.
  options.fd_reserve = std::max(64, 2 * backlog);
  options.max_connections = limits.max_connections() > 0
                                ? limits.max_connections()
                                : DefaultMaxConnections(options.fd_limit);
  if (options.max_connections > options.fd_limit - options.fd_reserve) {
    LogWarning("limits.max_connections (", options.max_connections,
               ") is not below the file descriptor limit (", options.fd_limit,
               "): connections are also refused while fewer than ", options.fd_reserve,
               " descriptors are free");
  }
  auto result = std::make_shared<ConnectionLimits>(options, backlog);
  builder->SetOption(std::make_unique<AcceptHookOption>(result));
  // A connection that never completes its handshake (TCP open, no HTTP/2
  // preface) is closed after this; gRPC's default is 120 s.
  builder->AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                              ToMillis(limits.handshake_timeout()));
  // Connections with no call open (preface only, or a client gone quiet).
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, ToMillis(limits.idle_timeout()));
  if (ToMillis(limits.max_connection_age()) > 0) {
    builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                                ToMillis(limits.max_connection_age()));
    builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                                ToMillis(limits.max_connection_age_grace()));
  }
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams());
  return result;
}

}  // namespace llmgateway::listener
