// Ownership and lifetime:
// - HttpClient owns its Loop; the Loop owns the CURLM, the loop thread and
//   every Transfer, first inside a queued Start command (pending_), then in
//   transfers_ (loop thread only) until it completes.
// - A Transfer owns its easy handle, its header list and its HttpRequest (curl
//   reads the URL and the POST body from it, in place), and borrows the
//   TransferHandler.
// - The Loop owns every timer's and posted fn: inside a queued command, then
//   in timers_ / posted_ (loop thread only). A fn is destroyed on the loop
//   thread right after it runs, or by CancelTimer without running; never
//   under mu_ (its destructor may call back into the client).
// - Completion (Finish) erases the Transfer from transfers_, removes the easy
//   handle from the multi (which closes a connection left mid-response),
//   cleans it up, destroys the Transfer, and only then calls OnComplete: the
//   handler may delete itself or start new transfers from there.
// - Fetch's BufferingHandler owns itself and deletes itself in OnComplete.
// - Other threads touch only the command queue (under mu_) and the atomic
//   counters; curl handles, Transfers, timers_ and posted_ are touched on the
//   loop thread only. The calls off the loop thread: a Start that loses a race
//   with the destructor (the loop has already exited) gets
//   OnComplete(CANCELLED) on the caller's thread, inside Start; a Post or
//   RunAfter that loses it runs its fn there, inside the call.
// - Shutdown keeps the loop thread alive until no transfer, command, posted
//   fn or timer is left (see Shutdown), so nothing queued is ever dropped.
// - The destructor joins the loop, so it must not run on the loop thread
//   (from a handler): that aborts.
#include "server/http/http_client.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/http/connection_reuse.h"

namespace llmgateway::http {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kNoBodyCap = std::numeric_limits<size_t>::max();
// The loop waits no longer than curl's next timeout or its own next timer;
// the bound only matters if a wakeup were ever lost.
constexpr int kMaxPollMs = 1000;
// Socket events taken per epoll_wait.
constexpr int kMaxEvents = 256;

// `delay` from now on the loop's clock; saturates instead of overflowing (an
// infinite delay never comes due, except at shutdown).
Clock::time_point DeadlineAfter(absl::Duration delay) {
  const Clock::time_point now = Clock::now();
  if (delay <= absl::ZeroDuration()) return now;
  const Clock::duration headroom = Clock::time_point::max() - now;
  if (delay >= absl::FromChrono(headroom)) return Clock::time_point::max();
  return now + std::chrono::duration_cast<Clock::duration>(
                   absl::ToChronoNanoseconds(delay));
}

void GlobalInitOnce() {
  // curl_global_init is not safe to race with other curl use, so it runs once,
  // before the first loop thread exists; it is never undone (process
  // lifetime).
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    std::fprintf(stderr, "curl_global_init failed: %s\n",
                 curl_easy_strerror(rc));
    std::abort();
  }
}

long CeilMillis(absl::Duration d) {
  const int64_t ms =
      absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1)));
  // curl reads 0 as "no timeout": an expired budget must still time out.
  return static_cast<long>(std::clamp<int64_t>(
      ms, 1, std::numeric_limits<long>::max()));
}

struct Transfer {
  Transfer(HttpRequest req, TransferHandler* h, size_t cap)
      : request(std::move(req)), handler(h), body_cap(cap) {
    errbuf[0] = '\0';
  }
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(header_list);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  HttpClient::TransferId id = 0;
  HttpRequest request;
  TransferHandler* handler;
  const size_t body_cap;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  std::chrono::steady_clock::time_point started;
  // See ConnectionReuse. Set (and counted there) from StartTransfer to
  // completion.
  uint64_t origin = ConnectionReuse::kMultiplexed;
  ConnectionReuse* connections = nullptr;
  ConnectionReuse::Decision reuse;

  ResponseHead head;
  bool head_delivered = false;
  // Set when the write callback returned CURL_WRITEFUNC_PAUSE.
  bool paused = false;
  // Bytes curl will hand to the write callback again after a pause: the
  // handler already has them (see WriteCallback).
  size_t redelivered = 0;
  size_t body_bytes = 0;
  bool cap_exceeded = false;
  // Cancel() was called on the loop thread (from a handler callback): stop
  // delivering at once, without waiting for the queued command.
  bool cancel_requested = false;
  // PrereqCallback has let the request go out once.
  bool request_sent = false;
  // curl wanted to send the request again, and was refused.
  bool resend_refused = false;
  char errbuf[CURL_ERROR_SIZE];
};

// Returns false to abort the transfer (body cap already exceeded).
bool DeliverHead(Transfer& t) {
  if (t.head.status == 0) {
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.head.status);
  }
  if (t.body_cap != kNoBodyCap) {
    uint64_t length = 0;
    const std::string* cl = t.head.Find("content-length");
    if (cl != nullptr && absl::SimpleAtoi(*cl, &length) && length > t.body_cap) {
      t.cap_exceeded = true;
      return false;
    }
  }
  t.head_delivered = true;
  t.handler->OnHead(t.head);
  return true;
}

