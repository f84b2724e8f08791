// gRPC 1.51.1's socket mutator, declared here because its header
// (src/core/lib/iomgr/socket_mutator.h) is internal and not installed by
// Debian's libgrpc-dev. The layout below MUST match the linked libgrpc
// (Debian 12: libgrpc29 1.51.1): a vtable of mutate_fd, compare, destroy,
// mutate_fd_2, and a struct of {vtable pointer, gpr_refcount}; the init
// function is exported with C++ linkage (grpc_socket_mutator_init, checked
// with `nm -DC libgrpc.so.29`). accept_hook_test proves it against the real
// library: if an upgrade changes the layout, that test fails.
//
// Why mutate_fd_2: gRPC calls the old mutate_fd only for client and
// listening sockets; accepted connections (GRPC_FD_SERVER_CONNECTION_USAGE)
// reach mutate_fd_2 only. Why it always returns true: tcp_server_posix's
// on_read treats false as an error and stops listening for good.
#include "server/listener/accept_hook.h"

#include <cstdint>
#include <utility>

#include "grpc/support/sync.h"

typedef enum {
  GRPC_FD_CLIENT_CONNECTION_USAGE,
  GRPC_FD_SERVER_LISTENER_USAGE,
  GRPC_FD_SERVER_CONNECTION_USAGE,
} grpc_fd_usage;

typedef struct {
  int fd;
  grpc_fd_usage usage;
} grpc_mutate_socket_info;

struct grpc_socket_mutator_vtable {
  bool (*mutate_fd)(int fd, grpc_socket_mutator* mutator);
  int (*compare)(grpc_socket_mutator* a, grpc_socket_mutator* b);
  void (*destroy)(grpc_socket_mutator* mutator);
  bool (*mutate_fd_2)(const grpc_mutate_socket_info* info, grpc_socket_mutator* mutator);
};

struct grpc_socket_mutator {
  const grpc_socket_mutator_vtable* vtable;
  gpr_refcount refcount;
};

// Exported by libgrpc.so.29 (C++ linkage).
void grpc_socket_mutator_init(grpc_socket_mutator* mutator,
                              const grpc_socket_mutator_vtable* vtable);

namespace llmgateway::listener {
namespace {

struct AcceptHook {
  grpc_socket_mutator base;  // first: gRPC sees a grpc_socket_mutator*
  std::function<void(int)> on_accept;
  std::function<void(int)> on_listener;
};

AcceptHook* Self(grpc_socket_mutator* mutator) { return reinterpret_cast<AcceptHook*>(mutator); }

bool MutateFd(int, grpc_socket_mutator*) { return true; }

int Compare(grpc_socket_mutator* a, grpc_socket_mutator* b) {
  const auto x = reinterpret_cast<uintptr_t>(a);
  const auto y = reinterpret_cast<uintptr_t>(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

void Destroy(grpc_socket_mutator* mutator) { delete Self(mutator); }

bool MutateFd2(const grpc_mutate_socket_info* info, grpc_socket_mutator* mutator) {
  AcceptHook* self = Self(mutator);
  if (info->usage == GRPC_FD_SERVER_CONNECTION_USAGE) self->on_accept(info->fd);
  if (info->usage == GRPC_FD_SERVER_LISTENER_USAGE && self->on_listener) {
    self->on_listener(info->fd);
  }
  return true;  // false would stop the listener (see the top of this file)
}

constexpr grpc_socket_mutator_vtable kVtable = {MutateFd, Compare, Destroy, MutateFd2};

}  // namespace

grpc_socket_mutator* NewAcceptHook(std::function<void(int fd)> on_accept,
                                   std::function<void(int fd)> on_listener) {
  auto* hook = new AcceptHook{{}, std::move(on_accept), std::move(on_listener)};
  grpc_socket_mutator_init(&hook->base, &kVtable);
  return &hook->base;
}

}  // namespace llmgateway::listener
