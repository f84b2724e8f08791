// Limits on what callers may hold (issue 16), through the real binary:
// a flood of idle connections beyond the descriptor limit does not kill
// the listener; connections that never handshake or go idle are closed; a
// rapid-reset flood leaves no resident memory behind;
// calls beyond max_calls_in_flight and requests beyond the message size
// are refused with the limit named.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "server/common/sanitizers.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

using ::llmgateway::testing::CallError;
using ::llmgateway::testing::Decode;
using ::llmgateway::testing::Subprocess;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;

// The client's HTTP/2 connection preface and an empty SETTINGS frame: all a
// flooding client needs to send to look like a gRPC client.
const std::string kPreface = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                             std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads what the server sends until EOF (true) or `timeout` (false).
bool ReadsEofWithin(int fd, absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  char buffer[4096];
  while (absl::Now() < give_up) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
  }
  return false;
}

// Polls `fds` until `enough` of them read EOF (or fail), or `timeout`;
// then one more second for any beyond. Returns how many did.
int CountClosed(const std::vector<int>& fds, int enough, absl::Duration timeout) {
  std::vector<bool> closed(fds.size(), false);
  int count = 0;
  const absl::Time give_up = absl::Now() + timeout;
  absl::Time stop = give_up;
  char buffer[4096];
  while (absl::Now() < stop) {
    std::vector<pollfd> polls;
    std::vector<size_t> index;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (closed[i]) continue;
      polls.push_back(pollfd{fds[i], POLLIN, 0});
      index.push_back(i);
    }
    if (polls.empty()) break;
    if (poll(polls.data(), polls.size(), 100) <= 0) continue;
    for (size_t k = 0; k < polls.size(); ++k) {
      if (polls[k].revents == 0) continue;
      ssize_t n = recv(polls[k].fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        closed[index[k]] = true;
        if (++count == enough) stop = std::min(give_up, absl::Now() + absl::Seconds(1));
      }
    }
  }
  return count;
}

// The test opens more sockets than a default soft limit allows.
void RaiseOwnFileLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

std::string WriteConfig(const std::string& name, const std::string& text) {
  const std::string path = testing::TempPath(name + ".textproto");
  std::ofstream(path) << text;
  return path;
}

grpc::Status Generate(std::shared_ptr<grpc::Channel> channel, const GenerateRequest& request,
                      int deadline_seconds = 10) {
  auto stub = v1::Generation::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(deadline_seconds));
  GenerateResponse response;
  return stub->Generate(&context, request, &response);
}

GenerateRequest Prompt(const std::string& model, const std::string& prompt = "hello") {
  GenerateRequest request;
  request.set_model(model);
  request.set_prompt(prompt);
  return request;
}

class LimitsTest : public ::testing::Test {
 protected:
  // The gateway under `prlimit --nofile=N:N` when `fd_limit` > 0 (so it
  // cannot raise its own limit), with `config` as its --config.
  void Start(const std::string& name, const std::string& config, int fd_limit = 0) {
    fakellm_ = testing::StartFakeLlm(name + "-fakellm.log");
    std::vector<std::string> argv;
    if (fd_limit > 0) {
      argv = {"/usr/bin/prlimit", absl::StrCat("--nofile=", fd_limit, ":", fd_limit)};
    }
    argv.push_back(testing::RunfilePath("server/llm_gateway"));
    argv.push_back("--listen=127.0.0.1:0");
    argv.push_back("--openai_base_url=" + testing::FakeLlmBaseUrl(*fakellm_));
    argv.push_back("--batch_store=" + testing::TempPath(name + ".db"));
    argv.push_back("--config=" + WriteConfig(name, config));
    gateway_ = std::make_unique<Subprocess>(
        argv, std::vector<std::string>{std::string("OPENAI_API_KEY=") + testing::kTestApiKey},
        testing::TempPath(name + "-gateway.log"));
  }

  std::unique_ptr<Subprocess> fakellm_;
  std::unique_ptr<Subprocess> gateway_;
};

