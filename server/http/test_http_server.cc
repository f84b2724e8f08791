#include "server/http/test_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace llmgateway::http::testing {

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::abort();
}

void SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) Die("fcntl");
}

// Parses one request off the front of `in`; false while it is incomplete.
bool ParseRequest(std::string& in, TestRequest& out) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::vector<absl::string_view> lines =
      absl::StrSplit(absl::string_view(in).substr(0, end), "\r\n");
  TestRequest req;
  std::vector<absl::string_view> first = absl::StrSplit(lines[0], ' ');
  if (first.size() >= 2) {
    req.method = std::string(first[0]);
    req.target = std::string(first[1]);
  }
  size_t content_length = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    std::string value(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    if (name == "content-length") {
      if (!absl::SimpleAtoi(value, &content_length)) content_length = 0;
    }
    req.headers.emplace_back(std::move(name), std::move(value));
  }
  const size_t body_start = end + 4;
  if (in.size() < body_start + content_length) return false;
  req.body = in.substr(body_start, content_length);
  in.erase(0, body_start + content_length);
  out = std::move(req);
  return true;
}

}  // namespace

const std::string* TestRequest::Header(absl::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

std::string Head(int status, const std::vector<std::string>& headers) {
  std::string out = absl::StrCat("HTTP/1.1 ", status, " X\r\n");
  for (const std::string& h : headers) absl::StrAppend(&out, h, "\r\n");
  out += "\r\n";
  return out;
}

Script Reply(int status, absl::string_view body,
             std::vector<std::string> headers) {
  headers.push_back(absl::StrCat("Content-Length: ", body.size()));
  return {Step::Write(absl::StrCat(Head(status, headers), body))};
}

std::string Chunk(absl::string_view data) {
  return absl::StrCat(absl::Hex(data.size()), "\r\n", data, "\r\n");
}

struct TestHttpServer::Conn {
  int fd = -1;
  std::string in;
  bool responding = false;
  Script script;
  size_t step = 0;
  size_t written = 0;                   // of the current kWrite step
  std::optional<Clock::time_point> wake_at;  // of the current kDelay step
  bool want_write = false;
};

TestHttpServer::TestHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) Die("socket");
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    Die("bind");
  }
  if (listen(listen_fd_, SOMAXCONN) < 0) Die("listen");
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  SetNonBlocking(listen_fd_);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) Die("eventfd");
  thread_ = std::thread([this] { Run(); });
}

TestHttpServer::~TestHttpServer() {
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) Die("write eventfd");
  thread_.join();
  close(wake_fd_);
  close(listen_fd_);
}

std::string TestHttpServer::Url(absl::string_view target) const {
  return absl::StrCat("http://127.0.0.1:", port_, target);
}

std::vector<TestRequest> TestHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

bool TestHttpServer::Advance(Conn& c) {
  for (;;) {
    if (!c.responding) {
      TestRequest req;
      if (!ParseRequest(c.in, req)) return true;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      c.script = handler_(req);
      requests_received_.fetch_add(1);
      c.responding = true;
      c.step = 0;
      c.written = 0;
      c.wake_at.reset();
      const int now = responding_.fetch_add(1) + 1;
      int max = max_responding_.load();
      while (now > max && !max_responding_.compare_exchange_weak(max, now)) {
      }
    }
    if (c.step == c.script.size()) {
      c.responding = false;
      responding_.fetch_sub(1);
      continue;  // a pipelined request may be waiting
    }
    Step& s = c.script[c.step];
    switch (s.kind) {
      case Step::Kind::kWrite: {
        c.want_write = false;
        while (c.written < s.bytes.size()) {
          const ssize_t n =
              send(c.fd, s.bytes.data() + c.written,
                   s.bytes.size() - c.written, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n > 0) {
            c.written += n;
          } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c.want_write = true;
            return true;
          } else if (n < 0 && errno == EINTR) {
            continue;
          } else {
            peer_closes_.fetch_add(1);  // EPIPE / ECONNRESET: client left
            return false;
          }
        }
        c.written = 0;
        ++c.step;
        break;
      }
      case Step::Kind::kDelay: {
        const Clock::time_point now = Clock::now();
        if (!c.wake_at) c.wake_at = now + absl::ToChronoNanoseconds(s.delay);
        if (now < *c.wake_at) return true;
        c.wake_at.reset();
        ++c.step;
        break;
      }
      case Step::Kind::kClose:
        return false;
      case Step::Kind::kReset: {
        // A zero linger time makes close() send RST and drop unsent data.
        const linger reset{1, 0};
        setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
        return false;
      }
      case Step::Kind::kHang:
        return true;
    }
  }
}

void TestHttpServer::Run() {
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<pollfd> fds;
  char buf[64 * 1024];
  for (;;) {
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    int timeout_ms = -1;
    const Clock::time_point now = Clock::now();
    for (const auto& c : conns) {
      fds.push_back(
          {c->fd, static_cast<short>(POLLIN | (c->want_write ? POLLOUT : 0)),
           0});
      if (c->wake_at) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
                              *c->wake_at - now)
                              .count();
        const int ms = left < 0 ? 0 : static_cast<int>(left);
        if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = ms;
      }
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0) {
      if (errno == EINTR) continue;
      Die("poll");
    }
    if (fds[0].revents != 0) break;
    if (fds[1].revents & POLLIN) {
      for (;;) {
        const int fd = accept4(listen_fd_, nullptr, nullptr,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        auto c = std::make_unique<Conn>();
        c->fd = fd;
        conns.push_back(std::move(c));
        accepted_.fetch_add(1);
      }
    }
    // Connections accepted just now have no pollfd yet; they are advanced
    // below all the same.
    for (size_t i = 0; i < conns.size();) {
      Conn& c = *conns[i];
      bool keep = true;
      const size_t fi = i + 2;
      if (fi < fds.size() && fds[fi].revents & (POLLIN | POLLHUP | POLLERR)) {
        for (;;) {
          const ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
          if (n > 0) {
            c.in.append(buf, n);
            continue;
          }
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
          if (n < 0 && errno == EINTR) continue;
          peer_closes_.fetch_add(1);  // EOF or reset
          keep = false;
          break;
        }
      }
      if (keep) keep = Advance(c);
      if (!keep) {
        if (c.responding) responding_.fetch_sub(1);
        close(c.fd);
        conns.erase(conns.begin() + i);
        if (fi < fds.size()) fds.erase(fds.begin() + fi);
        continue;
      }
      ++i;
    }
  }
  for (const auto& c : conns) {
    if (c->responding) responding_.fetch_sub(1);
    close(c->fd);
  }
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return condition();
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

}  // namespace llmgateway::http::testing
