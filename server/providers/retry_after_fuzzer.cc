// libFuzzer entry point for ParseRetryAfter, the one header value the
// gateway turns into a number it then sleeps on and hands to callers
// (RetryInfo). Checks: the delay is within [0, kMaxRetryAfter], an exact
// number of seconds is read exactly, the result does not depend on
// surrounding whitespace, and WithRetryInfo makes a valid Duration of it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/status_details.h"
#include "server/providers/upstream_error.h"
#include "tests/fuzz/fuzz_checks.h"

using llmgateway::fuzz::Fail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view value(reinterpret_cast<const char*>(data), size);
  // A fixed "now", so a date input always means the same delay.
  const absl::Time now = absl::FromUnixSeconds(1764403200);  // 2025-11-29
  const std::optional<absl::Duration> delay = llmgateway::ParseRetryAfter(value, now);
  if (!delay.has_value()) return 0;
  if (*delay < absl::ZeroDuration() || *delay > llmgateway::kMaxRetryAfter) {
    Fail("ParseRetryAfter", absl::StrCat("\"", value, "\" -> ", absl::FormatDuration(*delay)));
  }

  // delay-seconds (RFC 9110: 1*DIGIT) is read exactly, up to the cap.
  const absl::string_view trimmed = absl::StripAsciiWhitespace(value);
  uint64_t seconds = 0;
  if (!trimmed.empty() && trimmed.size() <= 18 &&
      trimmed.find_first_not_of("0123456789") == absl::string_view::npos &&
      absl::SimpleAtoi(trimmed, &seconds)) {
    const absl::Duration want =
        std::min(absl::Seconds(static_cast<int64_t>(seconds)), llmgateway::kMaxRetryAfter);
    if (*delay != want) Fail("ParseRetryAfter", absl::StrCat("\"", value, "\" is not read exactly"));
  }
  if (llmgateway::ParseRetryAfter(absl::StrCat(" ", value, "\t"), now) != delay) {
    Fail("ParseRetryAfter", "depends on surrounding whitespace");
  }

  const absl::Status status =
      llmgateway::WithRetryInfo(absl::UnavailableError("x"), *delay);
  const auto info = llmgateway::GetRetryInfo(status);
  if (!info.has_value()) Fail("WithRetryInfo", "no RetryInfo");
  const auto& d = info->retry_delay();
  if (d.seconds() < 0 || d.seconds() > 86400 || d.nanos() < 0 || d.nanos() > 999999999) {
    Fail("WithRetryInfo", d.ShortDebugString());
  }
  return 0;
}
