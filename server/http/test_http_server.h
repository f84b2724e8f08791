// A scriptable HTTP/1.1 keep-alive server on 127.0.0.1 for tests: one poll()
// thread serves every connection, so it adds one thread however many clients.
#ifndef LLM_GATEWAY_SERVER_HTTP_TEST_HTTP_SERVER_H_
#define LLM_GATEWAY_SERVER_HTTP_TEST_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace llmgateway::http::testing {

struct TestRequest {
  std::string method;
  std::string target;  // path and query
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  const std::string* Header(absl::string_view lower_name) const;
};

// One step of the server's reply to a request.
struct Step {
  enum class Kind { kWrite, kDelay, kClose, kReset, kHang };
  Kind kind;
  std::string bytes;
  absl::Duration delay = absl::ZeroDuration();

  static Step Write(std::string bytes) {
    return Step{Kind::kWrite, std::move(bytes)};
  }
  static Step Delay(absl::Duration d) { return Step{Kind::kDelay, {}, d}; }
  // The server closes the connection.
  static Step Close() { return Step{Kind::kClose, {}}; }
  // The server resets the connection (RST, not FIN): the client's next read
  // fails with ECONNRESET rather than seeing end of file.
  static Step Reset() { return Step{Kind::kReset, {}}; }
  // Nothing more is ever sent; the connection stays until the client leaves.
  static Step Hang() { return Step{Kind::kHang, {}}; }
};
using Script = std::vector<Step>;

// "HTTP/1.1 <status> X\r\n<headers>\r\n" (each header "Name: value").
std::string Head(int status, const std::vector<std::string>& headers = {});
// A whole response with Content-Length.
Script Reply(int status, absl::string_view body,
             std::vector<std::string> headers = {});
// Chunked transfer coding.
std::string Chunk(absl::string_view data);
inline constexpr absl::string_view kLastChunk = "0\r\n\r\n";

class TestHttpServer {
 public:
  // Runs on the server thread, once per request.
  using Handler = std::function<Script(const TestRequest&)>;

  explicit TestHttpServer(Handler handler);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string Url(absl::string_view target) const;

  int connections_accepted() const { return accepted_.load(); }
  // Connections the client closed (EOF or reset seen by the server).
  int peer_closes() const { return peer_closes_.load(); }
  int requests_received() const { return requests_received_.load(); }
  // Requests whose reply script is running now, and the most ever at once.
  int responding() const { return responding_.load(); }
  int max_responding() const { return max_responding_.load(); }
  std::vector<TestRequest> requests() const;

 private:
  struct Conn;
  void Run();
  // Returns false when the connection is finished with.
  bool Advance(Conn& conn);

  Handler handler_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<int> peer_closes_{0};
  std::atomic<int> requests_received_{0};
  std::atomic<int> responding_{0};
  std::atomic<int> max_responding_{0};
  // std::mutex: TSan cannot see Debian's (uninstrumented) absl::Mutex.
  mutable std::mutex mu_;
  std::vector<TestRequest> requests_;  // guarded by mu_
  std::thread thread_;
};

// Polls `condition` until it holds or `timeout` passes; returns its value.
bool WaitFor(const std::function<bool()>& condition,
             absl::Duration timeout = absl::Seconds(5));

}  // namespace llmgateway::http::testing

#endif  // LLM_GATEWAY_SERVER_HTTP_TEST_HTTP_SERVER_H_
