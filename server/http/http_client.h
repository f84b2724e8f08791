// The gateway's only HTTP client: one event-loop thread owns a libcurl multi
// handle; any thread hands it transfers, resumes, cancels, timers and posted
// work through a queue and an eventfd; curl is driven by socket events
// (curl_multi_socket_action over epoll). Nothing outside this folder sees
// curl.
#ifndef LLM_GATEWAY_SERVER_HTTP_HTTP_CLIENT_H_
#define LLM_GATEWAY_SERVER_HTTP_HTTP_CLIENT_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/http/transport.h"

namespace llmgateway::http {

// A whole buffered response. body.capacity() >= body.size() + kBodyPadding.
struct HttpResponse {
  ResponseHead head;
  std::string body;
};

// Transport's contract holds; what it leaves open is said here.
// - Timers follow a monotonic clock (a wall-clock step does not move them);
//   Now() is absl::Now().
// - Posts are FIFO among themselves, timers go by deadline (ties: the order
//   they were armed); the two are not ordered with each other: each loop
//   round runs the posts it took, then the timers due, so a Post may overtake
//   an earlier RunAfter(0). A timer armed while timers run, at any delay,
//   waits for the next round (after the loop has looked at the sockets
//   again), so a chain of zero-delay timers cannot starve I/O.
// - Shutdown (the destructor): transfers complete CANCELLED, then every posted
//   fn and pending timer runs once, early, on the loop thread, along with the
//   work they post and arm, until none is left (a timer that always re-arms
//   itself therefore keeps the destructor from returning). Starts made then
//   complete CANCELLED. Called after the loop has stopped (a race with the
//   destructor), Start completes, and Post and RunAfter run `fn`, inline on
//   the caller's thread; CancelTimer is then a no-op.
// - CancelTimer off the loop thread (while the loop runs) aborts the process:
//   it could not promise that `fn` does not run.
// - Each request is sent at most once: where curl would send it again (a
//   reused connection found dead, an HTTP/2 stream refused or downgraded, a
//   417 to Expect: 100-continue) the transfer fails UNAVAILABLE instead.
class HttpClient : public Transport {
 public:
  struct Options {
    // Idle connections kept open for reuse. An HTTP/1.1 transfer that starts
    // while this many transfers or more are in flight closes its connection
    // when done; beyond it, curl closes the oldest idle one.
    int max_idle_connections = 1024;
    // Per-host limit on open connections (0: none); transfers beyond it queue.
    int max_host_connections = 0;
    // Buffered bodies (Fetch) larger than this fail with RESOURCE_EXHAUSTED.
    size_t max_buffered_body_bytes = 64 << 20;
  };

  explicit HttpClient(Options options);
  HttpClient() : HttpClient(Options()) {}
  // Completes every transfer still running with CANCELLED, runs what is
  // posted or armed (see above), then joins the loop. Must not run on the loop
  // thread (from a callback): that aborts.
  ~HttpClient() override;

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  TransferId Start(HttpRequest request, TransferHandler* handler) override;

  // Buffers the whole response and hands it to `done` (on the loop thread).
  TransferId Fetch(HttpRequest request,
                   absl::AnyInvocable<void(absl::StatusOr<HttpResponse>)> done);

  void Cancel(TransferId id) override;
  void Resume(TransferId id) override;
  TimerId RunAfter(absl::Duration delay,
                   absl::AnyInvocable<void()> fn) override;
  void CancelTimer(TimerId id) override;
  void Post(absl::AnyInvocable<void()> fn) override;
  absl::Time Now() const override;

  // Transfers started and not yet completed.
  size_t ActiveTransfers() const;

 private:
  class Loop;
  std::unique_ptr<Loop> loop_;
};

}  // namespace llmgateway::http

#endif  // LLM_GATEWAY_SERVER_HTTP_HTTP_CLIENT_H_
