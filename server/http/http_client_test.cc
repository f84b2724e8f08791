#include "server/http/http_client.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/http/test_http_server.h"
#include "server/http/transport.h"

namespace llmgateway::http {
namespace {

using ::llmgateway::http::testing::Chunk;
using ::llmgateway::http::testing::Head;
using ::llmgateway::http::testing::kLastChunk;
using ::llmgateway::http::testing::Reply;
using ::llmgateway::http::testing::Script;
using ::llmgateway::http::testing::Step;
using ::llmgateway::http::testing::TestHttpServer;
using ::llmgateway::http::testing::TestRequest;
using ::llmgateway::http::testing::WaitFor;

// Generous: the machine may be loaded and sanitizers slow everything down.
constexpr auto kWait = std::chrono::seconds(20);

HttpRequest Get(std::string url) {
  HttpRequest r;
  r.method = HttpRequest::Method::kGet;
  r.url = std::move(url);
  return r;
}

// Bytes that differ at every offset, so a lost or repeated piece shows.
std::string PatternBody(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

// std::mutex and std::condition_variable throughout: TSan cannot see
// Debian's uninstrumented absl::Mutex.
using Lock = std::unique_lock<std::mutex>;

// Collects one Fetch result. The state is shared with the callback, which
// may still be returning on the loop thread when Wait() returns.
class FetchWaiter {
 public:
  absl::AnyInvocable<void(absl::StatusOr<HttpResponse>)> Callback() {
    return [state = state_](absl::StatusOr<HttpResponse> r) {
      Lock lock(state->mu);
      state->result = std::move(r);
      ++state->calls;
      state->cv.notify_all();
    };
  }
  // Moves the result out (a copy would not keep the body's padding).
  absl::StatusOr<HttpResponse> Wait() {
    State& s = *state_;
    Lock lock(s.mu);
    if (!s.cv.wait_for(lock, kWait, [&s] { return s.calls > 0; })) {
      return absl::DeadlineExceededError("test: no Fetch result in time");
    }
    return std::move(s.result);
  }
  int calls() {
    Lock lock(state_->mu);
    return state_->calls;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    absl::StatusOr<HttpResponse> result;  // guarded by mu
    int calls = 0;                        // guarded by mu
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

absl::StatusOr<HttpResponse> FetchSync(HttpClient& client, HttpRequest req) {
  FetchWaiter w;
  client.Fetch(std::move(req), w.Callback());
  return w.Wait();
}

// Records every event and checks their order; can pause or cancel.
class RecordingHandler : public TransferHandler {
 public:
  enum class Policy { kContinue, kPauseAll, kPauseOdd };
  explicit RecordingHandler(Policy policy = Policy::kContinue)
      : policy_(policy) {}

  // For handlers that act on their own transfer from inside OnBody.
  void SetIdentity(HttpClient* client, HttpClient::TransferId id) {
    Lock lock(mu_);
    client_ = client;
    id_ = id;
    cv_.notify_all();
  }
  void ResumeFromOnBody() { resume_from_callback_ = true; }
  void CancelOnFirstBody() { cancel_on_first_body_ = true; }
  void AbortOnFirstBody() { abort_on_first_body_ = true; }

  void OnHead(const ResponseHead& head) override {
    Lock lock(mu_);
    Record();
    EXPECT_EQ(head_calls_, 0) << "OnHead twice";
    EXPECT_EQ(body_calls_, 0) << "OnHead after OnBody";
    EXPECT_EQ(complete_calls_, 0) << "OnHead after OnComplete";
    ++head_calls_;
    head_ = head;
    cv_.notify_all();
  }

  BodyAction OnBody(absl::string_view chunk) override {
    Lock lock(mu_);
    Record();
    EXPECT_EQ(head_calls_, 1) << "OnBody without OnHead";
    EXPECT_EQ(complete_calls_, 0) << "OnBody after OnComplete";
    EXPECT_FALSE(paused_) << "OnBody while paused";
    EXPECT_FALSE(chunk.empty());
    body_.append(chunk.data(), chunk.size());
    ++body_calls_;
    cv_.notify_all();
    if (cancel_on_first_body_ || resume_from_callback_) {
      // Start() has returned the id by now, or is about to.
      cv_.wait(lock, [this] { return client_ != nullptr; });
    }
    if (cancel_on_first_body_) {
      client_->Cancel(id_);
      return BodyAction::kContinue;
    }
    if (abort_on_first_body_) return BodyAction::kAbort;
    const bool pause =
        policy_ == Policy::kPauseAll ||
        (policy_ == Policy::kPauseOdd && body_calls_ % 2 == 1);
    if (!pause) return BodyAction::kContinue;
    ++pauses_;
    if (resume_from_callback_) {
      // Queued behind the pause itself, so it must undo it.
      client_->Resume(id_);
    } else {
      paused_ = true;
    }
    return BodyAction::kPause;
  }

  void OnComplete(absl::Status status) override {
    Lock lock(mu_);
    Record();
    EXPECT_EQ(complete_calls_, 0) << "OnComplete twice";
    ++complete_calls_;
    status_ = std::move(status);
    cv_.notify_all();
  }

  // Waits until the handler is paused (returns true) or complete (false).
  bool WaitPausedOrComplete() {
    Lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, kWait, [this] {
      return paused_ || complete_calls_ > 0;
    }));
    return complete_calls_ == 0;
  }
  // Marks the pause as handled; the caller then calls Resume.
  void ClearPaused() {
    Lock lock(mu_);
    paused_ = false;
  }

  absl::Status WaitComplete() {
    Lock lock(mu_);
    if (!cv_.wait_for(lock, kWait,
                      [this] { return complete_calls_ > 0; })) {
      return absl::DeadlineExceededError("test: no OnComplete in time");
    }
    return status_;
  }
  bool WaitBodyCalls(int n) {
    Lock lock(mu_);
    return cv_.wait_for(lock, kWait,
                        [this, n] { return body_calls_ >= n; });
  }

  bool complete() {
    Lock lock(mu_);
    return complete_calls_ > 0;
  }
  absl::Status status() {
    Lock lock(mu_);
    return status_;
  }
  std::string body() {
    Lock lock(mu_);
    return body_;
  }
  ResponseHead head() {
    Lock lock(mu_);
    return head_;
  }
  int head_calls() {
    Lock lock(mu_);
    return head_calls_;
  }
  int body_calls() {
    Lock lock(mu_);
    return body_calls_;
  }
  int pauses() {
    Lock lock(mu_);
    return pauses_;
  }
  std::vector<std::thread::id> threads() {
    Lock lock(mu_);
    return threads_;
  }

 private:
  void Record() { threads_.push_back(std::this_thread::get_id()); }

  const Policy policy_;
  bool resume_from_callback_ = false;
  bool cancel_on_first_body_ = false;
  bool abort_on_first_body_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_:
  HttpClient* client_ = nullptr;
  HttpClient::TransferId id_ = 0;
  ResponseHead head_;
  std::string body_;
  absl::Status status_;
  bool paused_ = false;
  int head_calls_ = 0;
  int body_calls_ = 0;
  int complete_calls_ = 0;
  int pauses_ = 0;
  std::vector<std::thread::id> threads_;
};

// A port with nothing listening (bound, then released).
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

int ThreadCount() {
  int n = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n;
}

TEST(HttpClientTest, GetRoundTrip) {
  TestHttpServer server([](const TestRequest& req) {
    const std::string* token = req.Header("x-token");
    return Reply(200, absl::StrCat(req.method, " ", req.target),
                 {absl::StrCat("X-Echo-Token: ", token ? *token : "none"),
                  "X-Spaced:    padded value   ", "X-UPPER-Case: V"});
  });
  HttpClient client;
  HttpRequest req = Get(server.Url("/get?x=1"));
  req.headers.push_back("X-Token: abc");
  absl::StatusOr<HttpResponse> r = FetchSync(client, std::move(req));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->head.status, 200);
  EXPECT_EQ(r->body, "GET /get?x=1");
  EXPECT_GE(r->body.capacity(), r->body.size() + kBodyPadding);
  ASSERT_NE(r->head.Find("x-echo-token"), nullptr);
  EXPECT_EQ(*r->head.Find("x-echo-token"), "abc");
  ASSERT_NE(r->head.Find("x-spaced"), nullptr);
  EXPECT_EQ(*r->head.Find("x-spaced"), "padded value");
  ASSERT_NE(r->head.Find("x-upper-case"), nullptr);
  EXPECT_EQ(*r->head.Find("x-upper-case"), "V");
  EXPECT_EQ(r->head.Find("X-Spaced"), nullptr) << "lookup is by lower name";
  EXPECT_EQ(client.ActiveTransfers(), 0u);
}

TEST(HttpClientTest, PostRoundTripEchoesBodyAndHeaders) {
  TestHttpServer server([](const TestRequest& req) {
    const std::string* custom = req.Header("x-custom");
    return Reply(201, req.body,
                 {absl::StrCat("X-Method: ", req.method),
                  absl::StrCat("X-Got-Custom: ", custom ? *custom : "")});
  });
  HttpClient client;
  HttpRequest req;
  req.url = server.Url("/v1/chat");
  // Large enough that curl would have asked for 100-continue.
  req.body = PatternBody(300 * 1024);
  req.headers = {"Content-Type: application/json", "X-Custom: 42"};
  const std::string sent = req.body;
  absl::StatusOr<HttpResponse> r = FetchSync(client, std::move(req));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->head.status, 201);
  EXPECT_TRUE(r->body == sent) << "echoed body differs";
  EXPECT_GE(r->body.capacity(), r->body.size() + kBodyPadding);
  EXPECT_EQ(*r->head.Find("x-method"), "POST");
  EXPECT_EQ(*r->head.Find("x-got-custom"), "42");