// curl calls this once per header line, status line and blank line included.
size_t HeaderCallback(char* data, size_t size, size_t nmemb, void* userdata) {
  Transfer& t = *static_cast<Transfer*>(userdata);
  const size_t len = size * nmemb;
  if (t.cancel_requested) return 0;
  // Trailers of a chunked body come here too; the head is already out.
  if (t.head_delivered) return len;
  absl::string_view line = absl::StripTrailingAsciiWhitespace(
      absl::string_view(data, len));
  if (absl::StartsWith(line, "HTTP/")) {
    // A new head: an interim 1xx before it is forgotten.
    t.head.headers.clear();
    t.head.status = 0;
    const size_t sp = line.find(' ');
    if (sp != absl::string_view::npos) {
      absl::string_view code = line.substr(sp + 1, 3);
      int status = 0;
      if (absl::SimpleAtoi(code, &status)) t.head.status = status;
    }
    return len;
  }
  if (line.empty()) {
    if (t.head.status >= 100 && t.head.status < 200) return len;
    return DeliverHead(t) ? len : 0;
  }
  if ((line.front() == ' ' || line.front() == '\t') &&
      !t.head.headers.empty()) {
    // Obsolete line folding: the line continues the previous value.
    std::string& value = t.head.headers.back().value;
    absl::StrAppend(&value, " ", absl::StripAsciiWhitespace(line));
    return len;
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return len;
  HttpHeader& h = t.head.headers.emplace_back();
  h.name = absl::AsciiStrToLower(
      absl::StripTrailingAsciiWhitespace(line.substr(0, colon)));
  h.value = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  return len;
}

// curl_easy_pause's contract (7.88 and current): a write callback that
// returns CURL_WRITEFUNC_PAUSE "could not take care of any data at all", so
// curl keeps the chunk (and anything decoded after it) and delivers it again,
// first, once unpaused, possibly split differently (7.88 concatenates it with
// later data and re-chops at CURL_MAX_WRITE_SIZE). The handler contract is
// that a paused chunk is consumed, so the handler sees it now and the
// re-delivered prefix is skipped by byte count.
size_t WriteCallback(char* data, size_t size, size_t nmemb, void* userdata) {
  Transfer& t = *static_cast<Transfer*>(userdata);
  const size_t len = size * nmemb;
  if (t.cancel_requested) return CURL_WRITEFUNC_ERROR;
  const size_t skip = std::min(t.redelivered, len);
  t.redelivered -= skip;
  if (skip == len) return len;
  const absl::string_view chunk(data + skip, len - skip);
  if (!t.head_delivered && !DeliverHead(t)) return CURL_WRITEFUNC_ERROR;
  t.body_bytes += chunk.size();
  if (t.body_bytes > t.body_cap) {
    t.cap_exceeded = true;
    return CURL_WRITEFUNC_ERROR;
  }
  const BodyAction action = t.handler->OnBody(chunk);
  if (t.cancel_requested) return CURL_WRITEFUNC_ERROR;
  if (action == BodyAction::kAbort) {
    // Completes like a Cancel: the connection is closed, OnComplete gets
    // CANCELLED, and the handler knows why.
    t.cancel_requested = true;
    return CURL_WRITEFUNC_ERROR;
  }
  if (action == BodyAction::kPause) {
    // curl keeps all `len` bytes of this call, the skipped prefix included.
    t.redelivered = len;
    t.paused = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  return len;
}

// Never sending a request twice. curl 7.88 sends a request again by itself
// when a reused connection gave no response byte (the upstream closed it just
// as it was reused) or an HTTP/2 stream is refused (REFUSED_STREAM): up to 5
// times (lib/transfer.c Curl_retry_request); when an HTTP/2 server demands
// HTTP/1.1; and after a 417 answer to "Expect: 100-continue", with no bound
// (a caller-set Expect header survives the retry: thousands of sends).
// A POST may not be safe to repeat, and retrying is the call engine's
// decision (backoff, another upstream), so this guard fails instead: every
// re-send passes through curl's DO state, which calls the pre-request
// callback first, and the second call aborts (CURLE_ABORTED_BY_CALLBACK).
// That holds whatever curl rewound before (a CURLOPT_POSTFIELDS body it
// rewinds by itself) and for bodies of 0 bytes. A refused re-send may already
// have opened a fresh connection; no request goes out on it.
int PrereqCallback(void* clientp, char* /*conn_primary_ip*/,
                   char* /*conn_local_ip*/, int /*conn_primary_port*/,
                   int /*conn_local_port*/) {
  Transfer& t = *static_cast<Transfer*>(clientp);
  if (t.request_sent) {
    t.resend_refused = true;
    return CURL_PREREQFUNC_ABORT;
  }
  t.request_sent = true;
  return CURL_PREREQFUNC_OK;
}

// HTTP/2 is asked for over TLS only, and never for a pausable transfer (see
// Configure): every other transfer is HTTP/1.1, one to a connection.
bool MayMultiplex(const HttpRequest& r) {
  return !r.pausable && absl::StartsWithIgnoreCase(r.url, "https://");
}

// CURLOPT_OPENSOCKETFUNCTION and CLOSESOCKETFUNCTION, for transfers whose
// connections ConnectionReuse counts. The close callback's data is the
// ConnectionReuse, not the Transfer: curl closes a connection long after the
// transfer that opened it is gone.
curl_socket_t OpenSocketCallback(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
  const curl_socket_t fd =
      socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd != CURL_SOCKET_BAD && purpose == CURLSOCKTYPE_IPCXN) {
    const Transfer& t = *static_cast<Transfer*>(clientp);
    t.connections->OnSocketOpened(fd, t.origin);
  }
  return fd;
}

int CloseSocketCallback(void* clientp, curl_socket_t fd) {
  static_cast<ConnectionReuse*>(clientp)->OnSocketClosed(fd);
  return close(fd);
}

// curl reports both budgets running out as CURLE_OPERATION_TIMEDOUT, and its
// timers may fire a millisecond early, so the elapsed time is matched to the
// nearer budget. A connect timeout is UNAVAILABLE: another upstream may do.
bool TimedOutDuringConnect(const Transfer& t) {
  const absl::Duration total = t.request.timeout;
  // Unset, curl's own connect timeout applies (DEFAULT_CONNECT_TIMEOUT).
  const absl::Duration connect =
      t.request.connect_timeout == absl::InfiniteDuration()
          ? absl::Seconds(300)
          : t.request.connect_timeout;
  if (total == absl::InfiniteDuration()) return true;
  if (connect >= total) return false;
  const absl::Duration elapsed =
      absl::FromChrono(std::chrono::steady_clock::now() - t.started);
  return elapsed < (connect + total) / 2;
}

absl::Status TransportStatus(const Transfer& t, CURLcode code) {
  if (code == CURLE_OK) return absl::OkStatus();
  if (t.cap_exceeded) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "response body exceeds the ", t.body_cap, "-byte buffering cap"));
  }
  if (t.cancel_requested) return absl::CancelledError("transfer cancelled");
  if (t.resend_refused) {
    // Connect-class for the call engine: it may retry, here or elsewhere.
    return absl::UnavailableError(
        "the connection closed before the response; not re-sent");
  }
  // Never the request's headers: only curl's descriptions of the failure.
  // The generic one ("Couldn't connect to server") is the message; the
  // specific one (its error buffer, naming host and port) the detail.
  const std::string message = curl_easy_strerror(code);
  auto with_detail = [&](absl::Status status) {
    return WithNetworkDetail(std::move(status), t.errbuf);
  };
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return with_detail(TimedOutDuringConnect(t) ? absl::UnavailableError(message)
                                                  : absl::DeadlineExceededError(message));
    case CURLE_PEER_FAILED_VERIFICATION:
      // Say it plainly: curl's own words ("SSL peer certificate or SSH
      // remote key was not OK") hide that it is about trust.
      return with_detail(
          absl::FailedPreconditionError("the upstream's TLS certificate is not trusted"));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      // Retrying elsewhere cannot help: not UNAVAILABLE.
      return with_detail(absl::InvalidArgumentError(message));
    case CURLE_FAILED_INIT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
    case CURLE_WRITE_ERROR:  // only our callbacks fail writes, with a flag
    case CURLE_ABORTED_BY_CALLBACK:  // likewise (read, pre-request)
      return with_detail(absl::InternalError(message));
    default:
      return with_detail(absl::UnavailableError(message));
  }
}

