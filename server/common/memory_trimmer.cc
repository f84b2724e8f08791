// Periodic malloc_trim (see the header).
#include "server/common/memory_trimmer.h"

#include <malloc.h>

namespace llmgateway {

size_t HeapFreeBytes() {
  // mallinfo2 walks every arena's bins under its lock: fine once per
  // interval, not per call.
  const struct mallinfo2 info = mallinfo2();
  return info.fordblks;
}

bool TrimIfAbove(size_t threshold) {
  if (HeapFreeBytes() <= threshold) return false;
  malloc_trim(0);
  return true;
}

MemoryTrimmer::MemoryTrimmer(absl::Duration interval, size_t threshold)
    : interval_(interval), threshold_(threshold), thread_([this] { Run(); }) {}

MemoryTrimmer::~MemoryTrimmer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void MemoryTrimmer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_for(lock, absl::ToChronoNanoseconds(interval_), [this] { return stop_; })) {
    lock.unlock();
    TrimIfAbove(threshold_);
    lock.lock();
  }
}

}  // namespace llmgateway
