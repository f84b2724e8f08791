#include "server/http/connection_reuse.h"

// absl/hash links through flat_hash_map (Debian's absl has no target of its own for it).
#include "absl/hash/hash.h"

namespace llmgateway::http {

uint64_t ConnectionReuse::OriginKey(absl::string_view url) {
  absl::string_view origin = url;
  const size_t scheme_end = url.find("://");
  if (scheme_end != absl::string_view::npos) {
    const size_t path = url.find_first_of("/?#", scheme_end + 3);
    if (path != absl::string_view::npos) origin = url.substr(0, path);
  }
  const uint64_t key = absl::Hash<absl::string_view>()(origin);
  return key == kMultiplexed ? 1 : key;
}

ConnectionReuse::Decision ConnectionReuse::OnStart(uint64_t origin) {
  Decision decision;
  if (origin != kMultiplexed) {
    Origin& counts = origins_[origin];
    // Each transfer already in flight holds one of the origin's sockets (or
    // is about to open one): only a surplus can be idle. An estimate: a
    // wrong guess costs one search, or one connection more than needed.
    decision.fresh_connect = !host_limited_ && counts.open_sockets <= counts.in_flight;
    decision.forbid_reuse = in_flight_ >= max_idle_;
    ++counts.in_flight;
  }
  ++in_flight_;
  return decision;
}

void ConnectionReuse::OnFinish(uint64_t origin) {
  --in_flight_;
  if (origin == kMultiplexed) return;
  auto it = origins_.find(origin);
  if (it == origins_.end()) return;
  --it->second.in_flight;
  Forget(origin, it->second);
}

void ConnectionReuse::OnSocketOpened(int fd, uint64_t origin) {
  if (origin == kMultiplexed) return;
  ++origins_[origin].open_sockets;
  socket_origins_[fd] = origin;
}

void ConnectionReuse::OnSocketClosed(int fd) {
  auto socket = socket_origins_.find(fd);
  if (socket == socket_origins_.end()) return;
  const uint64_t origin = socket->second;
  socket_origins_.erase(socket);
  auto it = origins_.find(origin);
  if (it == origins_.end()) return;
  --it->second.open_sockets;
  Forget(origin, it->second);
}

int ConnectionReuse::open_sockets(uint64_t origin) const {
  auto it = origins_.find(origin);
  return it == origins_.end() ? 0 : it->second.open_sockets;
}

void ConnectionReuse::Forget(uint64_t origin, const Origin& counts) {
  if (counts.in_flight == 0 && counts.open_sockets == 0) origins_.erase(origin);
}

}  // namespace llmgateway::http