// Recognises calls made on the loop thread (from a handler, timer or posted
// fn): Cancel marks the transfer at once, RunAfter skips the queue,
// CancelTimer is allowed.
thread_local const void* current_loop = nullptr;

class BufferingHandler final : public TransferHandler {
 public:
  BufferingHandler(size_t cap,
                   absl::AnyInvocable<void(absl::StatusOr<HttpResponse>)> done)
      : cap_(cap), done_(std::move(done)) {}

  void OnHead(const ResponseHead& head) override {
    response_.head = head;
    uint64_t length = 0;
    const std::string* cl = head.Find("content-length");
    // The loop rejects a Content-Length over the cap before OnHead; the check
    // only guards the reserve.
    if (cl != nullptr && absl::SimpleAtoi(*cl, &length) && length <= cap_) {
      response_.body.reserve(length + kBodyPadding);
    }
  }

  BodyAction OnBody(absl::string_view chunk) override {
    response_.body.append(chunk.data(), chunk.size());
    return BodyAction::kContinue;
  }

  void OnComplete(absl::Status transport_status) override {
    if (transport_status.ok()) {
      std::string& body = response_.body;
      if (body.capacity() < body.size() + kBodyPadding) {
        body.reserve(body.size() + kBodyPadding);
      }
      done_(std::move(response_));
    } else {
      done_(std::move(transport_status));
    }
    delete this;
  }

 private:
  const size_t cap_;
  absl::AnyInvocable<void(absl::StatusOr<HttpResponse>)> done_;
  HttpResponse response_;
};

}  // namespace

class HttpClient::Loop {
 public:
  explicit Loop(const Options& options);
  ~Loop();

  TransferId Start(HttpRequest request, TransferHandler* handler,
                   size_t body_cap);
  void Cancel(TransferId id);
  void Resume(TransferId id);
  TimerId RunAfter(absl::Duration delay, absl::AnyInvocable<void()> fn);
  void CancelTimer(TimerId id);
  void Post(absl::AnyInvocable<void()> fn);
  size_t Active() const { return active_.load(std::memory_order_relaxed); }
  size_t max_buffered_body_bytes() const {
    return options_.max_buffered_body_bytes;
  }