  std::vector<TestRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].Header("expect"), nullptr);
  ASSERT_NE(seen[0].Header("content-type"), nullptr);
  EXPECT_EQ(*seen[0].Header("content-type"), "application/json");
  ASSERT_NE(seen[0].Header("content-length"), nullptr);
  EXPECT_EQ(*seen[0].Header("content-length"), std::to_string(sent.size()));
}

TEST(HttpClientTest, PostWithoutContentTypeSendsNone) {
  TestHttpServer server([](const TestRequest&) { return Reply(200, "ok"); });
  HttpClient client;
  HttpRequest req;
  req.url = server.Url("/");
  req.body = "{}";
  ASSERT_TRUE(FetchSync(client, std::move(req)).ok());
  std::vector<TestRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].Header("content-type"), nullptr);
  EXPECT_EQ(seen[0].body, "{}");
}

TEST(HttpClientTest, NonOkHttpStatusIsOkTransport) {
  TestHttpServer server([](const TestRequest&) {
    return Reply(429, R"({"error":"slow down"})", {"Retry-After: 3"});
  });
  HttpClient client;
  absl::StatusOr<HttpResponse> r = FetchSync(client, Get(server.Url("/")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->head.status, 429);
  EXPECT_EQ(r->body, R"({"error":"slow down"})");
  EXPECT_EQ(*r->head.Find("retry-after"), "3");
}

TEST(HttpClientTest, EmptyBodyStillPaddedAndHeadBeforeComplete) {
  TestHttpServer server([](const TestRequest&) {
    return Script{Step::Write(Head(204, {"X-A: b"}))};
  });
  RecordingHandler h;
  HttpClient client;
  absl::StatusOr<HttpResponse> r = FetchSync(client, Get(server.Url("/")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->head.status, 204);
  EXPECT_TRUE(r->body.empty());
  EXPECT_GE(r->body.capacity(), kBodyPadding);

  client.Start(Get(server.Url("/")), &h);
  ASSERT_TRUE(h.WaitComplete().ok());
  EXPECT_EQ(h.head_calls(), 1);
  EXPECT_EQ(h.body_calls(), 0);
  EXPECT_EQ(h.head().status, 204);
}

TEST(HttpClientTest, InterimResponsesAreSkipped) {
  TestHttpServer server([](const TestRequest&) {
    return Script{
        Step::Write("HTTP/1.1 100 Continue\r\n\r\n"),
        Step::Write("HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"),
        Step::Write(absl::StrCat(Head(200, {"Content-Length: 5", "X-Final: 1"}),
                                 "hello"))};
  });
  RecordingHandler h;
  HttpClient client;
  client.Start(Get(server.Url("/")), &h);
  ASSERT_TRUE(h.WaitComplete().ok());
  EXPECT_EQ(h.head_calls(), 1);
  const ResponseHead head = h.head();
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Find("link"), nullptr);
  EXPECT_NE(head.Find("x-final"), nullptr);
  EXPECT_EQ(h.body(), "hello");
}

TEST(HttpClientTest, EventsRunOnOneLoopThread) {
  TestHttpServer server([](const TestRequest&) {
    return Script{Step::Write(Head(200, {"Transfer-Encoding: chunked"})),
                  Step::Write(Chunk("one")), Step::Delay(absl::Milliseconds(5)),
                  Step::Write(Chunk("two")), Step::Write(std::string(kLastChunk))};
  });
  RecordingHandler a, b;
  HttpClient client;
  client.Start(Get(server.Url("/")), &a);
  client.Start(Get(server.Url("/")), &b);
  ASSERT_TRUE(a.WaitComplete().ok());
  ASSERT_TRUE(b.WaitComplete().ok());
  EXPECT_EQ(a.body(), "onetwo");
  std::vector<std::thread::id> threads = a.threads();
  for (std::thread::id t : b.threads()) threads.push_back(t);
  ASSERT_GE(threads.size(), 6u);
  for (std::thread::id t : threads) {
    EXPECT_EQ(t, threads[0]);
    EXPECT_NE(t, std::this_thread::get_id());
  }
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  HttpClient client;
  absl::StatusOr<HttpResponse> r = FetchSync(
      client, Get(absl::StrCat("http://127.0.0.1:", UnusedPort(), "/")));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

TEST(HttpClientTest, UnusableRequestIsInvalidArgument) {
  HttpClient client;
  absl::StatusOr<HttpResponse> r =
      FetchSync(client, Get("file:///etc/passwd"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
      << r.status();
  r = FetchSync(client, Get("http://exa mple.com/"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
      << r.status();
  HttpRequest get_with_body = Get("http://127.0.0.1:1/");
  get_with_body.body = "x";
  r = FetchSync(client, std::move(get_with_body));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
      << r.status();
  EXPECT_EQ(client.ActiveTransfers(), 0u);
}

TEST(HttpClientTest, TimeoutIsDeadlineExceeded) {
  TestHttpServer server([](const TestRequest&) { return Script{Step::Hang()}; });
  HttpClient client;
  HttpRequest req = Get(server.Url("/hang"));
  req.timeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpResponse> r = FetchSync(client, std::move(req));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded)
      << r.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  // The timed-out connection is closed, not left to the server.
  EXPECT_TRUE(WaitFor([&] { return server.peer_closes() == 1; }));
}

TEST(HttpClientTest, TimeoutAlsoBoundsASlowBody) {
  TestHttpServer server([](const TestRequest&) {
    return Script{Step::Write(Head(200, {"Content-Length: 100"})),
                  Step::Write("partial"), Step::Hang()};
  });
  RecordingHandler h;
  HttpClient client;
  HttpRequest req = Get(server.Url("/"));
  req.timeout = absl::Milliseconds(300);
  client.Start(std::move(req), &h);
  EXPECT_EQ(h.WaitComplete().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(h.body(), "partial");
}

TEST(HttpClientTest, ConnectTimeoutIsUnavailable) {
  // A listener that never accepts, its queue full: SYNs go unanswered.
  const int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(lfd, 0), 0);
  socklen_t len = sizeof(addr);
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(fd);
  }
  absl::SleepFor(absl::Milliseconds(50));

  HttpClient client;
  HttpRequest req =
      Get(absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/"));
  req.connect_timeout = absl::Milliseconds(300);
  req.timeout = absl::Seconds(30);
  absl::StatusOr<HttpResponse> r = FetchSync(client, std::move(req));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  for (int fd : fillers) close(fd);
  close(lfd);
}

TEST(HttpClientTest, ServerClosingMidBodyIsUnavailable) {
  TestHttpServer server([](const TestRequest& req) {
    if (req.target == "/chunked") {
      return Script{Step::Write(Head(200, {"Transfer-Encoding: chunked"})),
                    Step::Write(Chunk("some")), Step::Close()};
    }
    return Script{Step::Write(Head(200, {"Content-Length: 1000"})),
                  Step::Write("only ten b"), Step::Close()};
  });
  RecordingHandler h;
  HttpClient client;
  absl::StatusOr<HttpResponse> r = FetchSync(client, Get(server.Url("/")));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  r = FetchSync(client, Get(server.Url("/chunked")));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();

  client.Start(Get(server.Url("/")), &h);
  EXPECT_EQ(h.WaitComplete().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(h.body(), "only ten b");
}

TEST(HttpClientTest, CancelInFlightClosesConnectionPromptly) {
  TestHttpServer server([](const TestRequest&) {
    return Script{Step::Write(Head(200, {"Transfer-Encoding: chunked"})),
                  Step::Write(Chunk("first")), Step::Hang()};
  });
  RecordingHandler h;
  HttpClient client;
  const HttpClient::TransferId id = client.Start(Get(server.Url("/")), &h);
  ASSERT_TRUE(h.WaitBodyCalls(1));
  EXPECT_EQ(client.ActiveTransfers(), 1u);
  client.Cancel(id);
  EXPECT_EQ(h.WaitComplete().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(WaitFor([&] { return server.peer_closes() == 1; },
                      absl::Seconds(2)))
      << "upstream did not see the client go away";
  EXPECT_EQ(h.body(), "first");
  EXPECT_EQ(client.ActiveTransfers(), 0u);
  client.Cancel(id);  // again: a no-op
}

TEST(HttpClientTest, CancelBeforeAnyResponse) {
  TestHttpServer server([](const TestRequest&) { return Script{Step::Hang()}; });
  RecordingHandler h;
  HttpClient client;
  const HttpClient::TransferId id = client.Start(Get(server.Url("/")), &h);
  ASSERT_TRUE(WaitFor([&] { return server.requests_received() == 1; }));
  client.Cancel(id);
  EXPECT_EQ(h.WaitComplete().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(h.head_calls(), 0);
  EXPECT_TRUE(WaitFor([&] { return server.peer_closes() == 1; },
                      absl::Seconds(2)));
}

TEST(HttpClientTest, CancelRightAfterStart) {
  TestHttpServer server([](const TestRequest&) { return Script{Step::Hang()}; });
  std::vector<std::unique_ptr<RecordingHandler>> handlers;
  HttpClient client;
  for (int i = 0; i < 20; ++i) {
    handlers.push_back(std::make_unique<RecordingHandler>());
    RecordingHandler& h = *handlers.back();
    client.Cancel(client.Start(Get(server.Url("/")), &h));
    EXPECT_EQ(h.WaitComplete().code(), absl::StatusCode::kCancelled);
  }
  EXPECT_EQ(client.ActiveTransfers(), 0u);
}

TEST(HttpClientTest, CancelAfterCompletionIsNoOp) {
  TestHttpServer server([](const TestRequest&) { return Reply(200, "done"); });
  HttpClient client;
  FetchWaiter w;
  const HttpClient::TransferId id =
      client.Fetch(Get(server.Url("/")), w.Callback());
  absl::StatusOr<HttpResponse> r = w.Wait();
  ASSERT_TRUE(r.ok()) << r.status();
  client.Cancel(id);
  client.Cancel(id + 1000);  // never started
  client.Resume(id);
  // The loop is still healthy, and nothing was delivered twice.
  absl::StatusOr<HttpResponse> again = FetchSync(client, Get(server.Url("/")));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->body, "done");
  EXPECT_EQ(w.calls(), 1);
  EXPECT_EQ(client.ActiveTransfers(), 0u);
}

TEST(HttpClientTest, AbortFromOnBodyStopsDeliveryAndClosesTheConnection) {
  std::string chunks;
  for (int i = 0; i < 50; ++i) chunks += Chunk(absl::StrCat("chunk", i, ";"));
  TestHttpServer server([&](const TestRequest&) {
    return Script{Step::Write(absl::StrCat(
                      Head(200, {"Transfer-Encoding: chunked"}), chunks)),
                  Step::Hang()};
  });
  RecordingHandler h;
  h.AbortOnFirstBody();
  HttpClient client;
  client.Start(Get(server.Url("/")), &h);
  EXPECT_EQ(h.WaitComplete().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(h.body_calls(), 1);
  EXPECT_TRUE(WaitFor([&] { return server.peer_closes() == 1; },
                      absl::Seconds(2)));
}

TEST(HttpClientTest, CancelFromOnBodyStopsDeliveryAtOnce) {
  std::string chunks;
  for (int i = 0; i < 50; ++i) chunks += Chunk(absl::StrCat("chunk", i, ";"));
  TestHttpServer server([&](const TestRequest&) {
    // All chunks in one write: curl would deliver them in one perform call.
    return Script{Step::Write(absl::StrCat(
                      Head(200, {"Transfer-Encoding: chunked"}), chunks)),
                  Step::Hang()};
  });
  RecordingHandler h;
  HttpClient client;
  h.CancelOnFirstBody();
  h.SetIdentity(&client, client.Start(Get(server.Url("/")), &h));
  EXPECT_EQ(h.WaitComplete().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(h.body_calls(), 1);
  EXPECT_EQ(h.body(), "chunk0;");
  EXPECT_TRUE(WaitFor([&] { return server.peer_closes() == 1; },
                      absl::Seconds(2)));
}

// Drives a paused handler from the test thread until the transfer completes.
// A chunk re-delivered to the handler after Resume would be paused on again,
// forever: the bound turns that into a failure instead of a hang.
void ResumeUntilComplete(HttpClient& client, HttpClient::TransferId id,
                         RecordingHandler& h) {
  for (int resumes = 0; h.WaitPausedOrComplete(); ++resumes) {
    if (resumes == 5000) {
      ADD_FAILURE() << "still pausing after " << resumes
                    << " resumes: re-delivered data reaches the handler?";
      client.Cancel(id);
      return;
    }
    h.ClearPaused();
    client.Resume(id);
  }
}

TEST(HttpClientTest, PauseResumeReassemblesChunkedBodyExactly) {
  const std::string body = PatternBody(400 * 1024 + 17);
  TestHttpServer server([&](const TestRequest&) {
    Script s{Step::Write(Head(200, {"Transfer-Encoding: chunked"}))};
    // Chunk sizes from 1 byte to 40 KiB, several per write (so curl decodes
    // more after a pause from the same read), some writes spaced out.
    size_t off = 0, size = 1;
    std::string batch;
    int n = 0;
    while (off < body.size()) {
      const size_t len = std::min(size, body.size() - off);
      batch += Chunk(absl::string_view(body).substr(off, len));
      off += len;
      size = size * 3 % 40960 + 1;
      if (++n % 4 == 0) {
        s.push_back(Step::Write(std::move(batch)));
        batch.clear();
        if (n % 8 == 0) s.push_back(Step::Delay(absl::Milliseconds(1)));
      }
    }
    batch += std::string(kLastChunk);
    s.push_back(Step::Write(std::move(batch)));
    return s;
  });
  RecordingHandler h(RecordingHandler::Policy::kPauseAll);
  HttpClient client;
  const HttpClient::TransferId id = client.Start(Get(server.Url("/")), &h);
  ResumeUntilComplete(client, id, h);
  ASSERT_TRUE(h.WaitComplete().ok()) << h.status();
  const std::string got = h.body();
  EXPECT_EQ(got.size(), body.size());
  EXPECT_TRUE(got == body) << "reassembled body differs";
  EXPECT_GT(h.pauses(), 20);
  EXPECT_EQ(h.pauses(), h.body_calls());
}

TEST(HttpClientTest, PauseResumeReassemblesLargeContentLengthBody) {
  const std::string body = PatternBody(1 << 20);
  TestHttpServer server([&](const TestRequest&) {
    return Reply(200, body);  // one write: the socket is always ahead
  });
  RecordingHandler h(RecordingHandler::Policy::kPauseOdd);
  HttpClient client;
  const HttpClient::TransferId id = client.Start(Get(server.Url("/")), &h);
  ResumeUntilComplete(client, id, h);
  ASSERT_TRUE(h.WaitComplete().ok()) << h.status();
  EXPECT_TRUE(h.body() == body) << "reassembled body differs";
  EXPECT_GT(h.pauses(), 10);
}

TEST(HttpClientTest, PauseOnOnlyChunkOfSmallBody) {
  TestHttpServer server([](const TestRequest&) { return Reply(200, "tiny"); });
  RecordingHandler h(RecordingHandler::Policy::kPauseAll);
  HttpClient client;
  const HttpClient::TransferId id = client.Start(Get(server.Url("/")), &h);
  ResumeUntilComplete(client, id, h);
  ASSERT_TRUE(h.WaitComplete().ok()) << h.status();
  EXPECT_EQ(h.body(), "tiny");
  EXPECT_EQ(h.pauses(), 1);
}

TEST(HttpClientTest, ResumeQueuedFromOnBodyUndoesThePause) {
  const std::string body = PatternBody(256 * 1024);
  TestHttpServer server([&](const TestRequest&) { return Reply(200, body); });
  RecordingHandler h(RecordingHandler::Policy::kPauseAll);
  HttpClient client;
  h.ResumeFromOnBody();
  h.SetIdentity(&client, client.Start(Get(server.Url("/")), &h));
  ASSERT_TRUE(h.WaitComplete().ok()) << h.status();
  EXPECT_TRUE(h.body() == body) << "reassembled body differs";
  EXPECT_GT(h.pauses(), 1);
}

TEST(HttpClientTest, CancelWhilePaused) {
  TestHttpServer server([](const TestRequest&) {
    return Script{Step::Write(Head(200, {"Transfer-Encoding: chunked"})),
                  Step::Write(Chunk("a") + Chunk("b")), Step::Hang()};
  });
  RecordingHandler h(RecordingHandler::Policy::kPauseAll);
  HttpClient client;
  const HttpClient::TransferId id = client.Start(Get(server.Url("/")), &h);
  ASSERT_TRUE(h.WaitPausedOrComplete());
  client.Cancel(id);
  EXPECT_EQ(h.WaitComplete().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(h.body(), "a");
  EXPECT_TRUE(WaitFor([&] { return server.peer_closes() == 1; },
                      absl::Seconds(2)));
}

TEST(HttpClientTest, BodyCapIsResourceExhausted) {
  TestHttpServer server([](const TestRequest& req) {
    if (req.target == "/declared") return Reply(200, std::string(5000, 'x'));
    if (req.target == "/exact") return Reply(200, std::string(1000, 'x'));
    Script s{Step::Write(Head(200, {"Transfer-Encoding: chunked"}))};
    for (int i = 0; i < 10; ++i) s.push_back(Step::Write(Chunk(std::string(500, 'y'))));
    s.push_back(Step::Write(std::string(kLastChunk)));
    return s;
  });
  HttpClient::Options options;
  options.max_buffered_body_bytes = 1000;
  RecordingHandler h;
  HttpClient client(options);
  absl::StatusOr<HttpResponse> r =
      FetchSync(client, Get(server.Url("/declared")));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted)
      << r.status();
  r = FetchSync(client, Get(server.Url("/chunked")));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted)
      << r.status();
  r = FetchSync(client, Get(server.Url("/exact")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body.size(), 1000u);
  EXPECT_GE(r->body.capacity(), 1000 + kBodyPadding);

  // Streaming transfers have no cap.
  client.Start(Get(server.Url("/declared")), &h);
  ASSERT_TRUE(h.WaitComplete().ok());
  EXPECT_EQ(h.body().size(), 5000u);
}

TEST(HttpClientTest, ConnectionsAreReused) {
  TestHttpServer server([](const TestRequest& req) {
    return Reply(200, req.target);
  });
  HttpClient client;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<HttpResponse> r =
        FetchSync(client, Get(server.Url(absl::StrCat("/", i))));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, absl::StrCat("/", i));
  }
  EXPECT_EQ(server.connections_accepted(), 1);
  EXPECT_EQ(server.requests_received(), 20);
}

// Sends `n` fetches at once to `server` and waits for every one to succeed.
void FetchConcurrently(HttpClient& client, const TestHttpServer& server, int n) {
  std::vector<std::unique_ptr<FetchWaiter>> waiters;
  for (int i = 0; i < n; ++i) {
    waiters.push_back(std::make_unique<FetchWaiter>());
    client.Fetch(Get(server.Url("/")), waiters.back()->Callback());
  }
  for (auto& w : waiters) {
    absl::StatusOr<HttpResponse> r = w->Wait();
    EXPECT_TRUE(r.ok()) << r.status();
  }
}

Script SlowReply(const TestRequest& req) {
  Script s{Step::Delay(absl::Milliseconds(300))};
  for (Step& step : Reply(200, req.target)) s.push_back(std::move(step));
  return s;
}

// A burst opens fresh connections without searching the pool (see
// ConnectionReuse); the next burst still finds them all idle and reuses them.
TEST(HttpClientTest, ABurstReusesTheConnectionsOfTheLastOne) {
  TestHttpServer server(SlowReply);
  HttpClient client;
  FetchConcurrently(client, server, 10);
  EXPECT_EQ(server.connections_accepted(), 10);
  FetchConcurrently(client, server, 10);
  EXPECT_EQ(server.connections_accepted(), 10);
  EXPECT_EQ(server.requests_received(), 20);
  EXPECT_EQ(server.peer_closes(), 0);
}

// Of a burst larger than max_idle_connections, only that many connections are
// kept; the others close as their transfers end.
TEST(HttpClientTest, ABurstKeepsOnlyTheIdleBudget) {
  TestHttpServer server(SlowReply);
  HttpClient::Options options;
  options.max_idle_connections = 4;
  HttpClient client(options);
  FetchConcurrently(client, server, 20);
  EXPECT_EQ(server.connections_accepted(), 20);
  EXPECT_TRUE(WaitFor([&] { return server.peer_closes() == 16; }, absl::Seconds(10)))
      << server.peer_closes();
  for (int i = 0; i < 8; ++i) {
    absl::StatusOr<HttpResponse> r = FetchSync(client, Get(server.Url("/again")));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  FetchConcurrently(client, server, 4);
  EXPECT_EQ(server.connections_accepted(), 20);
  EXPECT_EQ(server.peer_closes(), 16);
}

// Cancels queued right behind a burst of starts each find their transfer.
TEST(HttpClientTest, CancelsQueuedBehindABurstOfStarts) {
  TestHttpServer server([](const TestRequest&) { return Script{Step::Hang()}; });
  constexpr int kTransfers = 150;
  std::vector<std::unique_ptr<RecordingHandler>> handlers;
  std::vector<HttpClient::TransferId> ids;
  HttpClient client;
  for (int i = 0; i < kTransfers; ++i) {
    handlers.push_back(std::make_unique<RecordingHandler>());
    ids.push_back(client.Start(Get(server.Url("/")), handlers.back().get()));
  }
  for (HttpClient::TransferId id : ids) client.Cancel(id);
  for (auto& h : handlers) {
    EXPECT_EQ(h->WaitComplete().code(), absl::StatusCode::kCancelled);
  }
  EXPECT_EQ(client.ActiveTransfers(), 0u);
}

TEST(HttpClientTest, TwoHundredConcurrentSlowTransfers) {
  constexpr int kTransfers = 200;
  TestHttpServer server([](const TestRequest& req) {
    Script s{Step::Delay(absl::Milliseconds(200))};
    for (Step& step : Reply(200, req.target)) s.push_back(std::move(step));
    return s;
  });
  std::mutex mu;
  std::condition_variable cv;
  int ok = 0, failed = 0;  // guarded by mu
  HttpClient client;
  const int threads_before = ThreadCount();
  const absl::Time start = absl::Now();
  std::vector<std::thread> starters;
  for (int t = 0; t < 4; ++t) {
    starters.emplace_back([&, t] {
      for (int i = 0; i < kTransfers / 4; ++i) {
        const std::string target = absl::StrCat("/", t, "/", i);
        client.Fetch(Get(server.Url(target)),
                     [&, target](absl::StatusOr<HttpResponse> r) {
                       Lock lock(mu);
                       if (r.ok() && r->body == target) {
                         ++ok;
                       } else {
                         ++failed;
                       }
                       cv.notify_all();
                     });
      }
    });
  }
  for (std::thread& t : starters) t.join();
  // No thread per transfer: while they are all in flight the process has
  // what it had before (the loop and server threads already existed).
  EXPECT_GT(client.ActiveTransfers(), 0u);
  EXPECT_LE(ThreadCount(), threads_before + 2);
  {
    Lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60),
                            [&] { return ok + failed == kTransfers; }));
    EXPECT_EQ(ok, kTransfers);
  }
  // One at a time would take 40 s.
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  EXPECT_GE(server.max_responding(), 50);
  EXPECT_EQ(client.ActiveTransfers(), 0u);
}

TEST(HttpClientTest, OpenStreamDoesNotHoldUpOtherTransfersToItsHost) {
  TestHttpServer server([](const TestRequest& req) {
    if (req.target == "/stream") {
      return Script{Step::Write(Head(200, {"Transfer-Encoding: chunked"})),
                    Step::Write(Chunk("x")), Step::Hang()};
    }
    return Reply(200, "quick");
  });
  RecordingHandler stream;
  HttpClient client;
  const HttpClient::TransferId id =
      client.Start(Get(server.Url("/stream")), &stream);
  ASSERT_TRUE(stream.WaitBodyCalls(1));
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> r =
        FetchSync(client, Get(server.Url("/quick")));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, "quick");
  }
  EXPECT_FALSE(stream.complete());
  client.Cancel(id);
  EXPECT_EQ(stream.WaitComplete().code(), absl::StatusCode::kCancelled);
}

TEST(HttpClientTest, MaxHostConnectionsQueuesTransfers) {
  TestHttpServer server([](const TestRequest& req) {
    Script s{Step::Delay(absl::Milliseconds(20))};
    for (Step& step : Reply(200, req.target)) s.push_back(std::move(step));
    return s;
  });
  HttpClient::Options options;
  options.max_host_connections = 2;
  HttpClient client(options);
  std::vector<std::unique_ptr<FetchWaiter>> waiters;
  for (int i = 0; i < 10; ++i) {
    waiters.push_back(std::make_unique<FetchWaiter>());
    client.Fetch(Get(server.Url("/")), waiters.back()->Callback());
  }
  for (auto& w : waiters) EXPECT_TRUE(w->Wait().ok());
  EXPECT_LE(server.connections_accepted(), 2);
  EXPECT_LE(server.max_responding(), 2);
}

// Starts another transfer from OnComplete; owns the second handler.
class RestartingHandler : public RecordingHandler {
 public:
  RestartingHandler(HttpClient* client, std::string url)
      : client_(client), url_(std::move(url)) {}
  void OnComplete(absl::Status status) override {
    RecordingHandler::OnComplete(status);
    client_->Start(Get(url_), &second);
  }
  RecordingHandler second;

 private:
  HttpClient* const client_;
  const std::string url_;
};

TEST(HttpClientTest, DestructorCancelsEverythingInFlight) {
  TestHttpServer server([](const TestRequest&) {
    return Script{Step::Write(Head(200, {"Transfer-Encoding: chunked"})),
                  Step::Write(Chunk("x")), Step::Hang()};
  });
  // Declared before the client: they must outlive it even if a check fails.
  std::vector<std::unique_ptr<RecordingHandler>> handlers;
  std::unique_ptr<RestartingHandler> restarting;
  FetchWaiter fetch;
  auto client = std::make_unique<HttpClient>();
  for (int i = 0; i < 5; ++i) {
    handlers.push_back(std::make_unique<RecordingHandler>(
        i == 0 ? RecordingHandler::Policy::kPauseAll
               : RecordingHandler::Policy::kContinue));
    client->Start(Get(server.Url("/")), handlers.back().get());
  }
  restarting =
      std::make_unique<RestartingHandler>(client.get(), server.Url("/"));
  client->Start(Get(server.Url("/")), restarting.get());
  client->Fetch(Get(server.Url("/")), fetch.Callback());
  ASSERT_TRUE(WaitFor([&] { return server.requests_received() == 7; }))
      << server.requests_received() << " requests on "
      << server.connections_accepted() << " connections";
  for (auto& h : handlers) ASSERT_TRUE(h->WaitBodyCalls(1));
  EXPECT_EQ(client->ActiveTransfers(), 7u);

  client.reset();
  // Completed by the time the destructor returned, not merely later.
  for (auto& h : handlers) {
    EXPECT_TRUE(h->complete());
    EXPECT_EQ(h->status().code(), absl::StatusCode::kCancelled);
  }
  EXPECT_EQ(restarting->status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(restarting->second.complete()) << "a Start during shutdown";
  EXPECT_EQ(restarting->second.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(fetch.calls(), 1);
  EXPECT_EQ(fetch.Wait().status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(WaitFor([&] { return server.peer_closes() == 7; },
                      absl::Seconds(2)));
}

TEST(HttpClientTest, ManyClientsCreatedAndDestroyed) {
  TestHttpServer server([](const TestRequest&) { return Reply(200, "ok"); });
  for (int i = 0; i < 10; ++i) {
    HttpClient client;
    ASSERT_TRUE(FetchSync(client, Get(server.Url("/"))).ok());
  }
  HttpClient idle;  // never used: constructor/destructor alone
}


// --- Never re-sent ----------------------------------------------------------

// Requests for /2 are read whole, then the connection is closed (FIN) or
// reset (RST) with no answer; others are answered with keep-alive. After /1,
// curl has the connection pooled, reuses it for /2 and finds it dead only
// after sending: the case where curl 7.88 re-sends by itself.
TestHttpServer::Handler DropSecond(bool reset) {
  return [reset](const TestRequest& req) {
    if (req.target == "/2") return Script{reset ? Step::Reset() : Step::Close()};
    return Reply(200, req.target);
  };
}

HttpRequest Post(std::string url, std::string body) {
  HttpRequest r;
  r.url = std::move(url);
  r.body = std::move(body);
  return r;
}

// Sends a warm-up request, then `second` on the pooled connection, which the
// server drops: the transfer must fail UNAVAILABLE with the request seen by
// the server exactly once.
void ExpectDroppedRequestNotResent(HttpRequest second, bool reset) {
  SCOPED_TRACE(absl::StrCat(
      second.method == HttpRequest::Method::kGet ? "GET" : "POST", " with ",
      second.body.size(), "-byte body, server ", reset ? "resets" : "closes"));
  TestHttpServer server(DropSecond(reset));
  HttpClient client;
  absl::StatusOr<HttpResponse> first = FetchSync(client, Get(server.Url("/1")));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->body, "/1");

  const std::string body = second.body;
  second.url = server.Url("/2");
  RecordingHandler h;
  client.Start(std::move(second), &h);
  const absl::Status status = h.WaitComplete();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "not re-sent")) << status;
  EXPECT_EQ(h.head_calls(), 0);
  // A re-send would have been read (and counted) before curl could give up.
  EXPECT_EQ(server.requests_received(), 2) << "the request was re-sent";
  std::vector<TestRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].target, "/2");
  EXPECT_TRUE(seen[1].body == body) << "body differs";
  // The client is fine for the next call (the engine's retry, say).
  absl::StatusOr<HttpResponse> after = FetchSync(client, Get(server.Url("/3")));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->body, "/3");
  EXPECT_EQ(server.requests_received(), 3);
  EXPECT_EQ(client.ActiveTransfers(), 0u);
}

