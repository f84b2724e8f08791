// Proves accept_hook.cc's copy of gRPC's socket mutator layout against the
// linked libgrpc: the hook sees each accepted connection's fd (the peer is
// our client socket), a shutdown(2) in the hook closes that connection,
// and the listener keeps accepting afterwards.
#include "server/listener/accept_hook.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/impl/server_builder_option.h"
#include "gtest/gtest.h"

namespace llmgateway::listener {
namespace {

class HookOption : public grpc::ServerBuilderOption {
 public:
  explicit HookOption(std::function<void(int)> on_accept) : on_accept_(std::move(on_accept)) {}
  void UpdateArguments(grpc::ChannelArguments* args) override {
    args->SetSocketMutator(NewAcceptHook(on_accept_));
  }
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*) override {}

 private:
  std::function<void(int)> on_accept_;
};

struct Seen {
  std::mutex mu;
  std::vector<int> peer_ports;  // the accepted sockets' peer ports
  std::atomic<bool> refuse{false};
};

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

int LocalPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

bool WaitForPeer(Seen* seen, int port) {
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard<std::mutex> lock(seen->mu);
      for (int p : seen->peer_ports) {
        if (p == port) return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// recv() returns 0 (EOF) or an error within `tenths` x 100 ms: the server
// closed it.
bool ClosedByServer(int fd, int tenths = 100) {
  pollfd p{fd, POLLIN, 0};
  for (int i = 0; i < tenths; ++i) {
    if (poll(&p, 1, 100) > 0) {
      char buffer[256];
      ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n <= 0) return true;  // EOF or reset
      // gRPC's SETTINGS frame: keep reading.
    }
  }
  return false;
}

TEST(AcceptHookTest, SeesEachConnectionAndMayCloseIt) {
  Seen seen;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.SetOption(std::make_unique<HookOption>([&seen](int fd) {
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len);
    {
      std::lock_guard<std::mutex> lock(seen.mu);
      seen.peer_ports.push_back(ntohs(peer.sin_port));
    }
    if (seen.refuse) shutdown(fd, SHUT_RDWR);
  }));
  // A server needs something polled: a callback service is (no methods).
  grpc::CallbackGenericService generic;
  builder.RegisterCallbackGenericService(&generic);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_NE(port, 0);

  // Kept: the hook saw it, and a gRPC channel still connects.
  int kept = Connect(port);
  EXPECT_TRUE(WaitForPeer(&seen, LocalPort(kept)));
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials());
  EXPECT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(10)));

  // Refused: shut down in the hook, so the client reads EOF.
  seen.refuse = true;
  int refused = Connect(port);
  EXPECT_TRUE(WaitForPeer(&seen, LocalPort(refused)));
  EXPECT_TRUE(ClosedByServer(refused));

  // The listener survives a refusal: the next connection is seen too.
  seen.refuse = false;
  int after = Connect(port);
  EXPECT_TRUE(WaitForPeer(&seen, LocalPort(after)));
  EXPECT_FALSE(ClosedByServer(after, 20)) << "an admitted connection stays open";

  for (int fd : {kept, refused, after}) close(fd);
  server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace llmgateway::listener
