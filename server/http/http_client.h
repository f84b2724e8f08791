// The gateway's only HTTP client: one event-loop thread owns a libcurl multi
// handle; any thread hands it transfers, resumes and cancels through a queue
// and curl_multi_wakeup. Nothing outside this folder sees curl.
#ifndef LLM_GATEWAY_SERVER_HTTP_HTTP_CLIENT_H_
#define LLM_GATEWAY_SERVER_HTTP_HTTP_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
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
};

struct ResponseHead {
  long status = 0;
  std::vector<HttpHeader> headers;
  // The value of the first header with this (lower-case) name, or nullptr.
  const std::string* Find(absl::string_view lower_name) const;
};

enum class BodyAction {
  kContinue,
  // Stop reading until HttpClient::Resume.
  kPause,
  // Abort the transfer now (e.g. the body says the upstream failed): the
  // connection is closed and OnComplete gets CANCELLED.
  kAbort,
};

// One transfer's events, all delivered on the loop thread, in order: OnHead at
// most once (when the response head is complete), OnBody zero or more times,
// then OnComplete exactly once. After OnComplete returns the client never
// touches the handler again, so OnComplete may free it (or what owns it).
// Handlers must not block: they run on the thread every transfer shares.
class TransferHandler {
 public:
  virtual ~TransferHandler() = default;
  virtual void OnHead(const ResponseHead& head) {}
  // kPause stops reading from the socket (the chunk given is consumed all the
  // same) until HttpClient::Resume.
  virtual BodyAction OnBody(absl::string_view chunk) = 0;
  // OK: a whole response arrived (whatever its HTTP status).
  // CANCELLED: Cancel() or client shutdown. DEADLINE_EXCEEDED: the timeout.
  // UNAVAILABLE: could not connect, or the connection broke mid-response.
  // RESOURCE_EXHAUSTED: a buffered body outgrew its cap.
  // INVALID_ARGUMENT: a request that cannot be sent (malformed URL, a scheme
  // other than http/https, a GET with a body). INTERNAL: curl itself failed.
  virtual void OnComplete(absl::Status transport_status) = 0;
};

// A whole buffered response. body.capacity() >= body.size() + kBodyPadding.
struct HttpResponse {
  ResponseHead head;
  std::string body;
};

class HttpClient {
 public:
  using TransferId = uint64_t;

  struct Options {
    // Connections kept open for reuse (CURLMOPT_MAXCONNECTS).
    int max_idle_connections = 1024;
    // Per-host limit on open connections (0: none); transfers beyond it queue.
    int max_host_connections = 0;
    // Buffered bodies (Fetch) larger than this fail with RESOURCE_EXHAUSTED.
    size_t max_buffered_body_bytes = 64 << 20;
  };

  explicit HttpClient(Options options);
  HttpClient() : HttpClient(Options()) {}
  // Completes every transfer still running with CANCELLED, then joins the loop.
  ~HttpClient();

  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Thread-safe; never blocks on I/O. `handler` must stay alive until its
  // OnComplete has returned.
  TransferId Start(HttpRequest request, TransferHandler* handler);

  // Buffers the whole response and hands it to `done` (on the loop thread).
  TransferId Fetch(HttpRequest request,
                   absl::AnyInvocable<void(absl::StatusOr<HttpResponse>)> done);

  // Thread-safe. Aborts the transfer (its connection is closed, so the
  // upstream sees the client go away) and completes it with CANCELLED. A no-op
  // for a transfer that already completed.
  void Cancel(TransferId id);

  // Thread-safe. Un-pauses a transfer whose handler returned kPause.
  void Resume(TransferId id);

  // Transfers started and not yet completed.
  size_t ActiveTransfers() const;

 private:
  class Loop;
  std::unique_ptr<Loop> loop_;
};

}  // namespace llmgateway::http

#endif  // LLM_GATEWAY_SERVER_HTTP_HTTP_CLIENT_H_
