// Child-process management for integration tests.
#include "tests/integration/subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"

namespace llmgateway::testing {

Subprocess::Subprocess(std::vector<std::string> argv, std::vector<std::string> env,
                       std::string stderr_path)
    : stderr_path_(std::move(stderr_path)) {
  // stdout goes to a file, not a pipe: a pipe nobody drains would block (or
  // SIGPIPE) a server that prints more later.
  const std::string stdout_path = stderr_path_ + ".stdout";
  pid_ = fork();
  if (pid_ < 0) std::abort();
  if (pid_ == 0) {
    const int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out >= 0) dup2(out, STDOUT_FILENO);
    if (err >= 0) dup2(err, STDERR_FILENO);
    for (const std::string& assignment : env) putenv(strdup(assignment.c_str()));
    std::vector<char*> args;
    for (std::string& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (port_ == 0 && absl::Now() < give_up) {
    std::ifstream file(stdout_path);
    std::string line;
    while (port_ == 0 && std::getline(file, line)) {
      absl::string_view text(line);
      if (!absl::StrContains(text, "listening on")) continue;
      if (!absl::SimpleAtoi(text.substr(text.rfind(':') + 1), &port_)) port_ = 0;
    }
    int status = 0;
    if (port_ == 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // exited early
      break;
    }
    if (port_ == 0) usleep(20000);
  }
  if (port_ == 0) {
    std::fprintf(stderr, "%s did not start; its stderr:\n%s\n", argv[0].c_str(),
                 ReadStderr().c_str());
    Stop();
    std::abort();
  }
}

Subprocess::~Subprocess() { Stop(); }

int Subprocess::Stop() {
  if (pid_ <= 0) return 0;
  kill(pid_, SIGTERM);
  int status = 0;
  // SIGTERM, then SIGKILL if it takes more than 10 s to exit.
  for (int i = 0; i < 1000; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    usleep(10000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

void Subprocess::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

int Subprocess::WaitExit(int timeout_ms) {
  if (pid_ <= 0) return -1;
  int status = 0;
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    usleep(10000);
  }
  return -1;
}

std::string Subprocess::ReadStderr() const {
  std::ifstream file(stderr_path_);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string Subprocess::WaitForStderr(const std::string& needle, int timeout_ms) const {
  const absl::Time give_up = absl::Now() + absl::Milliseconds(timeout_ms);
  while (true) {
    std::string text = ReadStderr();
    if (absl::StrContains(text, needle) || absl::Now() > give_up) return text;
    usleep(10000);
  }
}

std::string RunfilePath(const std::string& path) {
  const char* root = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return std::string(root ? root : ".") + "/" + (workspace ? workspace : "llm_gateway") +
         "/" + path;
}

std::string Python() {
  return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

namespace {

long ProcStatusField(pid_t pid, absl::string_view field) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(file, line)) {
    if (absl::StartsWith(line, field)) {
      absl::string_view value = absl::string_view(line).substr(field.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      value = value.substr(0, value.find(' '));
      long number = -1;
      if (absl::SimpleAtoi(value, &number)) return number;
    }
  }
  return -1;
}

}  // namespace

int ThreadCount(pid_t pid) { return static_cast<int>(ProcStatusField(pid, "Threads:")); }

long RssKib(pid_t pid) { return ProcStatusField(pid, "VmRSS:"); }

int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

RunResult RunToExit(const std::string& command) {
  RunResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) result.output += buffer;
  const int status = pclose(pipe);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

}  // namespace llmgateway::testing