// Issue 16 item 2: 1,100 preface-only connections against a gateway allowed
// 1,024 descriptors. gRPC 1.51 stopped accepting for good at the first
// EMFILE ("Failed accept4: Too many open files"); now the connections
// beyond the cap (by default half the descriptors) are closed at once, and
// once the flood leaves, a new channel's call succeeds.
TEST_F(LimitsTest, AFloodBeyondTheDescriptorLimitLeavesTheListenerAlive) {
  RaiseOwnFileLimit();
  Start("fd-flood", "limits { idle_timeout { seconds: 600 } }", /*fd_limit=*/1024);
  ASSERT_TRUE(Generate(testing::ChannelTo(*gateway_), Prompt("fake-model")).ok());

  constexpr int kFlood = 1100;
  constexpr int kCap = 512;  // the default: half the descriptors
  std::vector<int> fds;
  for (int i = 0; i < kFlood; ++i) {
    int fd = Connect(gateway_->port());
    ASSERT_GE(fd, 0) << "connect " << i;
    send(fd, kPreface.data(), kPreface.size(), MSG_NOSIGNAL);
    fds.push_back(fd);
  }
  // Each one is either kept (at most the cap) or closed by the server.
  const int closed = CountClosed(fds, kFlood - kCap, absl::Seconds(30));
  EXPECT_GE(closed, kFlood - kCap) << "the connections beyond the cap are closed";
  for (int fd : fds) close(fd);

  // A new connection is accepted and served within seconds.
  const absl::Time start = absl::Now();
  grpc::Status status = Generate(testing::ChannelTo(*gateway_), Prompt("fake-model"), 20);
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
  const std::string log = gateway_->WaitForStderr("new caller connection(s)");
  EXPECT_NE(log.find("at limits.max_connections (512)"), std::string::npos) << log;
  EXPECT_EQ(log.find("Failed accept4"), std::string::npos) << log;
}

// An HTTP/2 frame: 24-bit length, type, flags, stream id.
std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string frame;
  const uint32_t n = payload.size();
  frame += static_cast<char>(n >> 16);
  frame += static_cast<char>(n >> 8);
  frame += static_cast<char>(n);
  frame += static_cast<char>(type);
  frame += static_cast<char>(flags);
  for (int shift = 24; shift >= 0; shift -= 8) frame += static_cast<char>(stream >> shift);
  return frame + payload;
}

// HPACK: a literal without indexing whose name is static-table entry `index`.
std::string Literal(int index, const std::string& value) {
  std::string out = index < 15 ? std::string(1, static_cast<char>(index))
                               : std::string{'\x0f', static_cast<char>(index - 15)};
  return out + static_cast<char>(value.size()) + value;
}

// Issue 16 item 4: one connection sending HEADERS (a Generate call) +
// RST_STREAM pairs as fast as it can. gRPC 1.51 has no bound on that, and
// the calls it creates meanwhile are live memory (the peak is gRPC's, and
// limits.memory_limit_bytes caps it roughly at twice the quota); what stayed
// resident afterwards was glibc's (1.5 GiB after 70,000 pairs, for good).
// The memory trimmer gives it back, and the gateway keeps serving.
TEST_F(LimitsTest, ARapidResetFloodLeavesNoResidentMemoryBehind) {
  Start("rapid-reset", "");
  ASSERT_TRUE(Generate(testing::ChannelTo(*gateway_), Prompt("fake-model")).ok());
  const long before = testing::RssKib(gateway_->pid());

  const int fd = Connect(gateway_->port());
  ASSERT_GE(fd, 0);
  std::thread drain([fd] {
    char buffer[1 << 16];
    while (recv(fd, buffer, sizeof(buffer), 0) > 0) {
    }
  });
  const std::string headers = std::string("\x83\x86", 2) +  // :method POST, :scheme http
                              Literal(4, "/llmgateway.v1.Generation/Generate") +
                              Literal(1, "gateway") + Literal(31, "application/grpc") +
                              std::string("\x00\x02te\x08trailers", 13);
  const std::string cancel("\x00\x00\x00\x08", 4);
  std::string flood = kPreface;
#ifndef LLMGW_SANITIZER_ALLOCATOR
  constexpr int kPairs = 50000;
#else
  // ASan's allocator more than doubles what each call holds: 50,000 pairs
  // took the ASan build to 2 GiB (the default ResourceQuota) and a call
  // made right after did not finish within 30 s once (seen on a loaded
  // machine; the plain build answers at once).
  constexpr int kPairs = 10000;
#endif
  long peak = before;
  uint32_t stream = 1;
  bool open = true;
  for (int sent = 0; sent < kPairs && open; sent += 250) {
    for (int i = 0; i < 250; ++i, stream += 2) {
      flood += Frame(0x1, 0x4, stream, headers);  // HEADERS, END_HEADERS
      flood += Frame(0x3, 0x0, stream, cancel);   // RST_STREAM(CANCEL)
    }
    for (size_t off = 0; off < flood.size();) {
      const ssize_t n = send(fd, flood.data() + off, flood.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        open = false;  // the gateway may close a connection it finds abusive
        break;
      }
      off += n;
    }
    flood.clear();
    if (sent % 5000 == 0) peak = std::max(peak, testing::RssKib(gateway_->pid()));
  }
  shutdown(fd, SHUT_RDWR);
  drain.join();
  close(fd);

  // Still serving (once gRPC has worked through the backlog: seconds).
  grpc::Status served = Generate(testing::ChannelTo(*gateway_), Prompt("fake-model"), 30);
  EXPECT_TRUE(served.ok()) << served.error_code() << " " << served.error_message();
  // The trimmer runs every 5 s: within 20 s RSS is back near where it was.
  long after = testing::RssKib(gateway_->pid());
  for (const absl::Time give_up = absl::Now() + absl::Seconds(20);
       after > before + 128 * 1024 && absl::Now() < give_up;) {
    absl::SleepFor(absl::Milliseconds(250));
    after = testing::RssKib(gateway_->pid());
  }
  std::printf("rapid reset, %d pairs on one connection: RSS %ld KiB before, %ld KiB "
              "at most while sending (gRPC's peak comes later), %ld KiB after\n",
              kPairs, before, peak, after);
#ifndef LLMGW_SANITIZER_ALLOCATOR
  EXPECT_LT(after, before + 128 * 1024) << "freed memory stayed resident";
#endif
}