 private:
  struct Command {
    enum class Kind { kStart, kCancel, kResume, kTimer, kPost };
    Kind kind;
    uint64_t id;  // the transfer's, or kTimer's own
    std::unique_ptr<Transfer> transfer = nullptr;  // kStart only
    // kTimer, kPost. Null for a kTimer cancelled while queued.
    absl::AnyInvocable<void()> fn = nullptr;
    Clock::time_point deadline = {};  // kTimer only
  };
  // Deadline order; ids break ties in the order the timers were armed.
  using TimerKey = std::pair<Clock::time_point, TimerId>;

  // Queues the command and returns true, unless the loop has stopped: then
  // returns false and leaves `command` as it was.
  bool TryEnqueue(Command& command);
  void Enqueue(Command::Kind kind, TransferId id);
  void Run();
  // Wakes the loop from epoll_wait (any thread).
  void Wake();
  // libcurl's socket and timer callbacks (CURLMOPT_SOCKETFUNCTION,
  // CURLMOPT_TIMERFUNCTION): curl says which sockets to watch and when to
  // call it back, so each round costs what is ready, not every transfer.
  static int OnSocket(CURL* easy, curl_socket_t socket, int what, void* loop, void*);
  static int OnCurlTimer(CURLM* multi, long timeout_ms, void* loop);
  void RunCurlTimeoutIfDue();
  void WaitForEvents();
  void ProcessCommands();
  void Process(Command& command);
  void AddTimer(Clock::time_point deadline, TimerId id,
                absl::AnyInvocable<void()> fn);
  void RunPosted();
  void RunTimers(bool all);
  int PollTimeoutMs() const;
  void StartTransfer(std::unique_ptr<Transfer> t);
  absl::Status Configure(Transfer& t);
  void ResumeTransfer(TransferId id);
  void ReapFinished();
  void Finish(TransferId id, absl::Status status);
  void CompleteUnregistered(std::unique_ptr<Transfer> t, absl::Status status);
  void Shutdown();

  const Options options_;
  // Loop thread only, and ~Loop's curl_multi_cleanup (which closes the
  // cached connections through CloseSocketCallback).
  ConnectionReuse connections_;
  CURLM* const multi_;
  // epoll over curl's sockets and wake_fd_ (an eventfd other threads write).
  const int epoll_fd_;
  const int wake_fd_;

  // Loop thread only.
  absl::flat_hash_map<TransferId, std::unique_ptr<Transfer>> transfers_;
  std::vector<Command> draining_;
  // ReapFinished's, kept for its capacity.
  std::vector<std::pair<TransferId, CURLcode>> finished_;
  std::map<TimerKey, absl::AnyInvocable<void()>> timers_;
  absl::flat_hash_map<TimerId, Clock::time_point> timer_deadlines_;
  std::vector<absl::AnyInvocable<void()>> posted_;
  std::vector<absl::AnyInvocable<void()>> running_posts_;
  bool shutting_down_ = false;
  // When curl wants CURL_SOCKET_TIMEOUT (none: it has no timeout pending).
  std::optional<Clock::time_point> curl_deadline_;

  // std::mutex, not absl::Mutex: Debian's libabsl is built without TSan
  // annotations, so TSan cannot see absl::Mutex and reports every access to
  // what it guards as a race; pthread mutexes it intercepts.
  std::mutex mu_;
  // Guarded by mu_:
  std::vector<Command> pending_;
  TransferId next_id_ = 1;
  bool shutdown_requested_ = false;
  bool stopped_ = false;  // the loop has exited: nothing drains pending_

  std::atomic<size_t> active_{0};
  // Atomic rather than under mu_: RunAfter on the loop thread takes no lock.
  std::atomic<TimerId> next_timer_id_{1};
  std::thread thread_;
};

HttpClient::Loop::Loop(const Options& options)
    : options_(options),
      connections_(static_cast<size_t>(std::max(options.max_idle_connections, 0)),
                   options.max_host_connections > 0),
      multi_((GlobalInitOnce(), curl_multi_init())),
      epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (multi_ == nullptr || epoll_fd_ < 0 || wake_fd_ < 0) {
    std::fprintf(stderr, "HttpClient: curl_multi_init, epoll_create1 or eventfd failed\n");
    std::abort();
  }
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.fd = wake_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Loop::OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Loop::OnCurlTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, connections_.MaxConnects());
  if (options_.max_host_connections > 0) {
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(options_.max_host_connections));
  }
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING,
                    static_cast<long>(CURLPIPE_MULTIPLEX));
  thread_ = std::thread([this] { Run(); });
}

HttpClient::Loop::~Loop() {
  if (current_loop == this) {
    // Joining itself would deadlock; this is a caller bug.
    std::fprintf(stderr,
                 "HttpClient destroyed from one of its own callbacks\n");
    std::abort();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_requested_ = true;
    Wake();
  }
  thread_.join();
  // May still tell OnSocket to forget cached connections' sockets.
  curl_multi_cleanup(multi_);
  close(wake_fd_);
  close(epoll_fd_);
}

