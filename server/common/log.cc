// Line formats, JSON string escaping, and the process's log writer.
#include "server/common/log.h"

#include <atomic>
#include <utility>

#include "absl/time/clock.h"
#include "server/common/log_writer.h"

namespace llmgateway {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

// Set by StartLogWriter before the writer starts; lines are dropped only
// while it runs (the writer's mutex orders the two).
std::function<void()>* g_on_drop = new std::function<void()>();

// Never destroyed: threads may log while the process exits.
LogWriter& ProcessWriter() {
  static LogWriter* const writer = [] {
    LogWriter::Options options;
    options.dropped_line = [](uint64_t n) {
      return FormatLogLine(GetLogFormat(), LogLevel::kWarning, absl::Now(),
                           absl::StrCat(n, " log lines dropped"));
    };
    options.on_drop = [] {
      if (*g_on_drop) (*g_on_drop)();
    };
    return new LogWriter(std::move(options));
  }();
  return *writer;
}

constexpr char kHex[] = "0123456789abcdef";

void AppendUnicodeEscape(unsigned code, std::string* out) {
  const char six[6] = {'\\', 'u', kHex[(code >> 12) & 0xf], kHex[(code >> 8) & 0xf],
                       kHex[(code >> 4) & 0xf], kHex[code & 0xf]};
  out->append(six, 6);
}

// The length of the valid UTF-8 sequence (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF) at p[0] (>= 0x80), or 0.
size_t Utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = p[0];
  size_t length;
  unsigned char low = 0x80, high = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) low = 0xA0;
    if (c == 0xED) high = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) < length) return 0;
  if (p[1] < low || p[1] > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
  }
  return length;
}

}  // namespace

bool ParseLogFormat(absl::string_view name, LogFormat* format) {
  if (name == "text") {
    *format = LogFormat::kText;
  } else if (name == "json") {
    *format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

void SetLogFormat(LogFormat format) { g_format.store(format, std::memory_order_relaxed); }

LogFormat GetLogFormat() { return g_format.load(std::memory_order_relaxed); }

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "ERROR";
}

void AppendLogLineStart(LogFormat format, LogLevel level, absl::Time time, std::string* out) {
  // Milliseconds, UTC: 2024-05-01T12:00:00.123Z (RFC 3339).
  const std::string stamp = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  if (format == LogFormat::kText) {
    absl::StrAppend(out, stamp, " ", LogLevelName(level), " ");
  } else {
    absl::StrAppend(out, "{\"time\":\"", stamp, "\",\"level\":\"", LogLevelName(level), "\"");
  }
}

std::string FormatLogLine(LogFormat format, LogLevel level, absl::Time time,
                          absl::string_view message) {
  std::string line;
  line.reserve(48 + message.size());
  AppendLogLineStart(format, level, time, &line);
  if (format == LogFormat::kText) {
    line.append(message.data(), message.size());
    line += '\n';
  } else {
    line += ",\"msg\":";
    AppendJsonString(message, &line);
    line += "}\n";
  }
  return line;
}

void AppendJsonString(absl::string_view value, std::string* out) {
  out->reserve(out->size() + value.size() + 2);
  out->push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(value.data());
  const auto* const end = p + value.size();
  const auto* run = p;  // bytes from here to p are copied as they are
  auto flush_run = [&] { out->append(reinterpret_cast<const char*>(run), p - run); };
  while (p != end) {
    const unsigned char c = *p;
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      ++p;
      continue;
    }
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(p, end);
      // U+2028 and U+2029 (E2 80 A8/A9) end a line for JavaScript.
      const bool js_line_end = length == 3 && c == 0xE2 && p[1] == 0x80 &&
                               (p[2] == 0xA8 || p[2] == 0xA9);
      if (length > 0 && !js_line_end) {
        p += length;
        continue;
      }
      flush_run();
      if (js_line_end) {
        AppendUnicodeEscape(p[2] == 0xA8 ? 0x2028 : 0x2029, out);
        p += 3;
      } else {
        out->append("\\ufffd");
        ++p;
      }
      run = p;
      continue;
    }
    flush_run();
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:  // other controls and DEL
        AppendUnicodeEscape(c, out);
    }
    run = ++p;
  }
  flush_run();
  out->push_back('"');
}

void Log(LogLevel level, absl::string_view message) {
  EmitLogLine(FormatLogLine(GetLogFormat(), level, absl::Now(), message));
}

void EmitLogLine(std::string line) { ProcessWriter().Write(std::move(line)); }

void StartLogWriter(std::function<void()> on_drop) {
  LogWriter& writer = ProcessWriter();
  *g_on_drop = std::move(on_drop);
  writer.Start();
}

bool FlushLogs(absl::Duration timeout) { return ProcessWriter().Flush(timeout); }

void StopLogWriter() { ProcessWriter().Stop(); }

uint64_t LogLinesDropped() { return ProcessWriter().dropped(); }

}  // namespace llmgateway
