// fast_upstream: a minimal OpenAI-compatible upstream for benchmarks.
//
// `POST /v1/chat/completions` (or `/chat/completions`) is answered, after a
// fixed --delay_ms, with a small chat.completion JSON; the request body is
// read (Content-Length) and otherwise ignored, except for `"stream": true`:
// such a request gets, at once, an SSE response head (text/event-stream,
// chunked) and then --stream_deltas chat.completion.chunk events paced
// evenly over --stream_ms (delta i at i * stream_ms / stream_deltas; its
// content is "t<i> "), then, at stream_ms, a chunk with finish_reason "stop"
// and usage, and `data: [DONE]`.
//
// HTTP/1.1 keep-alive, one thread: epoll for the sockets, one timerfd for
// every deadline (delayed replies and the next event of each stream), kept
// in a min-heap of (deadline, connection). Stream events due within
// --timer_slack_us fire together, so 10,000 streams at 10 events/s each cost
// at most one timer wake-up per slack period, not one per event; unary
// replies keep their exact delay.
//
// `GET /_stats` answers at once with {"requests","streams","in_flight",
// "peak_in_flight","connections","peak_connections"} (chat requests only,
// streamed ones counted in both; in_flight counts from a request read to
// its reply, or its stream's last chunk, written); `DELETE /_stats` first resets the two peaks to
// the current values. SIGTERM/SIGINT print the same figures to stdout and exit 0.
//
// Usage: fast_upstream [--port=0] [--delay_ms=50] [--stream_deltas=50]
//                      [--stream_ms=5000] [--timer_slack_us=1000]
// Prints "listening on 127.0.0.1:PORT" once it accepts connections.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"

ABSL_FLAG(int, port, 0, "TCP port on 127.0.0.1 (0 picks a free one).");
ABSL_FLAG(int, delay_ms, 50, "Delay before each chat completion is answered.");
ABSL_FLAG(int, stream_deltas, 50, "Streamed requests: content deltas per stream.");
ABSL_FLAG(int, stream_ms, 5000,
          "Streamed requests: the deltas are paced evenly over this, then the stream ends.");
ABSL_FLAG(int, timer_slack_us, 1000,
          "Stream events due this soon are sent with the ones firing (fewer wake-ups).");

namespace {

constexpr size_t kMaxHeadBytes = 64 << 10;
constexpr size_t kMaxBodyBytes = 64 << 20;

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "fast_upstream: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct Conn {
  int fd = -1;
  uint64_t gen = 0;
  std::string in;   // bytes read, not yet consumed
  std::string out;  // reply being written
  size_t out_off = 0;
  bool waiting = false;           // a chat request sits in the timer queue
  bool stream_requested = false;  // the request being parsed said "stream": true
  bool streaming = false;         // an SSE answer is being paced out
  int next_delta = 0;             // the stream's next event
  int64_t stream_start_ns = 0;
  uint64_t stream_id = 0;
  bool chat_in_flight = false;
  bool close_after = false;
  bool want_out = false;  // EPOLLOUT registered
};

struct Timer {
  int64_t deadline_ns;
  int fd;
  uint64_t gen;
  bool paced;  // a stream's next event (may fire up to the slack early)
  bool operator>(const Timer& other) const { return deadline_ns > other.deadline_ns; }
};