TEST(HttpClientResendTest, PostOnDeadReusedConnectionIsNotResent) {
  for (bool reset : {false, true}) {
    ExpectDroppedRequestNotResent(Post("", "{\"x\":1}"), reset);
  }
}

// No body byte is ever sent, so curl has nothing to rewind: the pre-request
// guard is what stops the re-send.
TEST(HttpClientResendTest, EmptyPostOnDeadReusedConnectionIsNotResent) {
  for (bool reset : {false, true}) {
    ExpectDroppedRequestNotResent(Post("", ""), reset);
  }
}

// More than curl's 64 KiB upload buffer: the body goes out in many reads.
TEST(HttpClientResendTest, LargePostOnDeadReusedConnectionIsNotResent) {
  for (bool reset : {false, true}) {
    ExpectDroppedRequestNotResent(Post("", PatternBody(1 << 20)), reset);
  }
}

TEST(HttpClientResendTest, GetOnDeadReusedConnectionIsNotResent) {
  for (bool reset : {false, true}) {
    ExpectDroppedRequestNotResent(Get(""), reset);
  }
}

// Bodies of every size, including none, on both sides of curl's 64 KiB
// boundary (below it the body goes out with the head) and over one reused
// connection.
TEST(HttpClientResendTest, PostBodiesArriveIntact) {
  TestHttpServer server([](const TestRequest& req) {
    return Reply(200, absl::StrCat(req.body.size()));
  });
  HttpClient client;
  const std::vector<size_t> sizes = {0,         1,         64 * 1024 - 1,
                                     64 * 1024, 64 * 1024 + 1, 5 << 20,
                                     0,         3};
  for (size_t i = 0; i < sizes.size(); ++i) {
    const std::string body = PatternBody(sizes[i]);
    HttpRequest req = Post(server.Url(absl::StrCat("/", i)), body);
    req.headers = {"Content-Type: application/octet-stream"};
    if (i % 2 == 0) {
      absl::StatusOr<HttpResponse> r = FetchSync(client, std::move(req));
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->body, absl::StrCat(sizes[i]));
    } else {
      RecordingHandler h;
      client.Start(std::move(req), &h);
      ASSERT_TRUE(h.WaitComplete().ok()) << h.status();
      EXPECT_EQ(h.body(), absl::StrCat(sizes[i]));
    }
    std::vector<TestRequest> seen = server.requests();
    ASSERT_EQ(seen.size(), i + 1);
    EXPECT_EQ(seen[i].method, "POST");
    ASSERT_NE(seen[i].Header("content-length"), nullptr);
    EXPECT_EQ(*seen[i].Header("content-length"), absl::StrCat(sizes[i]));
    EXPECT_EQ(seen[i].Header("expect"), nullptr);
    EXPECT_EQ(seen[i].body.size(), sizes[i]);
    EXPECT_TRUE(seen[i].body == body) << "body " << i << " differs";
  }
  EXPECT_EQ(server.connections_accepted(), 1);
}

