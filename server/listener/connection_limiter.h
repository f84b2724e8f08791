// Counts the caller connections the gRPC listener has accepted and decides,
// for each new one, whether it may stay: at most `max_connections` open,
// and never when the descriptor table is nearly full. gRPC does not tell us
// when it closes a connection, so the limiter remembers each accepted
// socket's identity (fd -> device, inode) and, when the count reaches the
// cap, sweeps: an fd that is closed or now names another socket is gone.
// Thread-safe (gRPC may accept on several poller threads).
#ifndef LLM_GATEWAY_SERVER_LISTENER_CONNECTION_LIMITER_H_
#define LLM_GATEWAY_SERVER_LISTENER_CONNECTION_LIMITER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace llmgateway::listener {

enum class Admission {
  kAdmit,
  // max_connections are open.
  kOverCap,
  // The descriptor table is nearly full (fewer than `fd_reserve` free
  // below the accepted fd's number): accept4 would soon fail with EMFILE,
  // which stops gRPC 1.51's listener for good.
  kFewDescriptors,
};

struct ConnectionLimiterOptions {
  // Caller connections open at once.
  int max_connections = 0;
  // RLIMIT_NOFILE's soft limit.
  int64_t fd_limit = 0;
  // Descriptors kept free for upstream sockets, the job store and the
  // rejected connections gRPC has not closed yet.
  int fd_reserve = 64;
  // A sweep fstat()s every counted socket: under a flood at the cap at
  // most about 1/sweep_cost_factor of one thread goes to sweeping, and
  // sweeps are never closer than min_sweep_interval (tests set both 0).
  std::chrono::milliseconds min_sweep_interval{20};
  int sweep_cost_factor = 10;
};

class ConnectionLimiter {
 public:
  explicit ConnectionLimiter(ConnectionLimiterOptions options);

  // One accepted socket. kAdmit: counted until it is seen closed. Anything
  // else: not counted; the caller closes the connection.
  Admission Admit(int fd);

  // Connections counted open (closed ones drop out at the next sweep).
  int counted() const;
  int max_connections() const { return options_.max_connections; }

 private:
  struct Identity {
    dev_t dev;
    ino_t ino;
  };
  // Drops the entries whose socket is gone. Called with mu_ held.
  void SweepLocked();

  const ConnectionLimiterOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<int, Identity> open_;
  std::chrono::steady_clock::time_point last_sweep_{};
  std::chrono::steady_clock::duration sweep_interval_{};
};

// The cap for `limits.max_connections` = 0: half the descriptors (the rest
// for upstream sockets and the gateway's own files), at least 16.
int DefaultMaxConnections(int64_t fd_limit);

// RLIMIT_NOFILE's current soft limit.
int64_t FileDescriptorLimit();

}  // namespace llmgateway::listener

#endif  // LLM_GATEWAY_SERVER_LISTENER_CONNECTION_LIMITER_H_
