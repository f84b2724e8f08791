// Test support: runs a server binary as a child process, learns its port from
// the "... listening on HOST:PORT" line it prints, and kills it at the end.
#ifndef LLM_GATEWAY_TESTS_INTEGRATION_SUBPROCESS_H_
#define LLM_GATEWAY_TESTS_INTEGRATION_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace llmgateway::testing {

class Subprocess {
 public:
  // Starts `argv` with `env` added to the environment; stderr goes to
  // `stderr_path` (so a test can read the server's log). Waits (up to 30 s)
  // for a stdout line containing "listening on" and parses the port after the
  // last ':'. Aborts the test binary if the child does not come up.
  Subprocess(std::vector<std::string> argv, std::vector<std::string> env,
             std::string stderr_path);
  ~Subprocess();

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends SIGTERM and waits; returns the exit status (as from waitpid).
  int Stop();
  // Sends `signal` and returns at once.
  void Signal(int signal);
  // Waits up to `timeout_ms` for the process to exit: its status (as from
  // waitpid), or -1 if it is still running.
  int WaitExit(int timeout_ms);
  // The whole stderr written so far.
  std::string ReadStderr() const;
  // The whole stderr once it contains `needle`, or as it is after
  // `timeout_ms`: the gateway's log writer writes a line a little after
  // the call that logged it returned.
  std::string WaitForStderr(const std::string& needle, int timeout_ms = 10000) const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string stderr_path_;
};

// Runs a shell `command` to its end (a binary that should exit at once,
// e.g. on a bad flag): its exit code (-1 if it did not exit normally) and
// what it wrote to stdout and stderr together.
struct RunResult {
  int exit_code = -1;
  std::string output;
};
RunResult RunToExit(const std::string& command);

// $TEST_SRCDIR/<workspace>/<path>: a data dependency's location.
std::string RunfilePath(const std::string& path);

// Debian's interpreter (which has grpc), else python3 on PATH.
std::string Python();

// Number of threads of a process, from /proc/PID/status.
int ThreadCount(pid_t pid);

// Resident set size in KiB, from /proc/PID/status.
long RssKib(pid_t pid);

// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
int UnusedPort();

}  // namespace llmgateway::testing

#endif  // LLM_GATEWAY_TESTS_INTEGRATION_SUBPROCESS_H_
