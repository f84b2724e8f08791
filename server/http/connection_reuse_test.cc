#include "server/http/connection_reuse.h"

#include "gtest/gtest.h"

namespace llmgateway::http {
namespace {

TEST(ConnectionReuseTest, OriginKeyIsSchemeHostAndPort) {
  const uint64_t a = ConnectionReuse::OriginKey("http://127.0.0.1:8080/v1/chat/completions");
  EXPECT_EQ(a, ConnectionReuse::OriginKey("http://127.0.0.1:8080/v1/models"));
  EXPECT_EQ(a, ConnectionReuse::OriginKey("http://127.0.0.1:8080?x=1"));
  EXPECT_EQ(a, ConnectionReuse::OriginKey("http://127.0.0.1:8080"));
  EXPECT_NE(a, ConnectionReuse::OriginKey("http://127.0.0.1:8081/v1/chat/completions"));
  EXPECT_NE(a, ConnectionReuse::OriginKey("https://127.0.0.1:8080/v1/chat/completions"));
  EXPECT_NE(ConnectionReuse::OriginKey(""), ConnectionReuse::kMultiplexed);
}

TEST(ConnectionReuseTest, ABurstSkipsTheSearchUntilConnectionsAreIdle) {
  ConnectionReuse reuse(/*max_idle=*/100, /*host_limited=*/false);
  const uint64_t up = ConnectionReuse::OriginKey("http://up:1/");
  // Three start before any connects: no idle connection to look for.
  for (int fd = 10; fd < 13; ++fd) EXPECT_TRUE(reuse.OnStart(up).fresh_connect);
  for (int fd = 10; fd < 13; ++fd) reuse.OnSocketOpened(fd, up);
  // All three busy: still nothing idle.
  EXPECT_TRUE(reuse.OnStart(up).fresh_connect);
  reuse.OnSocketOpened(13, up);
  reuse.OnFinish(up);
  reuse.OnFinish(up);
  // Two connections idle: the next two search, the third does not.
  EXPECT_FALSE(reuse.OnStart(up).fresh_connect);
  EXPECT_FALSE(reuse.OnStart(up).fresh_connect);
  EXPECT_TRUE(reuse.OnStart(up).fresh_connect);
  // Another origin has nothing idle, whatever this one has.
  EXPECT_TRUE(reuse.OnStart(ConnectionReuse::OriginKey("http://other:1/")).fresh_connect);
}

TEST(ConnectionReuseTest, AClosedConnectionIsNoLongerIdle) {
  ConnectionReuse reuse(100, false);
  const uint64_t up = ConnectionReuse::OriginKey("http://up:1/");
  reuse.OnStart(up);
  reuse.OnSocketOpened(7, up);
  reuse.OnFinish(up);
  EXPECT_EQ(reuse.open_sockets(up), 1);
  reuse.OnSocketClosed(7);  // e.g. the server said Connection: close
  EXPECT_EQ(reuse.open_sockets(up), 0);
  EXPECT_TRUE(reuse.OnStart(up).fresh_connect);
  // A socket never counted (a multiplexed transfer's) changes nothing.
  reuse.OnSocketClosed(8);
  reuse.OnSocketOpened(9, ConnectionReuse::kMultiplexed);
  EXPECT_EQ(reuse.open_sockets(ConnectionReuse::kMultiplexed), 0);
}

TEST(ConnectionReuseTest, TransfersBeyondTheIdleBudgetCloseTheirConnection) {
  ConnectionReuse reuse(/*max_idle=*/2, false);
  const uint64_t up = ConnectionReuse::OriginKey("http://up:1/");
  EXPECT_FALSE(reuse.OnStart(up).forbid_reuse);
  // Multiplexed transfers count towards the budget, but are never told.
  EXPECT_FALSE(reuse.OnStart(ConnectionReuse::kMultiplexed).forbid_reuse);
  EXPECT_TRUE(reuse.OnStart(up).forbid_reuse);
  EXPECT_TRUE(reuse.OnStart(up).forbid_reuse);
  EXPECT_EQ(reuse.in_flight(), 4u);
  EXPECT_EQ(reuse.MaxConnects(), 6);
  reuse.OnFinish(up);
  reuse.OnFinish(up);
  reuse.OnFinish(ConnectionReuse::kMultiplexed);
  EXPECT_FALSE(reuse.OnStart(up).forbid_reuse);
  reuse.OnFinish(up);
  reuse.OnFinish(up);
  EXPECT_EQ(reuse.in_flight(), 0u);
  EXPECT_EQ(reuse.MaxConnects(), 2);
}

TEST(ConnectionReuseTest, AHostCapLeavesTheSearchToCurl) {
  // A transfer queued for the host's cap must be able to take the
  // connection that frees up, so it may not skip the search.
  ConnectionReuse reuse(100, /*host_limited=*/true);
  const uint64_t up = ConnectionReuse::OriginKey("http://up:1/");
  EXPECT_FALSE(reuse.OnStart(up).fresh_connect);
  EXPECT_FALSE(reuse.OnStart(up).fresh_connect);
}

TEST(ConnectionReuseTest, MultiplexedTransfersAreLeftToCurl) {
  ConnectionReuse reuse(100, false);
  const ConnectionReuse::Decision d = reuse.OnStart(ConnectionReuse::kMultiplexed);
  EXPECT_FALSE(d.fresh_connect);
  EXPECT_FALSE(d.forbid_reuse);
  reuse.OnFinish(ConnectionReuse::kMultiplexed);
  EXPECT_EQ(reuse.in_flight(), 0u);
}

}  // namespace
}  // namespace llmgateway::http