// --- Timers and posted work -------------------------------------------------

using SteadyClock = std::chrono::steady_clock;

// What ran, in order, where, and how long after it was armed.
class EventLog {
 public:
  void Add(std::string name,
           SteadyClock::duration after_arming = SteadyClock::duration::zero()) {
    Lock lock(mu_);
    entries_.push_back(
        Entry{std::move(name), std::this_thread::get_id(), after_arming});
    cv_.notify_all();
  }
  bool WaitFor(absl::string_view name) {
    Lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return CountLocked(name) > 0; });
  }
  int Count(absl::string_view name) {
    Lock lock(mu_);
    return CountLocked(name);
  }
  std::vector<std::string> Names() {
    Lock lock(mu_);
    std::vector<std::string> names;
    for (const Entry& e : entries_) names.push_back(e.name);
    return names;
  }
  SteadyClock::duration AfterArming(absl::string_view name) {
    Lock lock(mu_);
    for (const Entry& e : entries_) {
      if (e.name == name) return e.after_arming;
    }
    return SteadyClock::duration::min();
  }
  std::vector<std::thread::id> Threads() {
    Lock lock(mu_);
    std::vector<std::thread::id> threads;
    for (const Entry& e : entries_) threads.push_back(e.thread);
    return threads;
  }

 private:
  struct Entry {
    std::string name;
    std::thread::id thread;
    SteadyClock::duration after_arming;
  };
  int CountLocked(absl::string_view name) const {
    int n = 0;
    for (const Entry& e : entries_) n += e.name == name;
    return n;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> entries_;  // guarded by mu_
};