void HttpClient::Loop::Wake() {
  const uint64_t one = 1;
  // EAGAIN (the counter is full) still leaves the loop readable: fine.
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

int HttpClient::Loop::OnSocket(CURL*, curl_socket_t socket, int what, void* loop_ptr, void*) {
  Loop* const loop = static_cast<Loop*>(loop_ptr);
  if (what == CURL_POLL_REMOVE) {
    // The socket may be closed already (ENOENT/EBADF): nothing to undo.
    epoll_ctl(loop->epoll_fd_, EPOLL_CTL_DEL, socket, nullptr);
    return 0;
  }
  epoll_event event{};
  event.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  event.data.fd = socket;
  if (epoll_ctl(loop->epoll_fd_, EPOLL_CTL_MOD, socket, &event) != 0 && errno == ENOENT) {
    epoll_ctl(loop->epoll_fd_, EPOLL_CTL_ADD, socket, &event);
  }
  return 0;
}

int HttpClient::Loop::OnCurlTimer(CURLM*, long timeout_ms, void* loop_ptr) {
  Loop* const loop = static_cast<Loop*>(loop_ptr);
  // Only noted here: curl must not be re-entered from its own callback.
  if (timeout_ms < 0) {
    loop->curl_deadline_.reset();
  } else {
    loop->curl_deadline_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

HttpClient::TransferId HttpClient::Loop::Start(HttpRequest request,
                                               TransferHandler* handler,
                                               size_t body_cap) {
  auto t = std::make_unique<Transfer>(std::move(request), handler, body_cap);
  TransferId id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_id_++;
    if (!stopped_) {
      t->id = id;
      active_.fetch_add(1, std::memory_order_relaxed);
      const bool was_empty = pending_.empty();
      pending_.push_back(Command{Command::Kind::kStart, id, std::move(t)});
      // Under mu_, so the eventfd cannot be closed in between (the loop
      // sets stopped_ under mu_ before the destructor gets to close it). A
      // non-empty queue already has a wakeup on its way.
      if (was_empty) Wake();
      return id;
    }
  }
  // No loop left to run it (Start raced with the destructor).
  handler->OnComplete(absl::CancelledError("HTTP client is shut down"));
  return id;
}

bool HttpClient::Loop::TryEnqueue(Command& command) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return false;
  const bool was_empty = pending_.empty();
  pending_.push_back(std::move(command));
  // See Start. From the loop thread too: the wakeup keeps the coming
  // epoll_wait from sleeping on a command it has not taken yet.
  if (was_empty) Wake();
  return true;
}

void HttpClient::Loop::Enqueue(Command::Kind kind, TransferId id) {
  Command command{kind, id};
  // After stop every transfer has completed: Cancel/Resume are no-ops.
  TryEnqueue(command);
}

void HttpClient::Loop::Cancel(TransferId id) {
  if (current_loop == this) {
    // From a handler or timer on the loop thread: curl may be in the middle
    // of a read, so only mark it; the callbacks then abort the transfer
    // before any more data reaches the handler.
    auto it = transfers_.find(id);
    if (it != transfers_.end()) it->second->cancel_requested = true;
  }
  // Also queued: a paused or idle transfer gets no callback to abort from.
  Enqueue(Command::Kind::kCancel, id);
}

void HttpClient::Loop::Resume(TransferId id) {
  Enqueue(Command::Kind::kResume, id);
}

HttpClient::TimerId HttpClient::Loop::RunAfter(absl::Duration delay,
                                               absl::AnyInvocable<void()> fn) {
  // The deadline is fixed now, so time spent in the queue counts.
  const Clock::time_point deadline = DeadlineAfter(delay);
  const TimerId id = next_timer_id_.fetch_add(1, std::memory_order_relaxed);
  if (current_loop == this) {
    // The poll timeout is worked out after every callback of the round, so
    // it sees this timer without a wakeup.
    AddTimer(deadline, id, std::move(fn));
    return id;
  }
  Command command{Command::Kind::kTimer, id, nullptr, std::move(fn), deadline};
  if (!TryEnqueue(command)) {
    // The loop has stopped (a race with the destructor): shutdown runs
    // pending timers early, and so does this.
    std::move(command.fn)();
  }
  return id;
}

void HttpClient::Loop::CancelTimer(TimerId id) {
  // Destroyed last, outside any lock: its destructor may call the client.
  absl::AnyInvocable<void()> doomed;
  if (current_loop != this) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Every timer has run (shutdown runs them all): nothing to cancel. A
      // fn run inline after the stop may get here.
      if (stopped_) return;
    }
    std::fprintf(stderr, "HttpClient::CancelTimer called off the loop thread\n");
    std::abort();
  }
  auto d = timer_deadlines_.find(id);
  if (d != timer_deadlines_.end()) {
    auto it = timers_.find(TimerKey{d->second, id});
    doomed = std::move(it->second);
    timers_.erase(it);
    timer_deadlines_.erase(d);
    return;
  }
  // Not armed: it ran, was cancelled, or was armed from another thread and is
  // still queued (ProcessCommands arms every queued timer before any callback
  // runs, so only commands queued since then can be here).
  std::lock_guard<std::mutex> lock(mu_);
  for (Command& command : pending_) {
    if (command.kind == Command::Kind::kTimer && command.id == id) {
      doomed = std::move(command.fn);
      command.fn = nullptr;
      break;
    }
  }
}

