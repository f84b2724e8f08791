// Which upstream transfers look for an idle connection, and which keep theirs
// when done. It exists to sidestep two walks libcurl 7.88 makes over every
// connection it holds, which turn a burst of N HTTP/1.1 transfers (one
// connection each) into O(N^2) work on the loop thread:
// - ConnectionExists, as each transfer starts, looking for an idle connection
//   to reuse: skipped (CURLOPT_FRESH_CONNECT) when the origin has none;
// - Curl_conncache_extract_oldest, as each transfer ends while more than
//   CURLMOPT_MAXCONNECTS connections are open, in use or not: the cap follows
//   the transfers in flight, so it only bites when idle ones are over budget,
//   and transfers started beyond the budget close their connection when done
//   (CURLOPT_FORBID_REUSE) instead of handing it back.
// Counts come from the loop's socket callbacks; curl-free, loop thread only.
#ifndef LLM_GATEWAY_SERVER_HTTP_CONNECTION_REUSE_H_
#define LLM_GATEWAY_SERVER_HTTP_CONNECTION_REUSE_H_

#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace llmgateway::http {

class ConnectionReuse {
 public:
  // A transfer that may share a connection (HTTP/2 over TLS): curl decides
  // for it, as without this class. Its sockets are not counted.
  static constexpr uint64_t kMultiplexed = 0;

  // max_idle: connections kept open for reuse. host_limited: curl also caps
  // connections per host (CURLMOPT_MAX_HOST_CONNECTIONS); a transfer waiting
  // for that cap must be free to take an idle connection, so then none is
  // told to skip the search.
  ConnectionReuse(size_t max_idle, bool host_limited)
      : max_idle_(max_idle), host_limited_(host_limited) {}

  // The key of the URL's scheme://host:port, never kMultiplexed. Different
  // spellings of one origin get different keys: that only costs a search.
  static uint64_t OriginKey(absl::string_view url);

  struct Decision {
    // Open a new connection without searching for an idle one.
    bool fresh_connect = false;
    // Close the connection when done rather than keep it for reuse.
    bool forbid_reuse = false;
  };
  // A transfer to `origin` starts; OnFinish(origin) must follow, once.
  Decision OnStart(uint64_t origin);
  void OnFinish(uint64_t origin);

  // A socket for a transfer to `origin` was opened, or one counted here was
  // closed (sockets never counted are ignored).
  void OnSocketOpened(int fd, uint64_t origin);
  void OnSocketClosed(int fd);

  // For CURLMOPT_MAXCONNECTS, which counts connections in use as well.
  long MaxConnects() const { return static_cast<long>(max_idle_ + in_flight_); }

  size_t in_flight() const { return in_flight_; }
  // Sockets open to `origin` that this class counted.
  int open_sockets(uint64_t origin) const;

 private:
  struct Origin {
    int in_flight = 0;
    int open_sockets = 0;
  };
  void Forget(uint64_t origin, const Origin& counts);

  const size_t max_idle_;
  const bool host_limited_;
  size_t in_flight_ = 0;  // every transfer, multiplexed ones too
  absl::flat_hash_map<uint64_t, Origin> origins_;
  absl::flat_hash_map<int, uint64_t> socket_origins_;
};

}  // namespace llmgateway::http

#endif  // LLM_GATEWAY_SERVER_HTTP_CONNECTION_REUSE_H_
