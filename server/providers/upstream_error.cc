// The upstream-failure -> gateway-status table (see the header).
#include "server/providers/upstream_error.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_replace.h"
#include "server/common/status_details.h"
#include "server/common/utf8.h"

namespace llmgateway {
namespace {

bool SaysContextLengthExceeded(const UpstreamHttpFailure& failure) {
  if (failure.error_code == "context_length_exceeded" ||
      failure.error_type == "context_length_exceeded") {
    return true;
  }
  // vLLM, llama.cpp and others send only a message.
  const std::string message = absl::AsciiStrToLower(failure.message);
  return absl::StrContains(message, "context length") ||
         absl::StrContains(message, "context window") ||
         absl::StrContains(message, "maximum context");
}

// Azure OpenAI's content filter refusing the prompt: 400, code
// "content_filter" (its innererror says ResponsibleAIPolicyViolation).
bool SaysContentFiltered(const UpstreamHttpFailure& failure) {
  return failure.error_code == "content_filter" || failure.error_type == "content_filter";
}

bool SaysQuotaSpent(const UpstreamHttpFailure& failure) {
  return failure.error_code == "insufficient_quota" ||
         failure.error_type == "insufficient_quota";
}

std::string Describe(const UpstreamHttpFailure& failure, absl::string_view what) {
  if (failure.message.empty()) {
    return absl::StrCat("provider \"", failure.provider, "\" ", what, " (HTTP ",
                        failure.http_status, ")");
  }
  return absl::StrCat("provider \"", failure.provider, "\" ", what, " (HTTP ",
                      failure.http_status, "): ",
                      BoundUpstreamMessage(std::string(failure.message)));
}

}  // namespace

absl::Status UpstreamHttpError(const UpstreamHttpFailure& failure) {
  const std::string http_status = absl::StrCat(failure.http_status);
  auto with_info = [&](absl::Status status, absl::string_view reason) {
    return WithErrorInfo(std::move(status), reason,
                         {{kMetaProvider, failure.provider},
                          {kMetaUpstreamStatus, http_status}});
  };
  const long code = failure.http_status;
  if (failure.key_rejected || code == 401 || code == 403) {
    // The upstream's message may quote (part of) our key: never pass it on.
    return with_info(
        absl::InternalError(absl::StrCat(
            "provider \"", failure.provider,
            "\" rejected the gateway's credentials (HTTP ", code,
            "); check the API key configured for it")),
        "UPSTREAM_AUTH_FAILED");
  }
  if (code == 400 || code == 413 || code == 422) {
    if (SaysContentFiltered(failure)) {
      return with_info(absl::InvalidArgumentError(Describe(
                           failure, "filtered the request's content")),
                       "CONTENT_FILTERED");
    }
    if (SaysContextLengthExceeded(failure)) {
      return with_info(absl::InvalidArgumentError(Describe(
                           failure, "says the input exceeds the context length")),
                       "CONTEXT_LENGTH_EXCEEDED");
    }
    return with_info(
        absl::InvalidArgumentError(Describe(failure, "rejected the request")),
        "UPSTREAM_INVALID_REQUEST");
  }
  if (code == 404) {
    return with_info(
        absl::NotFoundError(Describe(failure, "does not know the model")),
        "MODEL_NOT_FOUND");
  }
  if (code == 408) {
    return with_info(
        absl::DeadlineExceededError(Describe(failure, "timed out")),
        "UPSTREAM_TIMEOUT");
  }
  if (code == 429) {
    if (SaysQuotaSpent(failure)) {
      // Retrying will not help until someone adds quota: no RetryInfo.
      return with_info(absl::ResourceExhaustedError(
                           Describe(failure, "says the quota is spent")),
                       "QUOTA_EXHAUSTED");
    }
    absl::Status status = with_info(
        absl::ResourceExhaustedError(Describe(failure, "is rate limiting")),
        "RATE_LIMITED");
    return failure.retry_after.has_value()
               ? WithRetryInfo(std::move(status), *failure.retry_after)
               : status;
  }
  if (code >= 500 && code <= 599) {
    absl::Status status = with_info(
        absl::UnavailableError(Describe(failure, "failed")), "UPSTREAM_UNAVAILABLE");
    return failure.retry_after.has_value()
               ? WithRetryInfo(std::move(status), *failure.retry_after)
               : status;
  }
  return with_info(absl::UnknownError(Describe(failure, "answered with an error")),
                   "UPSTREAM_ERROR");
}

absl::Status UpstreamTransportError(absl::string_view provider,
                                    const absl::Status& transport) {
  auto with_info = [&](absl::Status status, absl::string_view reason) {
    return WithErrorInfo(std::move(status), reason, {{kMetaProvider, provider}});
  };
  switch (transport.code()) {
    case absl::StatusCode::kCancelled:
      return with_info(absl::CancelledError("the call was cancelled"), "CANCELLED");
    case absl::StatusCode::kDeadlineExceeded:
      return with_info(absl::DeadlineExceededError(absl::StrCat(
                           "provider \"", provider, "\" did not answer in time")),
                       "UPSTREAM_TIMEOUT");
    case absl::StatusCode::kResourceExhausted:
      return with_info(absl::UnavailableError(absl::StrCat(
                           "provider \"", provider, "\" sent a response too large: ",
                           transport.message())),
                       "UPSTREAM_BAD_RESPONSE");
    case absl::StatusCode::kFailedPrecondition:
      // Like a rejected key: the gateway's setup, which no retry on this
      // target fixes (Classify moves on to the next one).
      return with_info(absl::InternalError(absl::StrCat(
                           "provider \"", provider,
                           "\" presented a TLS certificate the gateway does not trust; "
                           "for a private CA, set the provider's ca_file")),
                       "UPSTREAM_TLS_UNTRUSTED");
    default:
      return with_info(absl::UnavailableError(absl::StrCat(
                           "provider \"", provider, "\" is unreachable: ",
                           transport.message())),
                       "UPSTREAM_UNREACHABLE");
  }
}

absl::Status UpstreamStreamBroken(absl::string_view provider,
                                  const absl::Status& transport) {
  if (transport.code() == absl::StatusCode::kCancelled ||
      transport.code() == absl::StatusCode::kDeadlineExceeded) {
    return UpstreamTransportError(provider, transport);
  }
  return WithErrorInfo(
      absl::UnavailableError(absl::StrCat(
          "provider \"", provider, "\" ended its stream before the end marker: ",
          transport.ok() ? "the response ended" : transport.message())),
      "UPSTREAM_STREAM_BROKEN", {{kMetaProvider, provider}});
}

absl::Status UpstreamBadResponse(absl::string_view provider,
                                 const absl::Status& parse_error) {
  return WithErrorInfo(
      absl::UnavailableError(absl::StrCat("provider \"", provider,
                                          "\" sent a response the gateway could "
                                          "not read: ",
                                          parse_error.message())),
      "UPSTREAM_BAD_RESPONSE", {{kMetaProvider, provider}});
}

namespace {

// The shortest start of the key worth hiding at a message's cut: shorter
// ones ("sk-") say nothing about the key.
constexpr size_t kMinKeyPrefix = 4;

// Messages are cut to a bounded size before they reach here (the adapters'
// message bound, the error-body cap), and a cut can fall inside the key:
// the start of the key at the very end of the message (before a "..."
// marker) goes too.
void RedactCutKey(std::string& message, absl::string_view secret) {
  absl::string_view body = message;
  const bool elided = absl::ConsumeSuffix(&body, "...");
  for (size_t k = std::min(secret.size() - 1, body.size()); k >= kMinKeyPrefix; --k) {
    if (absl::EndsWith(body, secret.substr(0, k))) {
      message = absl::StrCat(body.substr(0, body.size() - k), "[redacted]", elided ? "..." : "");
      return;
    }
  }
}

}  // namespace

std::string BoundUpstreamMessage(std::string message) {
  if (message.size() > kMaxUpstreamMessageBytes) {
    message.resize(Utf8CharStart(message, kMaxUpstreamMessageBytes, 0));
    message += "...";
  }
  return message;
}

absl::Status RedactSecret(absl::Status status, absl::string_view secret) {
  if (secret.empty() || status.ok()) return status;
  std::string message = absl::StrReplaceAll(status.message(), {{secret, "[redacted]"}});
  RedactCutKey(message, secret);
  if (message == status.message()) return status;
  absl::Status redacted(status.code(), message);
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    redacted.SetPayload(type_url, payload);
  });
  return redacted;
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value,
                                              absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  double seconds = 0;
  if (absl::SimpleAtod(value, &seconds)) {
    // SimpleAtod takes "nan", "inf" and "-5": none is a delay an upstream
    // can mean, but a huge one still says "not soon".
    if (std::isnan(seconds) || seconds < 0) return std::nullopt;
    if (seconds >= absl::ToDoubleSeconds(kMaxRetryAfter)) return kMaxRetryAfter;
    return absl::Seconds(seconds);
  }
  // RFC 9110 HTTP-date (IMF-fixdate), e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
  absl::Time when;
  std::string error;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(value),
                      absl::UTCTimeZone(), &when, &error)) {
    if (when <= now) return absl::ZeroDuration();
    return std::min(when - now, kMaxRetryAfter);
  }
  return std::nullopt;
}

}  // namespace llmgateway
