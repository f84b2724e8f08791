// Reads whatever error description Google (or a proxy in front of it) sent;
// tolerant, since an error body is read only for words and hints to pass on,
// never to decide whether the call failed.
#include "server/providers/gemini/error_body.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "server/providers/json/json_read.h"
#include "server/providers/upstream_error.h"
#include "simdjson.h"

namespace llmgateway::gemini {
namespace {

namespace od = ::simdjson::ondemand;
using ::llmgateway::json::ForEachMemberWhileIntact;

// A string value into *out; any other type leaves it alone. False when the
// body broke.
bool ReadText(od::value v, std::string* out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t != od::json_type::string) return true;  // Skipped by the iteration.
  std::string_view s;
  if (v.get_string().get(s)) return false;
  out->assign(s.data(), s.size());
  return true;
}

// An integer value into *out; any other type leaves it alone.
bool ReadCode(od::value v, int64_t* out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t != od::json_type::number) return true;
  int64_t n = 0;
  if (v.get_int64().get(n)) return true;  // 429.5, 1e99: not a code.
  *out = n;
  return true;
}

// "30s", "1.5s" (google.protobuf.Duration's JSON form) -> a delay.
std::optional<absl::Duration> ParseDelay(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (!absl::ConsumeSuffix(&text, "s") || text.empty()) return std::nullopt;
  // Digits and one dot only: ParseRetryAfter would also take an HTTP date.
  for (char c : text) {
    if (!absl::ascii_isdigit(c) && c != '.') return std::nullopt;
  }
  return ParseRetryAfter(text, absl::Now());
}

// One element of `details`: RetryInfo and ErrorInfo are read, in any key
// order; the rest (QuotaFailure, Help, BadRequest, ...) is skipped.
bool ReadDetail(od::object obj, ErrorBody* out) {
  std::string type, retry_delay, reason;
  const bool intact =
      ForEachMemberWhileIntact(obj, [&](std::string_view key, od::value v) {
        if (key == "@type") return ReadText(v, &type);
        if (key == "retryDelay") return ReadText(v, &retry_delay);
        if (key == "reason") return ReadText(v, &reason);
        return true;
      });
  if (absl::EndsWith(type, "google.rpc.RetryInfo") && !retry_delay.empty()) {
    out->retry_delay = ParseDelay(retry_delay);
  } else if (absl::EndsWith(type, "google.rpc.ErrorInfo") && !reason.empty()) {
    out->reason = std::move(reason);
  }
  return intact;
}

bool ReadDetails(od::value v, ErrorBody* out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t != od::json_type::array) return true;
  od::array details;
  if (v.get_array().get(details)) return false;
  for (auto element : details) {
    od::value ev;
    if (std::move(element).get(ev)) return false;
    od::json_type et;
    if (ev.type().get(et)) return false;
    if (et != od::json_type::object) continue;
    od::object obj;
    if (ev.get_object().get(obj) || !ReadDetail(obj, out)) return false;
  }
  return true;
}

// {"code", "message", "status", "details"}. False when the body broke.
bool ReadErrorObject(od::object obj, ErrorBody* out) {
  return ForEachMemberWhileIntact(obj, [&](std::string_view key, od::value v) {
    if (key == "code") return ReadCode(v, &out->code);
    if (key == "message") return ReadText(v, &out->message);
    if (key == "status") return ReadText(v, &out->status);
    if (key == "details") return ReadDetails(v, out);
    return true;
  });
}

void ReadRoot(od::object root, ErrorBody* out) {
  std::string top_message;
  // A broken value ends the read; what was read before it is kept.
  ForEachMemberWhileIntact(root, [&](std::string_view key, od::value v) {
    if (key == "error") {
      od::json_type t;
      if (v.type().get(t)) return false;
      if (t == od::json_type::object) {
        od::object obj;
        return !v.get_object().get(obj) && ReadErrorObject(obj, out);
      }
      return ReadText(v, &out->message);
    }
    if (key == "message") return ReadText(v, &top_message);
    return true;
  });
  if (out->message.empty()) out->message = std::move(top_message);
}

}  // namespace

ErrorBody ParseErrorBody(absl::string_view body) {
  ErrorBody out;
  // A string_view promises no spare bytes past its end; error bodies are
  // small and rare, so one copy is cheaper than a contract.
  const simdjson::padded_string json(body.data(), body.size());
  thread_local od::parser parser;
  od::document doc;
  if (parser.iterate(json).get(doc)) return out;
  od::json_type t;
  if (doc.type().get(t)) return out;
  od::object root;
  if (t == od::json_type::array) {
    // [{"error": {...}}]: the first element holds it.
    od::array arr;
    if (doc.get_array().get(arr)) return out;
    for (auto element : arr) {
      od::value first;
      if (std::move(element).get(first) || first.get_object().get(root)) {
        return out;
      }
      ReadRoot(root, &out);
      break;
    }
    return out;
  }
  if (doc.get_object().get(root)) return out;
  ReadRoot(root, &out);
  return out;
}

bool SaysKeyRejected(const ErrorBody& error) {
  return error.reason == "API_KEY_INVALID" ||
         error.reason == "API_KEY_EXPIRED" ||
         error.reason == "API_KEY_SERVICE_BLOCKED";
}

bool SaysContextLengthExceeded(const ErrorBody& error) {
  const std::string message = absl::AsciiStrToLower(error.message);
  return absl::StrContains(message, "exceeds the maximum number of tokens") ||
         (absl::StrContains(message, "input token count") &&
          absl::StrContains(message, "exceed"));
}

absl::StatusCode CodeForGoogleStatus(absl::string_view status) {
  if (status == "INVALID_ARGUMENT" || status == "FAILED_PRECONDITION" ||
      status == "OUT_OF_RANGE") {
    return absl::StatusCode::kInvalidArgument;
  }
  if (status == "UNAUTHENTICATED" || status == "PERMISSION_DENIED") {
    return absl::StatusCode::kInternal;
  }
  if (status == "NOT_FOUND") return absl::StatusCode::kNotFound;
  if (status == "RESOURCE_EXHAUSTED") {
    return absl::StatusCode::kResourceExhausted;
  }
  return absl::StatusCode::kUnavailable;
}

}  // namespace llmgateway::gemini
