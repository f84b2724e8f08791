// The log writer thread (issue 16): the one thread that does the write(2)s,
// so a slow or blocked stderr (a pipe nobody drains) never stalls the gRPC
// callback threads or the HTTP loop. Callers hand over a finished line and
// return at once; when the bounded queue is full the line is dropped and
// counted, and the writer says so in a line of its own when it can.
//
// A line into an idle writer is written at once. After each write-out the
// writer gathers lines for `batch_window` before the next, without being
// woken for each: under a steady stream of call lines that is one wake-up
// per window instead of two context switches and a futex call per line.
// Flush, Stop and a half-full queue cut the window short.
//
// std::mutex and std::condition_variable, not absl::Mutex: this code runs
// under ThreadSanitizer, and Debian's Abseil is not TSan-instrumented.
#ifndef LLM_GATEWAY_SERVER_COMMON_LOG_WRITER_H_
#define LLM_GATEWAY_SERVER_COMMON_LOG_WRITER_H_

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"

namespace llmgateway {

class LogWriter {
 public:
  struct Options {
    // Where lines go (not owned, never closed).
    int fd = STDERR_FILENO;
    // The queue's bounds: a line that would pass either is dropped.
    size_t max_lines = 4096;
    size_t max_bytes = 4 << 20;
    // How long lines may wait for the next write-out once the writer is busy
    // (see above). Zero: woken for every line.
    absl::Duration batch_window = absl::Milliseconds(10);
    // The line that reports `n` dropped lines ('\n'-terminated), written by
    // the writer after the lines queued with them. Default:
    // "<n> log lines dropped\n".
    std::function<std::string(uint64_t n)> dropped_line;
    // Called for each dropped line, on the thread that dropped it, with no
    // lock held (a metric counter, say). Must not log.
    std::function<void()> on_drop;
  };

  explicit LogWriter(Options options);
  // Stop().
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Start() and Stop() are for one thread (the one that owns the process's
  // life); Write(), Flush() and dropped() for any.

  // Starts the writer thread: from now on Write() queues. No-op if running.
  void Start();
  // Lets the writer write everything queued (also what is queued while it
  // stops), then joins it; later lines are written synchronously again.
  // Blocks as long as the fd does.
  void Stop();

  // `line` must end in '\n'. Running: queued (or dropped when the queue is
  // full), never blocks on the fd. Not running (before Start, after Stop):
  // written now, on the calling thread.
  void Write(std::string line);

  // Waits until every line queued before the call is written, at most
  // `timeout`: false if the writer is still behind by then.
  bool Flush(absl::Duration timeout);

  // Lines dropped since construction.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void Run();
  // Past half of either bound: worth cutting the batch window short.
  bool HalfFullLocked() const;
  // One write(2) per line (a line stays whole next to other writers of the
  // fd), retried on EINTR, a short write, and EAGAIN (non-blocking fd).
  void WriteLine(const std::string& line) const;

  const Options options_;
  std::atomic<uint64_t> dropped_{0};

  std::mutex mu_;
  std::condition_variable wake_;     // the writer: lines queued, or stop
  std::condition_variable written_;  // Flush(): a batch written
  std::vector<std::string> queue_;   // under mu_
  size_t queued_bytes_ = 0;          // under mu_
  uint64_t unreported_drops_ = 0;    // under mu_
  uint64_t accepted_ = 0;            // lines ever queued, under mu_
  uint64_t done_ = 0;                // of those, written, under mu_
  bool running_ = false;             // Write() queues; under mu_
  bool stopping_ = false;            // under mu_
  bool writer_idle_ = false;         // waiting for any line; under mu_
  int flushers_ = 0;                 // Flush() calls waiting; under mu_
  std::thread thread_;               // Start()/Stop()'s thread only
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_COMMON_LOG_WRITER_H_
