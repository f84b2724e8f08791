#include "server/listener/connection_limiter.h"

#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "gtest/gtest.h"

namespace llmgateway::listener {
namespace {

int NewSocket() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  return fd;
}

ConnectionLimiterOptions Options(int max_connections) {
  ConnectionLimiterOptions options;
  options.max_connections = max_connections;
  options.fd_limit = FileDescriptorLimit();
  options.min_sweep_interval = std::chrono::milliseconds(0);
  options.sweep_cost_factor = 0;
  return options;
}

TEST(ConnectionLimiterTest, AdmitsUpToTheCapThenRejects) {
  ConnectionLimiter limiter(Options(3));
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    fds.push_back(NewSocket());
    EXPECT_EQ(limiter.Admit(fds.back()), Admission::kAdmit);
  }
  int extra = NewSocket();
  EXPECT_EQ(limiter.Admit(extra), Admission::kOverCap);
  EXPECT_EQ(limiter.counted(), 3);
  close(extra);
  for (int fd : fds) close(fd);
}

TEST(ConnectionLimiterTest, ClosedConnectionsAreNoticedAtTheCap) {
  ConnectionLimiter limiter(Options(2));
  int a = NewSocket();
  int b = NewSocket();
  ASSERT_EQ(limiter.Admit(a), Admission::kAdmit);
  ASSERT_EQ(limiter.Admit(b), Admission::kAdmit);
  // Keep a's number taken by something that is not a socket we counted,
  // so the next socket gets a new number: only the sweep can free a slot.
  close(a);
  int placeholder = dup(STDIN_FILENO);
  ASSERT_EQ(placeholder, a);
  int c = NewSocket();
  EXPECT_EQ(limiter.Admit(c), Admission::kAdmit);
  EXPECT_EQ(limiter.counted(), 2);
  int d = NewSocket();
  EXPECT_EQ(limiter.Admit(d), Admission::kOverCap);
  for (int fd : {b, c, d, placeholder}) close(fd);
}

TEST(ConnectionLimiterTest, AReusedNumberIsANewConnection) {
  ConnectionLimiter limiter(Options(1));
  int a = NewSocket();
  ASSERT_EQ(limiter.Admit(a), Admission::kAdmit);
  close(a);
  int b = NewSocket();  // the lowest free number: a's
  ASSERT_EQ(b, a);
  EXPECT_EQ(limiter.Admit(b), Admission::kAdmit);
  EXPECT_EQ(limiter.counted(), 1);
  close(b);
}

TEST(ConnectionLimiterTest, RejectsWhenDescriptorsRunLow) {
  ConnectionLimiterOptions options = Options(1000);
  int fd = NewSocket();
  options.fd_limit = fd + 10;
  options.fd_reserve = 64;
  ConnectionLimiter limiter(options);
  EXPECT_EQ(limiter.Admit(fd), Admission::kFewDescriptors);
  EXPECT_EQ(limiter.counted(), 0);
  close(fd);
}

TEST(ConnectionLimiterTest, DefaultCapIsHalfTheDescriptors) {
  EXPECT_EQ(DefaultMaxConnections(1048576), 524288);
  EXPECT_EQ(DefaultMaxConnections(1024), 512);
  EXPECT_EQ(DefaultMaxConnections(10), 16);
}

}  // namespace
}  // namespace llmgateway::listener
