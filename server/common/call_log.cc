// The per-call line in both formats, built in one string.
#include "server/common/call_log.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace llmgateway {
namespace {

// Today's text line, unchanged: tests and operators' greps read it. Caller
// text (model names, error messages) is C-escaped so it cannot forge lines;
// request ids and labels are validated before they get here.
void AppendText(const CallLogRecord& r, std::string* line) {
  absl::StrAppend(line, "rpc=", r.method, " request_id=", r.request_id);
  // Key ids are validated config text (letters, digits, '_-.').
  if (!r.key_id.empty()) absl::StrAppend(line, " key=", r.key_id);
  absl::StrAppend(line, " model=", absl::CHexEscape(r.model),
                  " provider=", r.provider.empty() ? "-" : r.provider,
                  " code=", StatusCodeName(r.code), " ms=", r.latency_ms);
  if (r.has_usage) {
    absl::StrAppend(line, " prompt_tokens=", r.input_tokens,
                    " completion_tokens=", r.output_tokens);
  }
  if (r.messages >= 0) absl::StrAppend(line, " messages=", r.messages);
  if (!r.labels.empty()) {
    absl::StrAppend(line, " labels=");
    for (size_t i = 0; i < r.labels.size(); ++i) {
      absl::StrAppend(line, i == 0 ? "" : ",", r.labels[i].first, ":", r.labels[i].second);
    }
  }
  // Every upstream request: provider/model:outcome/http:ms, and after a
  // network failure :"curl's words".
  absl::StrAppend(line, " attempts=", r.attempts.size());
  for (size_t i = 0; i < r.attempts.size(); ++i) {
    const CallLogAttempt& a = r.attempts[i];
    absl::StrAppend(line, i == 0 ? " [" : ",", a.provider, "/", absl::CHexEscape(a.model), ":",
                    StatusCodeName(a.code), "/", a.http_status, ":", a.latency_ms, "ms");
    if (!a.network_error.empty()) {
      absl::StrAppend(line, ":\"", absl::CHexEscape(a.network_error), "\"");
    }
  }
  if (!r.attempts.empty()) *line += ']';
  if (r.code != absl::StatusCode::kOk) {
    absl::StrAppend(line, " error=\"", absl::CHexEscape(r.error), "\"");
  }
  *line += '\n';
}

// `,"key":"value"` (key is ours: plain text).
void AppendString(absl::string_view key, absl::string_view value, std::string* line) {
  absl::StrAppend(line, ",\"", key, "\":");
  AppendJsonString(value, line);
}

void AppendJson(const CallLogRecord& r, std::string* line) {
  AppendString("request_id", r.request_id, line);
  if (!r.key_id.empty()) AppendString("key", r.key_id, line);
  AppendString("method", r.method, line);
  AppendString("model", r.model, line);
  AppendString("provider", r.provider, line);
  AppendString("code", StatusCodeName(r.code), line);
  absl::StrAppend(line, ",\"latency_ms\":", r.latency_ms, ",\"attempts\":", r.attempts.size(),
                  ",\"input_tokens\":", r.input_tokens, ",\"output_tokens\":", r.output_tokens);
  if (r.messages >= 0) absl::StrAppend(line, ",\"messages\":", r.messages);
  *line += ",\"labels\":{";
  for (size_t i = 0; i < r.labels.size(); ++i) {
    if (i > 0) *line += ',';
    AppendJsonString(r.labels[i].first, line);
    *line += ':';
    AppendJsonString(r.labels[i].second, line);
  }
  *line += "},\"upstream_attempts\":[";
  for (size_t i = 0; i < r.attempts.size(); ++i) {
    const CallLogAttempt& a = r.attempts[i];
    *line += i == 0 ? "{\"provider\":" : ",{\"provider\":";
    AppendJsonString(a.provider, line);
    *line += ",\"model\":";
    AppendJsonString(a.model, line);
    absl::StrAppend(line, ",\"code\":\"", StatusCodeName(a.code), "\",\"http_status\":",
                    a.http_status, ",\"latency_ms\":", a.latency_ms);
    if (!a.network_error.empty()) AppendString("network_error", a.network_error, line);
    *line += '}';
  }
  *line += ']';
  if (r.code != absl::StatusCode::kOk) AppendString("error", r.error, line);
  *line += "}\n";
}

}  // namespace

absl::string_view StatusCodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "OK";
    case absl::StatusCode::kCancelled:
      return "CANCELLED";
    case absl::StatusCode::kUnknown:
      return "UNKNOWN";
    case absl::StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case absl::StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case absl::StatusCode::kNotFound:
      return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case absl::StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case absl::StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case absl::StatusCode::kAborted:
      return "ABORTED";
    case absl::StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case absl::StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case absl::StatusCode::kInternal:
      return "INTERNAL";
    case absl::StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case absl::StatusCode::kDataLoss:
      return "DATA_LOSS";
    case absl::StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

std::string FormatCallLogLine(const CallLogRecord& record, LogFormat format, absl::Time time) {
  std::string line;
  line.reserve(256 + record.error.size() + 64 * record.attempts.size() +
               32 * record.labels.size());
  AppendLogLineStart(format,
                     record.code == absl::StatusCode::kOk ? LogLevel::kInfo : LogLevel::kWarning,
                     time, &line);
  if (format == LogFormat::kText) {
    AppendText(record, &line);
  } else {
    AppendJson(record, &line);
  }
  return line;
}

std::string FormatRpcLogLine(const RpcLogRecord& r, LogFormat format, absl::Time time) {
  std::string line;
  line.reserve(192 + r.error.size() + 24 * (r.fields.size() + r.after_fields.size()));
  AppendLogLineStart(format,
                     r.code == absl::StatusCode::kOk ? LogLevel::kInfo : LogLevel::kWarning,
                     time, &line);
  if (format == LogFormat::kText) {
    absl::StrAppend(&line, "rpc=", r.method, " request_id=", r.request_id);
    if (!r.key_id.empty()) absl::StrAppend(&line, " key=", r.key_id);
    for (const RpcLogField& f : r.fields) absl::StrAppend(&line, " ", f.key, "=", f.value);
    absl::StrAppend(&line, " code=", StatusCodeName(r.code), " ms=", r.latency_ms);
    for (const RpcLogField& f : r.after_fields) absl::StrAppend(&line, " ", f.key, "=", f.value);
    if (r.code != absl::StatusCode::kOk) {
      absl::StrAppend(&line, " error=\"", absl::CHexEscape(r.error), "\"");
    }
    line += '\n';
    return line;
  }
  AppendString("request_id", r.request_id, &line);
  if (!r.key_id.empty()) AppendString("key", r.key_id, &line);
  AppendString("method", r.method, &line);
  AppendString("code", StatusCodeName(r.code), &line);
  absl::StrAppend(&line, ",\"latency_ms\":", r.latency_ms);
  for (const auto* fields : {&r.fields, &r.after_fields}) {
    for (const RpcLogField& f : *fields) {
      if (f.number) {
        absl::StrAppend(&line, ",\"", f.key, "\":", f.value);
      } else {
        AppendString(f.key, f.value, &line);
      }
    }
  }
  if (r.code != absl::StatusCode::kOk) AppendString("error", r.error, &line);
  line += "}\n";
  return line;
}

void LogRpc(const RpcLogRecord& record) {
  EmitLogLine(FormatRpcLogLine(record, GetLogFormat(), absl::Now()));
}

void LogCall(const CallLogRecord& record) {
  EmitLogLine(FormatCallLogLine(record, GetLogFormat(), absl::Now()));
}

}  // namespace llmgateway