void HttpClient::Loop::Post(absl::AnyInvocable<void()> fn) {
  // Always through the queue, from the loop thread too: one queue is what
  // keeps posts FIFO across threads.
  Command command{Command::Kind::kPost, 0, nullptr, std::move(fn)};
  if (!TryEnqueue(command)) std::move(command.fn)();  // the loop has stopped
}

void HttpClient::Loop::Run() {
  current_loop = this;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shutdown_requested_) break;
      draining_.swap(pending_);
    }
    ProcessCommands();
    RunCurlTimeoutIfDue();
    ReapFinished();
    RunPosted();
    RunTimers(/*all=*/false);
    WaitForEvents();
    ReapFinished();
  }
  Shutdown();
  current_loop = nullptr;
}

void HttpClient::Loop::RunCurlTimeoutIfDue() {
  if (!curl_deadline_.has_value() || *curl_deadline_ > Clock::now()) return;
  curl_deadline_.reset();
  int running = 0;
  curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
}

void HttpClient::Loop::WaitForEvents() {
  epoll_event events[kMaxEvents];
  const int n = epoll_wait(epoll_fd_, events, kMaxEvents, PollTimeoutMs());
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == wake_fd_) {
      uint64_t count = 0;
      [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof(count));
      continue;
    }
    const uint32_t e = events[i].events;
    // A hang-up or error is read as such by curl's next recv.
    const int action = ((e & (EPOLLIN | EPOLLHUP | EPOLLERR)) ? CURL_CSELECT_IN : 0) |
                       ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                       ((e & EPOLLERR) ? CURL_CSELECT_ERR : 0);
    int running = 0;
    curl_multi_socket_action(multi_, fd, action, &running);
  }
  // curl's timeouts also drive connects, retries of name resolution and
  // unpaused transfers.
  RunCurlTimeoutIfDue();
}

void HttpClient::Loop::ProcessCommands() {
  // Timers and posts first: taking them runs no callback, so by the time a
  // command below calls a handler (a Start that fails at once), every timer
  // queued so far is in timers_, where CancelTimer finds it.
  for (Command& command : draining_) {
    if (command.kind == Command::Kind::kTimer) {
      if (command.fn != nullptr) {
        AddTimer(command.deadline, command.id, std::move(command.fn));
      }
    } else if (command.kind == Command::Kind::kPost) {
      posted_.push_back(std::move(command.fn));
    }
  }
  for (Command& command : draining_) Process(command);
  draining_.clear();
}

void HttpClient::Loop::Process(Command& command) {
  switch (command.kind) {
    case Command::Kind::kStart:
      if (shutting_down_) {
        CompleteUnregistered(
            std::move(command.transfer),
            absl::CancelledError("HTTP client shutting down"));
      } else {
        StartTransfer(std::move(command.transfer));
      }
      break;
    case Command::Kind::kCancel:
      // Unknown id: it completed already, and completion won the race.
      if (transfers_.contains(command.id)) {
        Finish(command.id, absl::CancelledError("transfer cancelled"));
      }
      break;
    case Command::Kind::kResume:
      ResumeTransfer(command.id);
      break;
    case Command::Kind::kTimer:
    case Command::Kind::kPost:
      break;  // taken by ProcessCommands
  }
}

void HttpClient::Loop::AddTimer(Clock::time_point deadline, TimerId id,
                                absl::AnyInvocable<void()> fn) {
  timers_.emplace(TimerKey{deadline, id}, std::move(fn));
  timer_deadlines_.emplace(id, deadline);
}

void HttpClient::Loop::RunPosted() {
  // The posts taken this round; those they make wait in pending_ for the
  // next one (behind anything other threads posted meanwhile).
  running_posts_.swap(posted_);
  for (absl::AnyInvocable<void()>& fn : running_posts_) {
    absl::AnyInvocable<void()> run = std::move(fn);
    run();
  }
  running_posts_.clear();
}

void HttpClient::Loop::RunTimers(bool all) {
  const Clock::time_point now =
      all ? Clock::time_point::max() : Clock::now();
  // Timers armed while these run (ids from here on) wait for the next round,
  // even with a deadline already past: a timer re-arming itself at zero delay
  // must not keep the loop from its sockets. They sort after every timer due
  // now (their deadlines are later, or equal with a larger id), so stopping
  // at the first of them skips no earlier one.
  const TimerId first_new = next_timer_id_.load(std::memory_order_relaxed);
  // Re-reads begin() each time: a fn may arm or cancel timers.
  while (!timers_.empty()) {
    auto it = timers_.begin();
    if (it->first.first > now || it->first.second >= first_new) break;
    absl::AnyInvocable<void()> fn = std::move(it->second);
    timer_deadlines_.erase(it->first.second);
    timers_.erase(it);
    fn();
  }
}

int HttpClient::Loop::PollTimeoutMs() const {
  std::optional<Clock::time_point> next = curl_deadline_;
  if (!timers_.empty() && (!next.has_value() || timers_.begin()->first.first < *next)) {
    next = timers_.begin()->first.first;
  }
  if (!next.has_value()) return kMaxPollMs;
  const Clock::duration left = *next - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  // Rounded up: waking before the deadline would only spin.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, kMaxPollMs));
}

