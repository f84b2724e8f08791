// One-line log records on stderr, as text or JSON (--log_format). Debian
// 12's Abseil (20220623) predates absl/log. The caller's thread formats the
// whole line; once StartLogWriter() has run, a LogWriter thread does the
// write(2)s (log_writer.h), so logging never blocks on stderr. Lines logged
// before it starts or after it stops are written at once, each in one
// write(2), so concurrent lines never interleave.
#ifndef LLM_GATEWAY_SERVER_COMMON_LOG_H_
#define LLM_GATEWAY_SERVER_COMMON_LOG_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace llmgateway {

enum class LogLevel { kInfo, kWarning, kError };

// text: "<RFC 3339 time> <LEVEL> <message>"
// json: {"time":"<RFC 3339 time>","level":"<LEVEL>","msg":"<message>"}
// LEVEL is INFO, WARN or ERROR in both.
enum class LogFormat { kText, kJson };

// "text" or "json"; false for anything else.
bool ParseLogFormat(absl::string_view name, LogFormat* format);
// The process's format (default text); takes effect for lines logged after.
void SetLogFormat(LogFormat format);
LogFormat GetLogFormat();

// Formats one line in the process's format and writes (or queues) it.
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

// Building blocks for lines with fields of their own (call_log.h).

// "INFO", "WARN", "ERROR".
absl::string_view LogLevelName(LogLevel level);
// The line's start: text `<time> <LEVEL> `; json `{"time":"<time>","level":"<LEVEL>"`
// (the caller adds `,"key":value` members, then `}\n`).
void AppendLogLineStart(LogFormat format, LogLevel level, absl::Time time, std::string* out);
// A whole plain line, '\n' included.
std::string FormatLogLine(LogFormat format, LogLevel level, absl::Time time,
                          absl::string_view message);
// `value` as a JSON string, quotes included: `"` and `\` escaped, control
// characters (and DEL, U+2028, U+2029) as \uXXXX or their short escapes,
// each byte that is not part of valid UTF-8 as \ufffd. Caller text can
// neither end the string nor start a line.
void AppendJsonString(absl::string_view value, std::string* out);

// Writes (or queues) a finished line, which must end in '\n'.
void EmitLogLine(std::string line);

// The process's log writer (stderr). Start and stop it from one thread
// (main's).
//
// Starts the writer thread. `on_drop` runs for every line dropped because
// the queue was full (4096 lines or 4 MiB), on the dropping thread.
void StartLogWriter(std::function<void()> on_drop = nullptr);
// Waits (at most `timeout`) until the lines logged so far are written.
bool FlushLogs(absl::Duration timeout);
// Writes what is queued and stops the thread; later lines are written
// synchronously.
void StopLogWriter();
// Lines dropped so far.
uint64_t LogLinesDropped();

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_COMMON_LOG_H_
