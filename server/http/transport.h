// What the call engine (routing/) needs from an HTTP event loop: transfers
// with streamed bodies, pause/resume and cancel, plus timers and posted work
// that run on the loop thread. HttpClient is the real one; tests drive the
// engine with a fake (no sockets, a manual clock).
#ifndef LLM_GATEWAY_SERVER_HTTP_TRANSPORT_H_
#define LLM_GATEWAY_SERVER_HTTP_TRANSPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace llmgateway::http {

// Callers parse bodies in place with simdjson, which reads up to this many
// bytes past the end: buffered bodies always have this much spare capacity.
inline constexpr size_t kBodyPadding = 64;

struct HttpHeader {
  std::string name;  // lower-cased
  std::string value;
};

struct HttpRequest {
  enum class Method { kGet, kPost };
  Method method = Method::kPost;
  std::string url;
  // "Name: value" lines, as sent.
  std::vector<std::string> headers;
  std::string body;
  // Bounds the whole transfer, connect included. InfiniteDuration: no bound.
  absl::Duration timeout = absl::InfiniteDuration();
  absl::Duration connect_timeout = absl::Seconds(10);
  // The handler may pause the body for long (a stream whose caller reads
  // slowly): sent over HTTP/1.1 only. curl 7.88 keeps reading a paused
  // HTTP/2 stream into memory up to the connection's 32 MiB window; over
  // HTTP/1.1 a pause stops reading the socket and TCP pushes back.
  bool pausable = false;
  // https://: a PEM bundle of the CAs to trust instead of the system's.
  // Empty: the system's. The peer's certificate and host name are always
  // verified.
  std::string ca_file;
};

struct ResponseHead {
  long status = 0;
  std::vector<HttpHeader> headers;
  // The value of the first header with this (lower-case) name, or nullptr.
  const std::string* Find(absl::string_view lower_name) const;
};

enum class BodyAction {
  kContinue,
  // Stop reading until Transport::Resume.
  kPause,
  // Abort the transfer now (e.g. the body says the upstream failed): the
  // connection is closed and OnComplete gets CANCELLED.
  kAbort,
};

// One transfer's events, all delivered on the loop thread, in order: OnHead at
// most once (when the response head is complete), OnBody zero or more times,
// then OnComplete exactly once. After OnComplete returns the transport never
// touches the handler again, so OnComplete may free it (or what owns it).
// Handlers must not block: they run on the thread every transfer shares.
class TransferHandler {
 public:
  virtual ~TransferHandler() = default;
  virtual void OnHead(const ResponseHead& head) {}
  // kPause stops reading from the socket (the chunk given is consumed all the
  // same) until Transport::Resume.
  virtual BodyAction OnBody(absl::string_view chunk) = 0;
  // OK: a whole response arrived (whatever its HTTP status).
  // CANCELLED: Cancel() or shutdown. DEADLINE_EXCEEDED: the timeout.
  // UNAVAILABLE: could not connect, or the connection broke (before or
  // during the response; a request is never re-sent by the transport).
  // RESOURCE_EXHAUSTED: a buffered body outgrew its cap.
  // FAILED_PRECONDITION: the upstream's TLS certificate is not trusted
  // (another try cannot help until the CA is configured).
  // INVALID_ARGUMENT: a request that cannot be sent (malformed URL, a scheme
  // other than http/https, a GET with a body). INTERNAL: curl itself failed.
  // The message is curl's generic text; its specific one (which names the
  // upstream's host and port) rides along as NetworkDetail.
  virtual void OnComplete(absl::Status transport_status) = 0;
};

// curl's own words for a failure name the upstream's address ("Failed to
// connect to 10.0.0.7 port 443 after 3 ms"): operators need them in the log,
// callers must not see them. So they travel as a payload, which the
// upstream error table (providers/upstream_error.h) never copies into the
// status callers get, and the call log reads.
absl::Status WithNetworkDetail(absl::Status status, absl::string_view detail);
// "" when the status carries none.
std::string NetworkDetail(const absl::Status& status);

class Transport {
 public:
  using TransferId = uint64_t;
  using TimerId = uint64_t;

  virtual ~Transport() = default;

  // Thread-safe; never blocks on I/O. `handler` must stay alive until its
  // OnComplete has returned. Each call sends the request at most once.
  virtual TransferId Start(HttpRequest request, TransferHandler* handler) = 0;

  // Thread-safe. Aborts the transfer (its connection is closed, so the
  // upstream sees the client go away) and completes it with CANCELLED. A
  // no-op for a transfer that already completed. Called on the loop thread
  // (from a handler or a timer), no further OnBody reaches the handler.
  virtual void Cancel(TransferId id) = 0;

  // Thread-safe. Un-pauses a transfer whose handler returned kPause.
  virtual void Resume(TransferId id) = 0;

  // Thread-safe. Runs `fn` once on the loop thread, no earlier than `delay`
  // from now (a zero or negative delay: as soon as the loop gets to it).
  // When the transport shuts down, timers still pending run at once, so
  // that nothing waits forever (work they start then completes CANCELLED).
  virtual TimerId RunAfter(absl::Duration delay,
                           absl::AnyInvocable<void()> fn) = 0;

  // Loop thread only. The timer's `fn` is destroyed without running; a
  // no-op for a timer that has run already.
  virtual void CancelTimer(TimerId id) = 0;

  // Thread-safe. Runs `fn` on the loop thread, after the work posted before
  // it (same as RunAfter with zero delay, in posting order).
  virtual void Post(absl::AnyInvocable<void()> fn) = 0;

  // The clock timers follow.
  virtual absl::Time Now() const = 0;
};

}  // namespace llmgateway::http

#endif  // LLM_GATEWAY_SERVER_HTTP_TRANSPORT_H_
