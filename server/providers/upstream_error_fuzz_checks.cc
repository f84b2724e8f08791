// Invariants of the upstream-error table under fuzzed input (see the header).
#include "server/providers/upstream_error_fuzz_checks.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/rpc/status.pb.h"
#include "server/common/rpc_status.h"
#include "server/common/status_details.h"
#include "server/providers/upstream_error.h"
#include "tests/fuzz/fuzz_checks.h"

namespace llmgateway::fuzz {

bool FuzzedHttpError(const uint8_t* data, size_t size, HttpErrorResponse* response) {
  if (size == 0) return false;
  static constexpr long kStatuses[] = {400, 401, 403, 404, 408, 413, 422, 429,
                                       500, 502, 503, 504, 418, 302, 431, 599};
  response->status = kStatuses[data[0] & 0x0F];
  // Retry-After as the engine hands it over: already parsed and clamped.
  if (data[0] & 0x10) response->retry_after = absl::Seconds(data[0] >> 5);
  response->body = absl::string_view(reinterpret_cast<const char*>(data) + 1, size - 1);
  return true;
}

void CheckUpstreamStatus(const absl::Status& status, absl::string_view what) {
  if (status.ok()) return;
  // The upstream's words are cut to kMaxUpstreamMessageBytes; what the
  // gateway adds ("provider \"fuzz\" rejected the request (HTTP 400): ") is
  // short.
  constexpr size_t kBound = kMaxUpstreamMessageBytes + 128;
  if (status.message().size() > kBound) {
    Fail(what, absl::StrCat("message of ", status.message().size(), " bytes (bound ", kBound,
                            ")"));
  }
  if (!IsValidUtf8(status.message())) {
    Fail(what, absl::StrCat("message is not UTF-8: ", absl::CHexEscape(status.message())));
  }
  CheckWireSafe(ToRpcStatus(status), what);
}

bool SameStatus(const absl::Status& a, const absl::Status& b) {
  if (a.code() != b.code() || a.message() != b.message()) return false;
  int payloads_a = 0, payloads_b = 0;
  a.ForEachPayload([&](absl::string_view, const absl::Cord&) { ++payloads_a; });
  b.ForEachPayload([&](absl::string_view, const absl::Cord&) { ++payloads_b; });
  if (payloads_a != payloads_b) return false;
  const auto info_a = GetErrorInfo(a), info_b = GetErrorInfo(b);
  const auto retry_a = GetRetryInfo(a), retry_b = GetRetryInfo(b);
  using google::protobuf::util::MessageDifferencer;
  return info_a.has_value() == info_b.has_value() &&
         (!info_a.has_value() || MessageDifferencer::Equals(*info_a, *info_b)) &&
         retry_a.has_value() == retry_b.has_value() &&
         (!retry_a.has_value() || MessageDifferencer::Equals(*retry_a, *retry_b));
}

void CheckMappedHttpError(const absl::Status& status) {
  if (status.ok()) Fail("MapHttpError", "OK for an HTTP error");
  CheckUpstreamStatus(status, "MapHttpError");
  if (absl::StrContains(status.message(), kFuzzKey)) {
    Fail("MapHttpError", "the key is in the message");
  }
  const std::optional<google::rpc::ErrorInfo> info = GetErrorInfo(status);
  if (!info.has_value() || info->reason().empty()) Fail("MapHttpError", "no ErrorInfo reason");
  CheckWireSafe(*info, "ErrorInfo");
  if (const auto retry = GetRetryInfo(status); retry.has_value()) {
    CheckWireSafe(*retry, "RetryInfo");
    const auto& delay = retry->retry_delay();
    // google.protobuf.Duration's rules, and the gateway's 24 h cap.
    if (delay.seconds() < 0 || delay.seconds() > 86400 || delay.nanos() < 0 ||
        delay.nanos() > 999999999) {
      Fail("RetryInfo", absl::StrCat("retry_delay ", delay.ShortDebugString()));
    }
  }
}

void CheckResponseInput(const uint8_t* data, size_t size, ResponseParser parse) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::string padded;
  padded.reserve(size + 64);
  padded = input;
  v1::GenerateResponse a;
  const absl::Status sa = parse(padded, &a);

  std::string tight = input;
  tight.shrink_to_fit();
  v1::GenerateResponse b;
  const absl::Status sb = parse(tight, &b);
  if (!SameStatus(sa, sb) || !google::protobuf::util::MessageDifferencer::Equals(a, b)) {
    Fail("parsing in place and from a copy differ", sa.ToString() + " / " + sb.ToString() +
                                                        "\n" + a.ShortDebugString() + "\n" +
                                                        b.ShortDebugString());
  }
  if (sa.ok()) {
    CheckWireSafe(a, "GenerateResponse");
  } else {
    CheckUpstreamStatus(UpstreamBadResponse("fuzz", sa), "UpstreamBadResponse");
  }
}

}  // namespace llmgateway::fuzz
