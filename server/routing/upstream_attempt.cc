// The shared transfer glue (see the header).
#include "server/routing/upstream_attempt.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "server/common/status_details.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::routing {
namespace {

// An error response is read for its message only.
constexpr size_t kMaxErrorBodyBytes = 64 << 10;

bool IsSuccess(long status) { return status >= 200 && status < 300; }

// The gateway sends no Accept-Encoding, so a body must come as is: a
// compressed one would only read as garbage (or as a stream that never
// sends an event).
absl::Status CheckContentEncoding(const http::ResponseHead& head) {
  const std::string* encoding = head.Find("content-encoding");
  if (encoding == nullptr) return absl::OkStatus();
  const absl::string_view value = absl::StripAsciiWhitespace(*encoding);
  if (value.empty() || absl::EqualsIgnoreCase(value, "identity")) return absl::OkStatus();
  // Named only when it is a short token: the header is the upstream's text.
  const bool nameable =
      value.size() <= 32 && std::all_of(value.begin(), value.end(), [](char c) {
        return absl::ascii_isalnum(c) || c == '-' || c == ',' || c == ' ';
      });
  return absl::InvalidArgumentError(absl::StrCat(
      "the response is compressed (Content-Encoding", nameable ? ": " : "",
      nameable ? value : "", ") though the gateway asked for no encoding"));
}

}  // namespace

UpstreamAttempt::UpstreamAttempt(const Adapter& adapter, bool stream, size_t max_body_bytes,
                                 AttemptSink* sink)
    : adapter_(adapter), stream_(stream), max_body_bytes_(max_body_bytes), sink_(sink) {}

void UpstreamAttempt::OnHead(const http::ResponseHead& head) {
  http_status_ = head.status;
  if (!IsSuccess(head.status)) {
    if (const std::string* retry_after = head.Find("retry-after")) retry_after_ = *retry_after;
    return;
  }
  if (absl::Status encoded = CheckContentEncoding(head); !encoded.ok()) {
    failure_ = UpstreamBadResponse(adapter_.name(), encoded);
    return;
  }
  if (stream_) {
    sse_ = std::make_unique<http::SseParser>();
    decoder_ = adapter_.NewStreamDecoder();
    return;
  }
  uint64_t length = 0;
  const std::string* cl = head.Find("content-length");
  if (cl != nullptr && absl::SimpleAtoi(*cl, &length) && length <= max_body_bytes_) {
    body_.reserve(length + http::kBodyPadding);
  }
}

http::BodyAction UpstreamAttempt::OnBody(absl::string_view chunk) {
  if (!failure_.ok()) return http::BodyAction::kAbort;
  if (!IsSuccess(http_status_)) {
    const size_t room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, body_.size());
    body_.append(chunk.data(), std::min(room, chunk.size()));
    return http::BodyAction::kContinue;
  }
  if (stream_) return OnStreamBody(chunk);
  if (body_.size() + chunk.size() > max_body_bytes_) {
    body_too_large_ = true;
    return http::BodyAction::kAbort;
  }
  body_.append(chunk.data(), chunk.size());
  return http::BodyAction::kContinue;
}

http::BodyAction UpstreamAttempt::OnStreamBody(absl::string_view chunk) {
  bool wants_more = true;
  const absl::Status fed = sse_->Feed(chunk, [&](const http::SseEvent& event) {
    llmgateway::v1::GenerateStreamResponse delta;
    absl::StatusOr<StreamDecoder::Result> result = decoder_->Decode(event.type, event.data, &delta);
    if (!result.ok()) {
      failure_ = result.status();
      return false;
    }
    if (*result == StreamDecoder::Result::kDelta) {
      wants_more = sink_->OnAttemptDelta(std::move(delta)) && wants_more;
    }
    // Anything after the end marker is not part of the answer.
    return *result != StreamDecoder::Result::kDone;
  });
  if (!fed.ok()) failure_ = UpstreamBadResponse(adapter_.name(), fed);
  if (!failure_.ok()) return http::BodyAction::kAbort;
  return wants_more ? http::BodyAction::kContinue : http::BodyAction::kPause;
}

absl::Status UpstreamAttempt::HttpError() {
  HttpErrorResponse response;
  response.status = http_status_;
  response.body = body_;
  if (!retry_after_.empty()) response.retry_after = ParseRetryAfter(retry_after_, absl::Now());
  return adapter_.MapHttpError(response);
}

absl::Status UpstreamAttempt::StreamOutcome(const absl::Status& transport) {
  if (!failure_.ok()) return failure_;
  // The end marker makes the answer whole, whatever the connection did after it.
  if (decoder_ != nullptr && decoder_->done()) return absl::OkStatus();
  if (http_status_ == 0) return UpstreamTransportError(adapter_.name(), transport);
  if (!IsSuccess(http_status_)) {
    if (!transport.ok()) return UpstreamTransportError(adapter_.name(), transport);
    return HttpError();
  }
  return UpstreamStreamBroken(adapter_.name(), transport);
}

absl::Status UpstreamAttempt::UnaryOutcome(const absl::Status& transport,
                                           llmgateway::v1::GenerateResponse* response) {
  if (!failure_.ok()) return failure_;
  if (body_too_large_) {
    return UpstreamTransportError(
        adapter_.name(), absl::ResourceExhaustedError(absl::StrCat(
                             "response body exceeds the ", max_body_bytes_, "-byte cap")));
  }
  if (!transport.ok()) return UpstreamTransportError(adapter_.name(), transport);
  if (!IsSuccess(http_status_)) return HttpError();
  if (body_.capacity() < body_.size() + http::kBodyPadding) {
    body_.reserve(body_.size() + http::kBodyPadding);
  }
  absl::Status parsed = adapter_.ParseResponse(body_, response);
  if (!parsed.ok()) {
    // An answer the adapter classified itself (Gemini's blocked prompt,
    // CONTENT_FILTERED) keeps its status; anything else is a body it could
    // not read.
    if (GetErrorInfo(parsed).has_value()) return parsed;
    return UpstreamBadResponse(adapter_.name(), parsed);
  }
  response->set_provider(adapter_.name());
  return absl::OkStatus();
}

void UpstreamAttempt::OnComplete(absl::Status transport) {
  AttemptOutcome outcome;
  outcome.http_status = http_status_;
  outcome.network_error = http::NetworkDetail(transport);
  if (stream_) {
    outcome.status = StreamOutcome(transport);
    if (outcome.status.ok()) {
      llmgateway::v1::GenerateStreamResponse last;
      decoder_->Finish(&last);
      sink_->OnAttemptDelta(std::move(last));
    }
  } else {
    outcome.status = UnaryOutcome(transport, &outcome.response);
  }
  // Whatever produced it (an error event, an error body), the message never
  // carries the provider's key.
  if (!outcome.status.ok()) {
    for (absl::string_view secret : adapter_.secrets()) {
      outcome.status = RedactSecret(std::move(outcome.status), secret);
      // curl never sees the key outside headers, but a URL may carry one.
      absl::StrReplaceAll({{secret, "[redacted]"}}, &outcome.network_error);
    }
  }
  // Last touch of `this`: the sink may destroy the attempt.
  sink_->OnAttemptDone(std::move(outcome));
}

}  // namespace llmgateway::routing