// Whether a JSON body has "stream": true at some level. A byte scan, not a
// parser: the gateway's bodies put it at the top level, and a prompt that
// contains the text `"stream": true` arrives escaped (\"stream\").
bool WantsStream(std::string_view body) {
  for (size_t at = body.find("\"stream\""); at != std::string_view::npos;
       at = body.find("\"stream\"", at + 1)) {
    if (at > 0 && body[at - 1] == '\\') continue;
    size_t i = at + 8;
    while (i < body.size() &&
           (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r')) {
      ++i;
    }
    if (i >= body.size() || body[i] != ':') continue;
    ++i;
    while (i < body.size() &&
           (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r')) {
      ++i;
    }
    if (body.substr(i, 4) == "true") return true;
  }
  return false;
}

// What ParseRequest found at the front of a connection's input.
enum class Parsed {
  kIncomplete,
  kChat,
  kStats,
  kResetStats,
  kHealth,
  kNotFound,
  kBad,
  kTooLarge,
  kChunked
};

class Server {
 public:
  Server(int port, int delay_ms, int stream_deltas, int stream_ms, int timer_slack_us)
      : delay_ns_(int64_t{delay_ms} * 1000000),
        stream_deltas_(std::max(stream_deltas, 0)),
        stream_ns_(int64_t{std::max(stream_ms, 0)} * 1000000),
        slack_ns_(int64_t{std::max(timer_slack_us, 0)} * 1000) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) Die("socket");
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) Die("bind");
    if (listen(listen_fd_, 4096) != 0) Die("listen");
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);

    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) Die("epoll_create1");
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_fd_ < 0) Die("timerfd_create");
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigprocmask(SIG_BLOCK, &signals, nullptr);
    signal_fd_ = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) Die("signalfd");
    for (int fd : {listen_fd_, timer_fd_, signal_fd_}) Watch(fd, EPOLL_CTL_ADD, EPOLLIN);
  }

  int port() const { return port_; }

  void Run() {
    std::vector<epoll_event> events(1024);
    for (;;) {
      const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        Die("epoll_wait");
      }
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        const uint32_t ev = events[i].events;
        if (fd == listen_fd_) {
          Accept();
        } else if (fd == timer_fd_) {
          FireTimers();
        } else if (fd == signal_fd_) {
          std::printf("fast_upstream: %s\n", StatsJson().c_str());
          std::fflush(stdout);
          return;
        } else if (Conn* c = Find(fd)) {
          if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            if (!ReadAll(*c)) {
              Close(*c);
              continue;
            }
          }
          Drive(*c);
        }
      }
    }
  }

 private:
  void Watch(int fd, int op, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd_, op, fd, &ev) != 0) Die("epoll_ctl");
  }

  Conn* Find(int fd) {
    return fd >= 0 && static_cast<size_t>(fd) < conns_.size() ? conns_[fd].get() : nullptr;
  }

  void Accept() {
    for (;;) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        if (errno == EMFILE || errno == ENFILE) {
          std::fprintf(stderr, "fast_upstream: accept: %s\n", std::strerror(errno));
          return;  // the client's connect stays in the backlog
        }
        if (errno == ECONNABORTED) continue;
        Die("accept4");
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (static_cast<size_t>(fd) >= conns_.size()) conns_.resize(fd + 1);
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      c->gen = ++next_gen_;
      conns_[fd] = std::move(c);
      Watch(fd, EPOLL_CTL_ADD, EPOLLIN);
      peak_connections_ = std::max(peak_connections_, ++connections_);
    }
  }

  void Close(Conn& c) {
    if (c.chat_in_flight) --in_flight_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    --connections_;
    conns_[c.fd].reset();  // a queued timer for it no longer matches
  }

  // Reads what the socket has. False: the peer closed or the socket failed.
  bool ReadAll(Conn& c) {
    char buf[16384];
    for (;;) {
      const ssize_t n = read(c.fd, buf, sizeof(buf));
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        if (c.in.size() > kMaxHeadBytes + kMaxBodyBytes) return false;
        if (static_cast<size_t>(n) < sizeof(buf)) return true;
        continue;
      }
      if (n == 0) return false;
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
  }

  // Consumes one request from the front of c.in, if it is all there.
  Parsed ParseRequest(Conn& c) {
    const size_t head_end = c.in.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      return c.in.size() > kMaxHeadBytes ? Parsed::kTooLarge : Parsed::kIncomplete;
    }
    std::string_view head(c.in.data(), head_end);
    const size_t line_end = head.find("\r\n");
    const std::string_view request_line = head.substr(0, line_end);
    const size_t sp1 = request_line.find(' ');
    const size_t sp2 = request_line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) return Parsed::kBad;
    const std::string_view method = request_line.substr(0, sp1);
    std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = request_line.substr(sp2 + 1);
    if (version != "HTTP/1.1" && version != "HTTP/1.0") return Parsed::kBad;
    bool close = version == "HTTP/1.0";
    size_t content_length = 0;
    bool chunked = false;
    std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
    while (!rest.empty()) {
      const size_t eol = rest.find("\r\n");
      const std::string_view line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? "" : rest.substr(eol + 2);
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) return Parsed::kBad;
      const std::string_view name = line.substr(0, colon);
      const std::string_view value = Trim(line.substr(colon + 1));
      if (EqualsIgnoreCase(name, "content-length")) {
        if (value.empty() || value.size() > 12) return Parsed::kBad;
        content_length = 0;
        for (char ch : value) {
          if (ch < '0' || ch > '9') return Parsed::kBad;
          content_length = content_length * 10 + static_cast<size_t>(ch - '0');
        }
      } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
        chunked = true;
      } else if (EqualsIgnoreCase(name, "connection")) {
        if (EqualsIgnoreCase(value, "close")) close = true;
        if (EqualsIgnoreCase(value, "keep-alive")) close = false;
      }
    }
    if (chunked) return Parsed::kChunked;
    if (content_length > kMaxBodyBytes) return Parsed::kTooLarge;
    const size_t total = head_end + 4 + content_length;
    if (c.in.size() < total) return Parsed::kIncomplete;
    if (const size_t q = target.find('?'); q != std::string_view::npos)
      target = target.substr(0, q);
    Parsed result = Parsed::kNotFound;
    if (method == "POST" && (target == "/v1/chat/completions" || target == "/chat/completions")) {
      result = Parsed::kChat;
    } else if (method == "GET" && target == "/_stats") {
      result = Parsed::kStats;
    } else if (method == "DELETE" && target == "/_stats") {
      result = Parsed::kResetStats;
    } else if (method == "GET" && target == "/healthz") {
      result = Parsed::kHealth;
    }
    c.close_after = close;
    c.stream_requested = result == Parsed::kChat &&
                         WantsStream(std::string_view(c.in.data() + head_end + 4, content_length));
    c.in.erase(0, total);
    return result;
  }

  void SetReply(Conn& c, int status, std::string_view reason, std::string_view body) {
    char head[256];
    const int n = std::snprintf(head, sizeof(head),
                                "HTTP/1.1 %d %.*s\r\nContent-Type: application/json\r\n"
                                "Content-Length: %zu\r\n%s\r\n",
                                status, static_cast<int>(reason.size()), reason.data(), body.size(),
                                c.close_after ? "Connection: close\r\n" : "");
    c.out.assign(head, static_cast<size_t>(n));
    c.out.append(body.data(), body.size());
    c.out_off = 0;
  }

  void SetChatReply(Conn& c) {
    char body[512];
    const int n = std::snprintf(
        body, sizeof(body),
        "{\"id\":\"chatcmpl-bench-%llu\",\"object\":\"chat.completion\",\"created\":%lld,"
        "\"model\":\"fast-upstream\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
        "\"assistant\",\"content\":\"Hello from fast_upstream.\"},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":5,\"total_tokens\":13}}",
        static_cast<unsigned long long>(requests_), static_cast<long long>(time(nullptr)));
    SetReply(c, 200, "OK", std::string_view(body, static_cast<size_t>(n)));
  }

  std::string StatsJson() const {
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "{\"requests\":%llu,\"streams\":%llu,\"in_flight\":%lld,"
                  "\"peak_in_flight\":%lld,\"connections\":%lld,\"peak_connections\":%lld}",
                  static_cast<unsigned long long>(requests_),
                  static_cast<unsigned long long>(streams_), static_cast<long long>(in_flight_),
                  static_cast<long long>(peak_in_flight_), static_cast<long long>(connections_),
                  static_cast<long long>(peak_connections_));
    return buf;
  }

  // Writes what is pending, then takes the next request; closes when done.
  void Drive(Conn& c) {
    for (;;) {
      if (c.out_off < c.out.size()) {
        const ssize_t n = write(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!c.want_out) {
              c.want_out = true;
              Watch(c.fd, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT);
            }
            return;
          }
          Close(c);
          return;
        }
        c.out_off += static_cast<size_t>(n);
        continue;
      }
      if (!c.out.empty()) {  // a reply (or a stream's events so far) went out in full
        c.out.clear();
        c.out_off = 0;
        if (c.streaming) {  // more events to come on their timers
          if (c.want_out) {
            c.want_out = false;
            Watch(c.fd, EPOLL_CTL_MOD, EPOLLIN);
          }
          return;
        }
        if (c.chat_in_flight) {
          c.chat_in_flight = false;
          --in_flight_;
        }
        if (c.close_after) {
          Close(c);
          return;
        }
      }
      if (c.want_out) {
        c.want_out = false;
        Watch(c.fd, EPOLL_CTL_MOD, EPOLLIN);
      }
      if (c.waiting || c.streaming) return;
      switch (ParseRequest(c)) {
        case Parsed::kIncomplete:
          return;
        case Parsed::kChat:
          ++requests_;
          c.chat_in_flight = true;
          peak_in_flight_ = std::max(peak_in_flight_, ++in_flight_);
          if (c.stream_requested) {
            ++streams_;
            StartStream(c);
          } else if (delay_ns_ <= 0) {
            SetChatReply(c);
          } else {
            c.waiting = true;
            AddTimer(NowNs() + delay_ns_, c, /*paced=*/false);
          }
          break;
        case Parsed::kResetStats:
          peak_in_flight_ = in_flight_;
          peak_connections_ = connections_;
          [[fallthrough]];
        case Parsed::kStats:
          SetReply(c, 200, "OK", StatsJson());
          break;
        case Parsed::kHealth:
          SetReply(c, 200, "OK", "\"ok\"");
          break;
        case Parsed::kNotFound:
          SetReply(c, 404, "Not Found",
                   "{\"error\":{\"message\":\"not found\",\"type\":\"invalid_request_error\"}}");
          break;
        case Parsed::kChunked:
          c.close_after = true;
          SetReply(c, 411, "Length Required",
                   "{\"error\":{\"message\":\"send "
                   "Content-Length\",\"type\":\"invalid_request_error\"}}");
          break;
        case Parsed::kTooLarge:
          c.close_after = true;
          SetReply(c, 413, "Payload Too Large",
                   "{\"error\":{\"message\":\"too large\",\"type\":\"invalid_request_error\"}}");
          break;
        case Parsed::kBad:
          c.close_after = true;
          SetReply(c, 400, "Bad Request",
                   "{\"error\":{\"message\":\"bad request\",\"type\":\"invalid_request_error\"}}");
          break;
      }
    }
  }

  // The SSE response head and the first event now; the rest on timers.
  void StartStream(Conn& c) {
    c.streaming = true;
    c.next_delta = 0;
    c.stream_start_ns = NowNs();
    c.out.assign(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Transfer-Encoding: chunked\r\n");
    if (c.close_after) c.out.append("Connection: close\r\n");
    c.out.append("\r\n");
    c.out_off = 0;
    c.stream_id = requests_;
    AppendStreamEvent(c);  // delta 0 is due at once (or, with no deltas, the end)
  }

  // Appends the stream's next due event(s) to c.out as HTTP chunks and
  // schedules the one after; at the end, the finish chunk, [DONE] and the
  // last chunk, after which the connection takes its next request.
  void AppendStreamEvent(Conn& c) {
    char event[640];
    if (c.next_delta < stream_deltas_) {
      const int n = std::snprintf(
          event, sizeof(event),
          "data: {\"id\":\"chatcmpl-bench-%llu\",\"object\":\"chat.completion.chunk\","
          "\"created\":%lld,\"model\":\"fast-upstream\",\"choices\":[{\"index\":0,"
          "\"delta\":{%s\"content\":\"t%d \"},\"finish_reason\":null}]}\n\n",
          static_cast<unsigned long long>(c.stream_id), static_cast<long long>(time(nullptr)),
          c.next_delta == 0 ? "\"role\":\"assistant\"," : "", c.next_delta);
      AppendChunk(c, std::string_view(event, static_cast<size_t>(n)));
      ++c.next_delta;
      AddTimer(c.stream_start_ns + stream_ns_ * c.next_delta / std::max(stream_deltas_, 1), c,
               /*paced=*/true);
      return;
    }
    const int n =
        std::snprintf(event, sizeof(event),
                      "data: {\"id\":\"chatcmpl-bench-%llu\",\"object\":\"chat.completion.chunk\","
                      "\"created\":%lld,\"model\":\"fast-upstream\",\"choices\":[{\"index\":0,"
                      "\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":8,"
                      "\"completion_tokens\":%d,\"total_tokens\":%d}}\n\n",
                      static_cast<unsigned long long>(c.stream_id),
                      static_cast<long long>(time(nullptr)), stream_deltas_, stream_deltas_ + 8);
    AppendChunk(c, std::string_view(event, static_cast<size_t>(n)));
    AppendChunk(c, "data: [DONE]\n\n");
    c.out.append("0\r\n\r\n");
    c.streaming = false;  // Drive ends the request once this is written
  }

  static void AppendChunk(Conn& c, std::string_view data) {
    char size[16];
    const int n = std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    c.out.append(size, static_cast<size_t>(n));
    c.out.append(data.data(), data.size());
    c.out.append("\r\n");
  }

  void AddTimer(int64_t deadline_ns, const Conn& c, bool paced) {
    if (timers_.empty() || deadline_ns < timers_.top().deadline_ns) Arm(deadline_ns);
    timers_.push({deadline_ns, c.fd, c.gen, paced});
  }

  void Arm(int64_t deadline_ns) {
    itimerspec spec{};
    spec.it_value.tv_sec = deadline_ns / 1000000000;
    spec.it_value.tv_nsec = deadline_ns % 1000000000;
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
    if (timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) Die("timerfd_settime");
  }

  void FireTimers() {
    uint64_t expirations;
    (void)!read(timer_fd_, &expirations, sizeof(expirations));
    const int64_t now = NowNs();
    while (!timers_.empty() && timers_.top().deadline_ns <= now + slack_ns_) {
      // A unary reply keeps its exact delay (the batch bench's ideal time
      // counts on it); the stream events behind it wait for its wake-up.
      if (!timers_.top().paced && timers_.top().deadline_ns > now) break;
      const Timer t = timers_.top();
      timers_.pop();
      Conn* c = Find(t.fd);
      if (c == nullptr || c->gen != t.gen) continue;  // closed meanwhile
      if (c->streaming) {
        // Events queue behind a slow reader's unwritten ones (c.out grows by
        // one small event per period): the pacing is the upstream's, as a
        // model's would be.
        AppendStreamEvent(*c);
      } else if (c->waiting) {
        c->waiting = false;
        SetChatReply(*c);
      } else {
        continue;
      }
      Drive(*c);
    }
    if (!timers_.empty()) Arm(timers_.top().deadline_ns);
  }

  const int64_t delay_ns_;
  const int stream_deltas_;
  const int64_t stream_ns_;
  const int64_t slack_ns_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int signal_fd_ = -1;
  int port_ = 0;
  uint64_t next_gen_ = 0;
  std::vector<std::unique_ptr<Conn>> conns_;  // by fd
  // Every pending deadline, earliest on top. A closed connection's entries
  // stay until they come up (its gen no longer matches).
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  uint64_t requests_ = 0;
  uint64_t streams_ = 0;
  int64_t in_flight_ = 0;
  int64_t peak_in_flight_ = 0;
  int64_t connections_ = 0;
  int64_t peak_connections_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  Server server(absl::GetFlag(FLAGS_port), absl::GetFlag(FLAGS_delay_ms),
                absl::GetFlag(FLAGS_stream_deltas), absl::GetFlag(FLAGS_stream_ms),
                absl::GetFlag(FLAGS_timer_slack_us));
  std::printf("listening on 127.0.0.1:%d\n", server.port());
  std::fflush(stdout);
  server.Run();
  return 0;
}
