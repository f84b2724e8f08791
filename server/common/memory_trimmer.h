// Gives freed heap memory back to the system. glibc keeps what a burst
// freed in its arenas (issue 16: an HTTP/2 rapid-reset flood left the
// gateway at 1.4 GiB RSS for good, `malloc_trim` took it to ~100 MiB), so
// a thread checks every `interval` how much the arenas hold free and trims
// when it is more than `threshold`.
#ifndef LLM_GATEWAY_SERVER_COMMON_MEMORY_TRIMMER_H_
#define LLM_GATEWAY_SERVER_COMMON_MEMORY_TRIMMER_H_

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

#include "absl/time/time.h"

namespace llmgateway {

// Free bytes glibc's arenas hold (0 under another allocator or a sanitizer).
size_t HeapFreeBytes();

// malloc_trim(0) when HeapFreeBytes() > threshold; true if it trimmed.
bool TrimIfAbove(size_t threshold);

class MemoryTrimmer {
 public:
  MemoryTrimmer(absl::Duration interval, size_t threshold);
  // Stops the thread (at most one interval's wait is cut short at once).
  ~MemoryTrimmer();
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;

 private:
  void Run();

  const absl::Duration interval_;
  const size_t threshold_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_COMMON_MEMORY_TRIMMER_H_
