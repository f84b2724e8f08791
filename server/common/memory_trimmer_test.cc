#include "server/common/memory_trimmer.h"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/common/sanitizers.h"

namespace llmgateway {
namespace {

long RssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// 100 MiB of small blocks freed while the last one stays: glibc cannot
// shrink the heap past it, so the freed pages stay resident until a trim.
TEST(MemoryTrimmerTest, TrimGivesFreedHeapBack) {
#ifdef LLMGW_SANITIZER_ALLOCATOR
  GTEST_SKIP() << "the sanitizer's allocator replaces glibc's";
#endif
  constexpr int kBlocks = 100 * 1024;
  std::vector<char*> blocks;
  blocks.reserve(kBlocks);
  for (int i = 0; i < kBlocks; ++i) {
    char* block = static_cast<char*>(malloc(1000));
    for (int j = 0; j < 1000; j += 64) block[j] = 1;  // resident
    blocks.push_back(block);
  }
  char* pin = static_cast<char*>(malloc(1000));
  for (char* block : blocks) free(block);
  const long before = RssKib();
  EXPECT_GT(HeapFreeBytes(), size_t{90} << 20);
  EXPECT_FALSE(TrimIfAbove(size_t{1} << 40)) << "below the threshold: nothing to do";
  EXPECT_GT(RssKib(), before - 10 * 1024) << "no trim, no change";
  EXPECT_TRUE(TrimIfAbove(size_t{32} << 20));
  EXPECT_LT(RssKib(), before - 60 * 1024) << "before " << before << " KiB";
  free(pin);
}

TEST(MemoryTrimmerTest, TheThreadTrimsAndStopsPromptly) {
#ifdef LLMGW_SANITIZER_ALLOCATOR
  GTEST_SKIP() << "the sanitizer's allocator replaces glibc's";
#endif
  std::vector<char*> blocks;
  for (int i = 0; i < 100 * 1024; ++i) {
    char* block = static_cast<char*>(malloc(1000));
    for (int j = 0; j < 1000; j += 64) block[j] = 1;
    blocks.push_back(block);
  }
  char* pin = static_cast<char*>(malloc(1000));
  for (char* block : blocks) free(block);
  const long before = RssKib();
  {
    MemoryTrimmer trimmer(absl::Milliseconds(50), size_t{32} << 20);
    for (int i = 0; i < 200 && RssKib() > before - 60 * 1024; ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
  EXPECT_LT(RssKib(), before - 60 * 1024);
  free(pin);
}

}  // namespace
}  // namespace llmgateway
