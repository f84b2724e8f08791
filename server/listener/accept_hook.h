// A callback on every connection gRPC's listener accepts, before gRPC reads
// from it, through gRPC's socket mutator channel argument (the only hook
// gRPC 1.51 offers there). Used to close connections beyond the gateway's
// limits (connection_limits.h).
#ifndef LLM_GATEWAY_SERVER_LISTENER_ACCEPT_HOOK_H_
#define LLM_GATEWAY_SERVER_LISTENER_ACCEPT_HOOK_H_

#include <functional>

#include "grpc/impl/codegen/grpc_types.h"

namespace llmgateway::listener {

// A new socket mutator that calls `on_accept(fd)` for each accepted caller
// connection, and `on_listener(fd)` for each listening socket gRPC makes
// (before it binds and listens; not for client channels). The
// callback may shutdown(2) the socket, never close(2) it: gRPC goes on to
// read from the fd, sees EOF and closes it itself. It runs on gRPC's
// poller threads, possibly on several at once, and must not block.
//
// The caller owns one reference, which grpc::ChannelArguments::SetSocketMutator
// takes over; gRPC keeps its own while the server runs.
grpc_socket_mutator* NewAcceptHook(std::function<void(int fd)> on_accept,
                                   std::function<void(int fd)> on_listener = nullptr);

}  // namespace llmgateway::listener

#endif  // LLM_GATEWAY_SERVER_LISTENER_ACCEPT_HOOK_H_