void HttpClient::Loop::StartTransfer(std::unique_ptr<Transfer> t) {
  t->easy = curl_easy_init();
  if (t->easy == nullptr) {
    CompleteUnregistered(std::move(t),
                         absl::InternalError("curl_easy_init failed"));
    return;
  }
  if (!MayMultiplex(t->request)) t->origin = ConnectionReuse::OriginKey(t->request.url);
  t->connections = &connections_;
  t->reuse = connections_.OnStart(t->origin);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, connections_.MaxConnects());
  absl::Status status = Configure(*t);
  if (!status.ok()) {
    CompleteUnregistered(std::move(t), std::move(status));
    return;
  }
  t->started = std::chrono::steady_clock::now();
  const CURLMcode mc = curl_multi_add_handle(multi_, t->easy);
  if (mc != CURLM_OK) {
    CompleteUnregistered(
        std::move(t),
        absl::InternalError(absl::StrCat("curl_multi_add_handle: ",
                                         curl_multi_strerror(mc))));
    return;
  }
  const TransferId id = t->id;
  transfers_.emplace(id, std::move(t));
}

absl::Status HttpClient::Loop::Configure(Transfer& t) {
  CURL* const e = t.easy;
  const HttpRequest& r = t.request;
  if (r.method == HttpRequest::Method::kGet && !r.body.empty()) {
    return absl::InvalidArgumentError("a GET request cannot carry a body");
  }
  bool has_expect = false;
  bool has_content_type = false;
  for (const std::string& line : r.headers) {
    has_expect = has_expect || absl::StartsWithIgnoreCase(line, "expect:");
    has_content_type =
        has_content_type || absl::StartsWithIgnoreCase(line, "content-type:");
    t.header_list = curl_slist_append(t.header_list, line.c_str());
  }
  // An empty "Name:" removes curl's default. No 100-continue round trip.
  if (!has_expect) t.header_list = curl_slist_append(t.header_list, "Expect:");
  // No made-up form content type on a POST the caller did not label.
  if (!has_content_type && r.method == HttpRequest::Method::kPost) {
    t.header_list = curl_slist_append(t.header_list, "Content-Type:");
  }
  if (t.header_list == nullptr) {
    return absl::InternalError("curl_slist_append failed");
  }

  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, option, value);
  };
  set(CURLOPT_PRIVATE, static_cast<void*>(&t));
  set(CURLOPT_ERRORBUFFER, t.errbuf);
  set(CURLOPT_URL, r.url.c_str());
  // Provider URLs come from configuration: never file:// and the like.
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_TCP_NODELAY, 1L);
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_HTTP_VERSION, static_cast<long>(r.pausable ? CURL_HTTP_VERSION_1_1
                                                          : CURL_HTTP_VERSION_2TLS));
  if (MayMultiplex(r)) {
    // Wait for a connection still in its TLS handshake (ALPN may say h2)
    // rather than open another. Not for http://: curl 7.88 then parks every
    // further transfer to the host until one of them finishes (the HTTP/1.1
    // status line marks the host "no multiplex" without waking them), so a
    // long stream would serialise the host behind it.
    set(CURLOPT_PIPEWAIT, 1L);
  }
  // curl's defaults, said out loud: the upstream's certificate must chain to
  // a trusted CA and name the host. Nothing in the gateway turns them off.
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (!r.ca_file.empty()) set(CURLOPT_CAINFO, r.ca_file.c_str());
  set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  if (t.origin != ConnectionReuse::kMultiplexed) {
    set(CURLOPT_OPENSOCKETFUNCTION, &OpenSocketCallback);
    set(CURLOPT_OPENSOCKETDATA, static_cast<void*>(&t));
    set(CURLOPT_CLOSESOCKETFUNCTION, &CloseSocketCallback);
    set(CURLOPT_CLOSESOCKETDATA, static_cast<void*>(t.connections));
    if (t.reuse.fresh_connect) set(CURLOPT_FRESH_CONNECT, 1L);
    if (t.reuse.forbid_reuse) set(CURLOPT_FORBID_REUSE, 1L);
  }
  // No CURLOPT_ACCEPT_ENCODING: decompression would let a paused transfer's
  // buffered data grow well past what was read off the socket.
  set(CURLOPT_HTTPHEADER, t.header_list);
  set(CURLOPT_HEADERFUNCTION, &HeaderCallback);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
  set(CURLOPT_WRITEFUNCTION, &WriteCallback);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  // Every method: curl re-sends GETs too (see PrereqCallback).
  set(CURLOPT_PREREQFUNCTION, &PrereqCallback);
  set(CURLOPT_PREREQDATA, static_cast<void*>(&t));
  if (r.timeout != absl::InfiniteDuration()) {
    set(CURLOPT_TIMEOUT_MS, CeilMillis(r.timeout));
  }
  if (r.connect_timeout != absl::InfiniteDuration()) {
    set(CURLOPT_CONNECTTIMEOUT_MS, CeilMillis(r.connect_timeout));
  }
  if (r.method == HttpRequest::Method::kGet) {
    set(CURLOPT_HTTPGET, 1L);
  } else {
    // The body in place (the Transfer owns it, curl does not copy it
    // first). curl puts one under 64 KiB in the same send as the head: one
    // syscall and one segment, where a read callback's body always went out
    // in a send of its own. Never re-sent: see PrereqCallback.
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    set(CURLOPT_POSTFIELDS, r.body.data());
  }
  if (rc != CURLE_OK) {
    return absl::InternalError(
        absl::StrCat("curl_easy_setopt: ", curl_easy_strerror(rc)));
  }
  return absl::OkStatus();
}

