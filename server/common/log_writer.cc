// The writer thread: takes the whole queue at once and writes it with the
// lock released.
#include "server/common/log_writer.h"

#include <poll.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"

namespace llmgateway {

LogWriter::LogWriter(Options options) : options_(std::move(options)) {}

LogWriter::~LogWriter() { Stop(); }

void LogWriter::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void LogWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void LogWriter::Write(std::string line) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!running_) {
    lock.unlock();
    WriteLine(line);
    return;
  }
  if (queue_.size() >= options_.max_lines ||
      queued_bytes_ + line.size() > options_.max_bytes) {
    // Reported after what is queued; an idle writer needs waking for it.
    ++unreported_drops_;
    const bool wake = std::exchange(writer_idle_, false);
    lock.unlock();
    if (wake) wake_.notify_one();
    dropped_.fetch_add(1, std::memory_order_relaxed);
    if (options_.on_drop) options_.on_drop();
    return;
  }
  const bool was_half_full = HalfFullLocked();
  queued_bytes_ += line.size();
  queue_.push_back(std::move(line));
  ++accepted_;
  // An idle writer is woken; a busy one comes back for the line by itself,
  // unless the queue is filling up.
  const bool wake = std::exchange(writer_idle_, false) || (!was_half_full && HalfFullLocked());
  lock.unlock();
  if (wake) wake_.notify_one();
}

bool LogWriter::HalfFullLocked() const {
  return queue_.size() >= options_.max_lines / 2 || queued_bytes_ >= options_.max_bytes / 2;
}

bool LogWriter::Flush(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = accepted_;
  auto caught_up = [&] { return done_ >= target || !running_; };
  // Cuts the writer's batch window short while this waits.
  ++flushers_;
  wake_.notify_one();
  bool ok = true;
  if (timeout == absl::InfiniteDuration()) {
    written_.wait(lock, caught_up);
  } else {
    ok = written_.wait_for(lock, absl::ToChronoNanoseconds(timeout), caught_up);
  }
  --flushers_;
  return ok;
}

void LogWriter::Run() {
  std::vector<std::string> batch;
  std::unique_lock<std::mutex> lock(mu_);
  const auto window = absl::ToChronoNanoseconds(options_.batch_window);
  bool gather = false;  // the last round wrote something
  while (true) {
    if (gather && options_.batch_window > absl::ZeroDuration()) {
      wake_.wait_for(lock, window, [&] { return stopping_ || flushers_ > 0 || HalfFullLocked(); });
    }
    writer_idle_ = queue_.empty() && unreported_drops_ == 0 && !stopping_;
    wake_.wait(lock, [&] { return !queue_.empty() || unreported_drops_ > 0 || stopping_; });
    writer_idle_ = false;
    if (queue_.empty() && unreported_drops_ == 0) {
      // Stopping, and everything queued is written: from here on Write()
      // writes itself, after all of it.
      running_ = false;
      break;
    }
    batch.swap(queue_);
    queued_bytes_ = 0;
    const uint64_t drops = std::exchange(unreported_drops_, 0);
    lock.unlock();
    for (const std::string& line : batch) WriteLine(line);
    // The drops happened while these lines (or earlier ones) were waiting.
    if (drops > 0) {
      WriteLine(options_.dropped_line ? options_.dropped_line(drops)
                                      : absl::StrCat(drops, " log lines dropped\n"));
    }
    const size_t written = batch.size();
    batch.clear();
    lock.lock();
    done_ += written;
    gather = true;
    written_.notify_all();
  }
  lock.unlock();
  written_.notify_all();
}

void LogWriter::WriteLine(const std::string& line) const {
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(options_.fd, data, left);
    if (n > 0) {
      data += n;
      left -= static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd ready{options_.fd, POLLOUT, 0};
      ::poll(&ready, 1, -1);
    } else {
      return;  // a closed or bad fd: nothing to do about it
    }
  }
}

}  // namespace llmgateway
