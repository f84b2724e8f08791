// fast_upstream: a minimal OpenAI-compatible upstream for benchmarks.
//
// `POST /v1/chat/completions` (or `/chat/completions`) is answered, after a
// fixed --delay_ms, with a small chat.completion JSON; the request body is
// read (Content-Length) and ignored. HTTP/1.1 keep-alive, one thread: epoll
// for the sockets, a timerfd for the delays. Every reply waits the same
// delay, so the pending replies are a FIFO whose front is the next deadline.
//
// `GET /_stats` answers at once with
// {"requests","in_flight","peak_in_flight","connections","peak_connections"}
// (chat requests only; in_flight counts from a request read to its reply
// written); `DELETE /_stats` first resets the two peaks to the current
// values. SIGTERM/SIGINT print the same figures to stdout and exit 0.
//
// Usage: fast_upstream [--port=0] [--delay_ms=50]
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
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"

ABSL_FLAG(int, port, 0, "TCP port on 127.0.0.1 (0 picks a free one).");
ABSL_FLAG(int, delay_ms, 50, "Delay before each chat completion is answered.");

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
  bool waiting = false;  // a chat request sits in the timer queue
  bool chat_in_flight = false;
  bool close_after = false;
  bool want_out = false;  // EPOLLOUT registered
};

struct Timer {
  int64_t deadline_ns;
  int fd;
  uint64_t gen;
};

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
  Server(int port, int delay_ms) : delay_ns_(int64_t{delay_ms} * 1000000) {
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
                  "{\"requests\":%llu,\"in_flight\":%lld,\"peak_in_flight\":%lld,"
                  "\"connections\":%lld,\"peak_connections\":%lld}",
                  static_cast<unsigned long long>(requests_), static_cast<long long>(in_flight_),
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
      if (!c.out.empty()) {  // a reply went out in full
        c.out.clear();
        c.out_off = 0;
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
      if (c.waiting) return;
      switch (ParseRequest(c)) {
        case Parsed::kIncomplete:
          return;
        case Parsed::kChat:
          ++requests_;
          c.chat_in_flight = true;
          peak_in_flight_ = std::max(peak_in_flight_, ++in_flight_);
          if (delay_ns_ <= 0) {
            SetChatReply(c);
          } else {
            const int64_t deadline = NowNs() + delay_ns_;
            c.waiting = true;
            if (timers_.empty()) Arm(deadline);
            timers_.push_back({deadline, c.fd, c.gen});
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

  void Arm(int64_t deadline_ns) {
    itimerspec spec{};
    spec.it_value.tv_sec = deadline_ns / 1000000000;
    spec.it_value.tv_nsec = deadline_ns % 1000000000;
    if (timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) Die("timerfd_settime");
  }

  void FireTimers() {
    uint64_t expirations;
    (void)!read(timer_fd_, &expirations, sizeof(expirations));
    const int64_t now = NowNs();
    while (!timers_.empty() && timers_.front().deadline_ns <= now) {
      const Timer t = timers_.front();
      timers_.pop_front();
      Conn* c = Find(t.fd);
      if (c == nullptr || c->gen != t.gen || !c->waiting) continue;  // closed meanwhile
      c->waiting = false;
      SetChatReply(*c);
      Drive(*c);
    }
    if (!timers_.empty()) Arm(timers_.front().deadline_ns);
  }

  const int64_t delay_ns_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int signal_fd_ = -1;
  int port_ = 0;
  uint64_t next_gen_ = 0;
  std::vector<std::unique_ptr<Conn>> conns_;  // by fd
  std::deque<Timer> timers_;                  // deadlines in order: one fixed delay
  uint64_t requests_ = 0;
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
  Server server(absl::GetFlag(FLAGS_port), absl::GetFlag(FLAGS_delay_ms));
  std::printf("listening on 127.0.0.1:%d\n", server.port());
  std::fflush(stdout);
  server.Run();
  return 0;
}