// All on one thread, and not the caller's.
void ExpectAllOnOneOtherThread(const std::vector<std::thread::id>& threads) {
  ASSERT_FALSE(threads.empty());
  for (std::thread::id t : threads) {
    EXPECT_EQ(t, threads[0]);
    EXPECT_NE(t, std::this_thread::get_id());
  }
}

TEST(HttpClientTimerTest, TimersRunInDeadlineOrderAndNeverEarly) {
  HttpClient client;
  Transport& transport = client;  // as the call engine sees it
  EXPECT_LT(absl::AbsDuration(transport.Now() - absl::Now()), absl::Seconds(5));
  EventLog log;
  struct Arm {
    const char* name;
    absl::Duration delay;
  };
  // Armed in this order, all from one posted fn on the loop thread, so no
  // queue delay can reorder them: only the deadlines decide.
  const std::vector<Arm> arms = {
      {"300ms", absl::Milliseconds(300)}, {"100ms", absl::Milliseconds(100)},
      {"200ms", absl::Milliseconds(200)}, {"zero", absl::ZeroDuration()},
      {"negative", absl::Milliseconds(-5)}, {"101ms", absl::Milliseconds(101)}};
  transport.Post([&] {
    for (const Arm& arm : arms) {
      const SteadyClock::time_point armed = SteadyClock::now();
      transport.RunAfter(arm.delay, [&log, armed, name = arm.name] {
        log.Add(name, SteadyClock::now() - armed);
      });
    }
  });
  // And one armed from this thread, through the queue.
  const SteadyClock::time_point armed = SteadyClock::now();
  transport.RunAfter(absl::Milliseconds(150), [&log, armed] {
    log.Add("cross-thread 150ms", SteadyClock::now() - armed);
  });
  ASSERT_TRUE(log.WaitFor("300ms"));
  ASSERT_TRUE(log.WaitFor("cross-thread 150ms"));
  std::vector<std::string> names = log.Names();
  names.erase(std::remove(names.begin(), names.end(), "cross-thread 150ms"),
              names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"zero", "negative", "100ms",
                                             "101ms", "200ms", "300ms"}));
  for (const Arm& arm : arms) {
    EXPECT_GE(log.AfterArming(arm.name),
              std::max(absl::ToChronoNanoseconds(arm.delay),
                       std::chrono::nanoseconds::zero()))
        << arm.name << " ran early";
  }
  EXPECT_GE(log.AfterArming("cross-thread 150ms"),
            std::chrono::milliseconds(150));
  ExpectAllOnOneOtherThread(log.Threads());
}