void HttpClient::Loop::ResumeTransfer(TransferId id) {
  auto it = transfers_.find(id);
  // Unknown: completed. Not paused: nothing to do (a Resume may overtake
  // nothing, or arrive after the handler already resumed).
  if (it == transfers_.end() || !it->second->paused) return;
  Transfer& t = *it->second;
  t.paused = false;
  // May call WriteCallback right here with the data held since the pause.
  const CURLcode rc = curl_easy_pause(t.easy, CURLPAUSE_CONT);
  if (rc != CURLE_OK) {
    // A callback refused the re-delivered data (cap, cancel) or curl failed:
    // curl does not end the transfer by itself in that case.
    Finish(id, TransportStatus(t, rc));
  }
}

void HttpClient::Loop::ReapFinished() {
  // Every message is read before any handle is removed: curl 7.88's
  // curl_multi_remove_handle walks the messages still queued, which made
  // reaping N transfers that ended together O(N^2).
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    char* priv = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    finished_.emplace_back(reinterpret_cast<Transfer*>(priv)->id, msg->data.result);
  }
  // By id: a handler's OnComplete may start transfers, never end one (a
  // Cancel from it is queued), so each is still registered here.
  for (const auto& [id, code] : finished_) {
    Transfer& t = *transfers_.at(id);
    // A whole response always had a head; this covers the unexpected.
    if (code == CURLE_OK && !t.head_delivered) DeliverHead(t);
    Finish(id, TransportStatus(t, code));
  }
  finished_.clear();
}

void HttpClient::Loop::Finish(TransferId id, absl::Status status) {
  auto it = transfers_.find(id);
  std::unique_ptr<Transfer> t = std::move(it->second);
  transfers_.erase(it);
  // Closes the connection of an unfinished HTTP/1 transfer (a reset stream
  // on HTTP/2): the upstream sees the client leave now.
  curl_multi_remove_handle(multi_, t->easy);
  CompleteUnregistered(std::move(t), std::move(status));
}

void HttpClient::Loop::CompleteUnregistered(std::unique_ptr<Transfer> t,
                                            absl::Status status) {
  TransferHandler* const handler = t->handler;
  if (t->connections != nullptr) {
    connections_.OnFinish(t->origin);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, connections_.MaxConnects());
  }
  t.reset();  // curl_easy_cleanup, before the handler hears of it.
  active_.fetch_sub(1, std::memory_order_relaxed);
  handler->OnComplete(std::move(status));
}

// Nothing queued is dropped and no fn waits forever: transfers complete
// CANCELLED, then rounds run until no command, posted fn or timer is left.
// Each round takes the queue (Starts complete CANCELLED, timers are armed),
// runs the posted fns, then every armed timer at once, whatever its deadline;
// what those post, arm or start is taken by the next round. Only then is
// stopped_ set: from there Start, Post and RunAfter complete inline.
void HttpClient::Loop::Shutdown() {
  shutting_down_ = true;
  std::vector<TransferId> ids;
  ids.reserve(transfers_.size());
  for (const auto& [id, t] : transfers_) ids.push_back(id);
  for (TransferId id : ids) {
    Finish(id, absl::CancelledError("HTTP client shutting down"));
  }
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_.empty() && posted_.empty() && timers_.empty()) {
        stopped_ = true;
        break;
      }
      draining_.swap(pending_);
    }
    ProcessCommands();
    RunPosted();
    RunTimers(/*all=*/true);
  }
}

HttpClient::HttpClient(Options options)
    : loop_(std::make_unique<Loop>(options)) {}

HttpClient::~HttpClient() = default;

HttpClient::TransferId HttpClient::Start(HttpRequest request,
                                         TransferHandler* handler) {
  return loop_->Start(std::move(request), handler, kNoBodyCap);
}

HttpClient::TransferId HttpClient::Fetch(
    HttpRequest request,
    absl::AnyInvocable<void(absl::StatusOr<HttpResponse>)> done) {
  const size_t cap = loop_->max_buffered_body_bytes();
  return loop_->Start(std::move(request),
                      new BufferingHandler(cap, std::move(done)), cap);
}

void HttpClient::Cancel(TransferId id) { loop_->Cancel(id); }

void HttpClient::Resume(TransferId id) { loop_->Resume(id); }

HttpClient::TimerId HttpClient::RunAfter(absl::Duration delay,
                                         absl::AnyInvocable<void()> fn) {
  return loop_->RunAfter(delay, std::move(fn));
}

void HttpClient::CancelTimer(TimerId id) { loop_->CancelTimer(id); }

void HttpClient::Post(absl::AnyInvocable<void()> fn) {
  loop_->Post(std::move(fn));
}

absl::Time HttpClient::Now() const { return absl::Now(); }

size_t HttpClient::ActiveTransfers() const { return loop_->Active(); }

}  // namespace llmgateway::http
