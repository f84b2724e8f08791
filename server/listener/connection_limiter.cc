// Connection counting by socket identity (see the header).
#include "server/listener/connection_limiter.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <limits>

namespace llmgateway::listener {
ConnectionLimiter::ConnectionLimiter(ConnectionLimiterOptions options) : options_(options) {}

Admission ConnectionLimiter::Admit(int fd) {
  struct stat st {};
  const bool stat_ok = fstat(fd, &st) == 0;
  std::lock_guard<std::mutex> lock(mu_);
  // A number we counted before was closed and handed out again: that
  // connection is gone, whatever else happens to this one.
  open_.erase(fd);
  // accept4 returns the lowest free descriptor: every one below `fd` is in
  // use, so a high number means the table is nearly full.
  if (options_.fd_limit > 0 && fd >= options_.fd_limit - options_.fd_reserve) {
    return Admission::kFewDescriptors;
  }
  if (!stat_ok) return Admission::kOverCap;  // not a descriptor we can count
  if (static_cast<int>(open_.size()) >= options_.max_connections) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_sweep_ >= sweep_interval_) {
      SweepLocked();
      const auto took = std::chrono::steady_clock::now() - now;
      sweep_interval_ = std::max<std::chrono::steady_clock::duration>(
          options_.min_sweep_interval, took * options_.sweep_cost_factor);
      last_sweep_ = now;
    }
    if (static_cast<int>(open_.size()) >= options_.max_connections) {
      return Admission::kOverCap;
    }
  }
  open_[fd] = Identity{st.st_dev, st.st_ino};
  return Admission::kAdmit;
}

void ConnectionLimiter::SweepLocked() {
  for (auto it = open_.begin(); it != open_.end();) {
    struct stat st {};
    const bool alive = fstat(it->first, &st) == 0 && st.st_dev == it->second.dev &&
                       st.st_ino == it->second.ino;
    it = alive ? std::next(it) : open_.erase(it);
  }
}

int ConnectionLimiter::counted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(open_.size());
}

int DefaultMaxConnections(int64_t fd_limit) {
  return static_cast<int>(
      std::clamp<int64_t>(fd_limit / 2, 16, std::numeric_limits<int>::max()));
}

int64_t FileDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return std::numeric_limits<int>::max();
  }
  return static_cast<int64_t>(limit.rlim_cur);
}

}  // namespace llmgateway::listener