TEST(HttpClientTimerTest, CancelTimerPreventsRunning) {
  HttpClient client;
  EventLog log;
  std::mutex mu;
  std::condition_variable cv;
  Transport::TimerId queued_id = 0;  // guarded by mu
  bool queued = false;               // guarded by mu
  client.Post([&] {
    // Cancelled at once: the fn (and what it holds) is destroyed unrun.
    auto held = std::make_shared<int>(0);
    std::weak_ptr<int> weak = held;
    const Transport::TimerId id = client.RunAfter(
        absl::Milliseconds(20), [&log, held] { log.Add("cancelled ran"); });
    held.reset();
    client.CancelTimer(id);
    log.Add(weak.expired() ? "destroyed by CancelTimer" : "still held");
    client.CancelTimer(id);        // again: a no-op
    client.CancelTimer(id + 100);  // never armed: a no-op

    // A timer cancels the next one (due 1 ms later, maybe in the same round).
    auto victim = std::make_shared<Transport::TimerId>(0);
    client.RunAfter(absl::Milliseconds(30), [&client, &log, victim] {
      log.Add("canceller");
      client.CancelTimer(*victim);
    });
    *victim = client.RunAfter(absl::Milliseconds(31),
                              [&log] { log.Add("victim ran"); });

    // Armed from another thread while this one holds the loop: its command
    // is still queued when it is cancelled.
    std::thread other([&] {
      const Transport::TimerId qid = client.RunAfter(
          absl::ZeroDuration(), [&log] { log.Add("queued ran"); });
      Lock lock(mu);
      queued_id = qid;
      queued = true;
      cv.notify_all();
    });
    {
      Lock lock(mu);
      cv.wait(lock, [&] { return queued; });
    }
    other.join();
    client.CancelTimer(queued_id);

    const Transport::TimerId ran = client.RunAfter(
        absl::ZeroDuration(), [&log] { log.Add("ran"); });
    client.RunAfter(absl::Milliseconds(200), [&client, &log, ran] {
      client.CancelTimer(ran);  // it has run: a no-op
      log.Add("end");
    });
  });
  ASSERT_TRUE(log.WaitFor("end"));
  EXPECT_EQ(log.Names(), (std::vector<std::string>{"destroyed by CancelTimer",
                                                   "ran", "canceller", "end"}));
}

