// One-line log records on stderr. Deliberately tiny: Debian 12's Abseil
// (20220623) predates absl/log, and a call's log line is a single write, so
// concurrent lines never interleave.
#ifndef LLM_GATEWAY_SERVER_COMMON_LOG_H_
#define LLM_GATEWAY_SERVER_COMMON_LOG_H_

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace llmgateway {

enum class LogLevel { kInfo, kWarning, kError };

// Writes "<RFC 3339 time> <LEVEL> <message>\n" in one write(2).
void Log(LogLevel level, absl::string_view message);

template <typename... Args>
void LogInfo(const Args&... args) {
  Log(LogLevel::kInfo, absl::StrCat(args...));
}
template <typename... Args>
void LogWarning(const Args&... args) {
  Log(LogLevel::kWarning, absl::StrCat(args...));
}
template <typename... Args>
void LogError(const Args&... args) {
  Log(LogLevel::kError, absl::StrCat(args...));
}

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_COMMON_LOG_H_