// A connection that never sends the HTTP/2 preface is closed after the
// handshake timeout; one that sent it and opens no call, after the idle
// timeout. Before: both stayed open as long as the client wished.
TEST_F(LimitsTest, SilentAndIdleConnectionsAreClosed) {
  Start("idle", R"pb(limits {
                       handshake_timeout { seconds: 2 }
                       idle_timeout { seconds: 3 }
                     })pb");
  int silent = Connect(gateway_->port());
  ASSERT_GE(silent, 0);
  int idle = Connect(gateway_->port());
  ASSERT_GE(idle, 0);
  ASSERT_EQ(send(idle, kPreface.data(), kPreface.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(kPreface.size()));
  const absl::Time start = absl::Now();
  EXPECT_TRUE(ReadsEofWithin(silent, absl::Seconds(20))) << "no handshake: closed";
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(1500)) << "not before the timeout";
  EXPECT_TRUE(ReadsEofWithin(idle, absl::Seconds(30))) << "idle: closed";
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(2500)) << "not before the timeout";
  close(silent);
  close(idle);
  // The channel a real client holds reconnects by itself.
  EXPECT_TRUE(Generate(testing::ChannelTo(*gateway_), Prompt("fake-model")).ok());
}

// Item 5: calls beyond limits.max_calls_in_flight are refused at once with
// RESOURCE_EXHAUSTED naming the limit; a request over the receive size,
// and one with more messages than allowed, too.
TEST_F(LimitsTest, CallsAndRequestSizesBeyondTheLimitsAreRefused) {
  Start("calls", R"pb(limits {
                        max_calls_in_flight: 2
                        max_receive_message_bytes: 1048576
                        max_messages_per_request: 3
                      }
                      batch { max_request_bytes: 1048576 })pb");
  auto channel = testing::ChannelTo(*gateway_);
  std::vector<std::thread> slow;
  std::vector<grpc::Status> slow_status(2);
  for (int i = 0; i < 2; ++i) {
    slow.emplace_back([&, i] {
      slow_status[i] = Generate(channel, Prompt("fake-model?delay_ms=3000"), 20);
    });
  }
  // Until both are at the upstream: a third call is refused.
  CallError error;
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  do {
    absl::SleepFor(absl::Milliseconds(50));
    error = Decode(Generate(channel, Prompt("fake-model")));
  } while (error.code == grpc::StatusCode::OK && absl::Now() < give_up);
  EXPECT_EQ(error.code, grpc::StatusCode::RESOURCE_EXHAUSTED) << error.message;
  EXPECT_EQ(error.info.reason(), "CALLS_IN_FLIGHT_LIMIT");
  EXPECT_NE(error.message.find("limits.max_calls_in_flight"), std::string::npos) << error.message;
  for (std::thread& t : slow) t.join();
  for (const grpc::Status& s : slow_status) EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(Generate(channel, Prompt("fake-model")).ok()) << "room again";

  grpc::Status big = Generate(channel, Prompt("fake-model", std::string(2 << 20, 'x')));
  EXPECT_EQ(big.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << big.error_message();
  EXPECT_NE(big.error_message().find("1048576"), std::string::npos) << big.error_message();

  GenerateRequest many;
  many.set_model("fake-model");
  for (int i = 0; i < 4; ++i) {
    v1::Message* message = many.add_messages();
    message->set_role(v1::ROLE_USER);
    message->add_parts()->set_text("hi");
  }
  CallError too_many = Decode(Generate(channel, many));
  EXPECT_EQ(too_many.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(too_many.message.find("limits.max_messages_per_request"), std::string::npos)
      << too_many.message;
}

}  // namespace
}  // namespace llmgateway