TEST(HttpClientTimerTest, PostsRunInFifoOrder) {
  HttpClient client;
  EventLog log;
  constexpr int kPerThread = 500;
  std::vector<std::thread> posters;
  for (int t = 0; t < 2; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        client.Post([&log, t, i] { log.Add(absl::StrCat(t, ":", i)); });
      }
    });
  }
  for (std::thread& t : posters) t.join();
  // Posted from a posted fn: after what was posted before, wherever from.
  client.Post([&] {
    client.Post([&] {
      log.Add("x");
      client.Post([&] { log.Add("z"); });
    });
    client.Post([&] { log.Add("y"); });
  });
  ASSERT_TRUE(log.WaitFor("z"));
  std::vector<std::string> names = log.Names();
  ASSERT_EQ(names.size(), 2 * kPerThread + 3);
  int next[2] = {0, 0};
  for (const std::string& name : names) {
    if (name.size() == 1) continue;
    const int t = name[0] - '0';
    EXPECT_EQ(name, absl::StrCat(t, ":", next[t])) << "out of order";
    ++next[t];
  }
  EXPECT_EQ(next[0], kPerThread);
  EXPECT_EQ(next[1], kPerThread);
  EXPECT_EQ(std::vector<std::string>(names.end() - 3, names.end()),
            (std::vector<std::string>{"x", "y", "z"}));
  ExpectAllOnOneOtherThread(log.Threads());
}

// Arms a timer from OnComplete, as the call engine does for a backoff.
class ArmingHandler : public RecordingHandler {
 public:
  ArmingHandler(Transport* transport, EventLog* log, std::string name)
      : transport_(transport), log_(log), name_(std::move(name)) {}
  void OnComplete(absl::Status status) override {
    RecordingHandler::OnComplete(status);
    transport_->RunAfter(absl::ZeroDuration(),
                         [log = log_, name = name_] { log->Add(name); });
  }

 private:
  Transport* const transport_;
  EventLog* const log_;
  const std::string name_;
};

