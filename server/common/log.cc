// Log line formatting and the single write.
#include "server/common/log.h"

#include <unistd.h>

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace llmgateway {

void Log(LogLevel level, absl::string_view message) {
  const char* name = level == LogLevel::kInfo      ? "INFO"
                     : level == LogLevel::kWarning ? "WARN"
                                                   : "ERROR";
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      " ", name, " ", message, "\n");
  // One write per line keeps lines whole when threads log at once; a short
  // write to stderr is not worth a retry loop.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace llmgateway