TEST(HttpClientTimerTest, TimersStartCancelAndArmReentrantly) {
  TestHttpServer server([](const TestRequest& req) {
    if (req.target == "/quick") return Reply(200, "quick");
    Script s{Step::Write(Head(200, {"Transfer-Encoding: chunked"}))};
    for (int i = 0; i < 2000; ++i) {
      s.push_back(Step::Write(Chunk(absl::StrCat("c", i))));
      s.push_back(Step::Delay(absl::Milliseconds(2)));
    }
    s.push_back(Step::Hang());
    return s;
  });
  EventLog log;
  HttpClient client;
  ArmingHandler quick(&client, &log, "quick done");
  RecordingHandler stream;
  int body_calls_at_cancel = -1;  // loop thread, then read after completion
  client.RunAfter(absl::Milliseconds(10), [&] {
    client.Start(Get(server.Url("/quick")), &quick);
    const Transport::TransferId stream_id =
        client.Start(Get(server.Url("/stream")), &stream);
    client.Post([&] { log.Add("posted"); });
    client.RunAfter(absl::ZeroDuration(), [&] { log.Add("armed"); });
    client.RunAfter(absl::Milliseconds(150), [&, stream_id] {
      client.Cancel(stream_id);
      // From the loop thread: nothing more reaches the handler.
      body_calls_at_cancel = stream.body_calls();
      log.Add("cancelled");
    });
  });
  ASSERT_TRUE(log.WaitFor("quick done"));
  EXPECT_TRUE(quick.status().ok()) << quick.status();
  EXPECT_EQ(quick.body(), "quick");
  EXPECT_EQ(stream.WaitComplete().code(), absl::StatusCode::kCancelled);
  ASSERT_TRUE(log.WaitFor("cancelled"));
  EXPECT_EQ(stream.body_calls(), body_calls_at_cancel);
  EXPECT_EQ(log.Count("posted"), 1);
  EXPECT_EQ(log.Count("armed"), 1);
  ExpectAllOnOneOtherThread(log.Threads());
  EXPECT_TRUE(WaitFor([&] { return server.peer_closes() == 1; }));
}

TEST(HttpClientTimerTest, ZeroDelayTimerChainDoesNotStarveTransfers) {
  TestHttpServer server([](const TestRequest&) { return Reply(200, "ok"); });
  std::atomic<bool> stop{false};
  std::atomic<int> runs{0};
  std::function<void()> rearm;  // outlives the client
  HttpClient client;
  rearm = [&] {
    runs.fetch_add(1);
    if (!stop.load()) client.RunAfter(absl::ZeroDuration(), rearm);
  };
  client.RunAfter(absl::ZeroDuration(), rearm);
  ASSERT_TRUE(WaitFor([&] { return runs.load() > 0; }));
  // Were each round to run the timers armed in it, the loop would never get
  // back to its sockets: these would time out.
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> r = FetchSync(client, Get(server.Url("/")));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  // And the chain was alive all along.
  const int runs_after = runs.load();
  EXPECT_TRUE(WaitFor([&] { return runs.load() > runs_after; }));
  stop.store(true);
}

TEST(HttpClientTimerTest, DestructionRunsPendingWorkOnceAndCancelsItsStarts) {
  TestHttpServer server([](const TestRequest&) { return Script{Step::Hang()}; });
  // Declared before the client: they must outlive it.
  EventLog log;
  RecordingHandler from_timer, from_post, from_child;
  std::unique_ptr<ArmingHandler> in_flight;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;  // guarded by mu
  auto client = std::make_unique<HttpClient>();
  HttpClient* const c = client.get();
  in_flight = std::make_unique<ArmingHandler>(c, &log, "completion timer");
  c->Start(Get(server.Url("/")), in_flight.get());
  ASSERT_TRUE(WaitFor([&] { return server.requests_received() == 1; }));
  c->RunAfter(absl::Hours(1), [&, c] {
    log.Add("timer");
    c->Start(Get(server.Url("/")), &from_timer);
  });
  c->RunAfter(absl::InfiniteDuration(), [&, c] {
    log.Add("infinite timer");
    c->RunAfter(absl::Hours(2), [&, c] {
      log.Add("child timer");
      c->Start(Get(server.Url("/")), &from_child);
    });
    c->Post([&, c] {
      log.Add("post from timer");
      c->Start(Get(server.Url("/")), &from_post);
    });
  });
  c->Post([&, c] {
    const Transport::TimerId id =
        c->RunAfter(absl::Hours(1), [&] { log.Add("cancelled timer ran"); });
    c->CancelTimer(id);
  });
  // Holds the loop so that the next post is still queued when the
  // destructor starts.
  c->Post([&] {
    Lock lock(mu);
    cv.wait_for(lock, kWait, [&] { return release; });
  });
  c->Post([&] { log.Add("queued post"); });
  std::thread releaser([&] {
    absl::SleepFor(absl::Milliseconds(100));
    Lock lock(mu);
    release = true;
    cv.notify_all();
  });
  client.reset();
  releaser.join();

  // All of it ran before the destructor returned, once, on the loop thread.
  for (const char* name : {"timer", "infinite timer", "child timer",
                           "post from timer", "queued post",
                           "completion timer"}) {
    EXPECT_EQ(log.Count(name), 1) << name;
  }
  EXPECT_EQ(log.Count("cancelled timer ran"), 0);
  ExpectAllOnOneOtherThread(log.Threads());
  EXPECT_EQ(in_flight->status().code(), absl::StatusCode::kCancelled);
  for (RecordingHandler* h : {&from_timer, &from_post, &from_child}) {
    EXPECT_TRUE(h->complete());
    EXPECT_EQ(h->status().code(), absl::StatusCode::kCancelled);
    EXPECT_EQ(h->head_calls(), 0);
  }
  // Only the transfer started before the destructor reached the server.
  EXPECT_EQ(server.requests_received(), 1);
}

// Runs `action` when the calling thread exits. On the loop thread that is
// after the loop has stopped and before the destructor returns: the window
// in which a call from another thread "loses the race" with the destructor.
void AtThreadExit(std::function<void()> action) {
  struct Hook {
    std::function<void()> action;
    ~Hook() {
      if (action) action();
    }
  };
  thread_local Hook hook;
  hook.action = std::move(action);
}

TEST(HttpClientTimerTest, PostAndRunAfterOnceStoppedRunInline) {
  // Written on the exiting loop thread; read after join (in the destructor).
  bool post_ran_inline = false;
  bool timer_ran_inline = false;
  bool start_completed_inline = false;
  RecordingHandler late;
  auto client = std::make_unique<HttpClient>();
  HttpClient* const c = client.get();
  c->Post([&, c] {
    AtThreadExit([&, c] {
      const std::thread::id self = std::this_thread::get_id();
      std::thread::id ran_on;
      c->Post([&] { ran_on = std::this_thread::get_id(); });
      post_ran_inline = ran_on == self;
      ran_on = std::thread::id();
      const Transport::TimerId id = c->RunAfter(
          absl::Hours(1), [&] { ran_on = std::this_thread::get_id(); });
      timer_ran_inline = ran_on == self;
      c->CancelTimer(id);  // off the loop, after the stop: a no-op
      c->Start(Get("http://127.0.0.1:1/"), &late);
      start_completed_inline = late.complete();
    });
  });
  client.reset();
  EXPECT_TRUE(post_ran_inline);
  EXPECT_TRUE(timer_ran_inline);
  EXPECT_TRUE(start_completed_inline);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace llmgateway::http
