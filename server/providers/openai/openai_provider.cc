// Request assembly, timeouts and response/error mapping for OpenAI-compatible
// upstreams, unary and streamed.
#include "server/providers/openai/openai_provider.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/status_details.h"
#include "server/http/sse_parser.h"
#include "server/providers/openai/chat_request.h"
#include "server/providers/openai/chat_response.h"
#include "server/providers/openai/chat_stream.h"
#include "server/providers/openai/error_body.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::openai {
namespace {

constexpr absl::string_view kBearerPrefix = "Authorization: Bearer ";
// An error response is read for its message only.
constexpr size_t kMaxErrorBodyBytes = 64 << 10;

absl::Duration ToDuration(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
}

bool IsSuccess(long status) { return status >= 200 && status < 300; }

}  // namespace

// One streamed upstream transfer: SSE bytes -> events -> v1 deltas, handed to
// the observer as they arrive. Owns itself: created by GenerateStream,
// deleted in OnComplete (the HTTP client's last call), just before it
// completes the observer.
class OpenAiProvider::StreamTransfer final : public http::TransferHandler {
 public:
  StreamTransfer(const OpenAiProvider* provider, StreamObserver* observer)
      : provider_(provider), observer_(observer), decoder_(provider->name()) {}

  void OnHead(const http::ResponseHead& head) override {
    http_status_ = head.status;
    if (!IsSuccess(head.status)) error_head_ = head;
  }

  http::BodyAction OnBody(absl::string_view chunk) override {
    if (!IsSuccess(http_status_)) {
      const size_t room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, error_body_.size());
      error_body_.append(chunk.data(), std::min(room, chunk.size()));
      return http::BodyAction::kContinue;
    }
    bool wants_more = true;
    const absl::Status fed = sse_.Feed(chunk, [&](const http::SseEvent& event) {
      llmgateway::v1::GenerateStreamResponse delta;
      absl::StatusOr<ChatStreamDecoder::Result> result = decoder_.Decode(event.data, &delta);
      if (!result.ok()) {
        failure_ = result.status();
        return false;
      }
      if (*result == ChatStreamDecoder::Result::kDelta) {
        wants_more = observer_->OnMessage(std::move(delta)) && wants_more;
      }
      // Anything after [DONE] is not part of the answer.
      return *result != ChatStreamDecoder::Result::kDone;
    });
    if (!fed.ok()) failure_ = UpstreamBadResponse(provider_->name(), fed);
    if (!failure_.ok()) return http::BodyAction::kAbort;
    return wants_more ? http::BodyAction::kContinue : http::BodyAction::kPause;
  }

  void OnComplete(absl::Status transport) override {
    absl::Status status = Outcome(transport);
    if (status.ok()) {
      llmgateway::v1::GenerateStreamResponse last;
      decoder_.Finish(&last);
      observer_->OnMessage(std::move(last));
    }
    StreamObserver* observer = observer_;
    delete this;
    observer->OnComplete(std::move(status));
  }

 private:
  absl::Status Outcome(const absl::Status& transport) const {
    if (!failure_.ok()) return failure_;
    // [DONE] makes the answer whole, whatever the connection did after it.
    if (decoder_.done()) return absl::OkStatus();
    if (http_status_ == 0) return UpstreamTransportError(provider_->name(), transport);
    if (!IsSuccess(http_status_)) {
      if (!transport.ok()) return UpstreamTransportError(provider_->name(), transport);
      return provider_->HttpError(error_head_, error_body_);
    }
    return UpstreamStreamBroken(provider_->name(), transport);
  }

  const OpenAiProvider* const provider_;
  StreamObserver* const observer_;
  http::SseParser sse_;
  ChatStreamDecoder decoder_;
  long http_status_ = 0;
  http::ResponseHead error_head_;
  std::string error_body_;
  absl::Status failure_;
};

OpenAiProvider::OpenAiProvider(const config::Provider& config, std::string api_key,
                               http::HttpClient* http)
    : config_(config),
      unsupported_fields_(config.capabilities().unsupported_fields().begin(),
                          config.capabilities().unsupported_fields().end()),
      media_types_(config.capabilities().media_types().begin(),
                   config.capabilities().media_types().end()),
      chat_url_(absl::StrCat(config.base_url(), "/chat/completions")),
      authorization_(api_key.empty() ? std::string() : absl::StrCat(kBearerPrefix, api_key)),
      http_(http) {}

absl::StatusOr<http::HttpRequest> OpenAiProvider::MakeHttpRequest(
    const llmgateway::v1::GenerateRequest& request, const UpstreamCallOptions& options,
    bool stream) const {
  ChatRequestOptions chat_options;
  chat_options.upstream_model = options.upstream_model;
  chat_options.provider_name = config_.name();
  chat_options.stream = stream;
  chat_options.unsupported_fields = unsupported_fields_;
  chat_options.drop_unsupported = config_.capabilities().drop_unsupported();
  chat_options.media_types = media_types_;
  if (!config_.capabilities().max_tokens_field().empty()) {
    chat_options.max_tokens_field = config_.capabilities().max_tokens_field();
  }
  absl::StatusOr<std::string> body = BuildChatRequest(request, chat_options);
  if (!body.ok()) return WithErrorMetadata(body.status(), kMetaProvider, config_.name());

  // The caller's deadline bounds the configured per-request timeout.
  const absl::Duration left = options.deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    return WithErrorInfo(
        absl::DeadlineExceededError("deadline passed before the upstream request was sent"),
        "DEADLINE_EXCEEDED", {{kMetaProvider, config_.name()}});
  }

  http::HttpRequest http_request;
  http_request.url = chat_url_;
  http_request.body = *std::move(body);
  http_request.timeout = std::min(ToDuration(config_.timeout()), left);
  http_request.connect_timeout = ToDuration(config_.connect_timeout());
  http_request.headers.reserve(4);
  http_request.headers.push_back("Content-Type: application/json");
  http_request.headers.push_back(stream ? "Accept: text/event-stream"
                                        : "Accept: application/json");
  if (!authorization_.empty()) http_request.headers.push_back(authorization_);
  if (!options.request_id.empty()) {
    http_request.headers.push_back(absl::StrCat("X-Request-Id: ", options.request_id));
  }
  return http_request;
}

Provider::CallId OpenAiProvider::Generate(const llmgateway::v1::GenerateRequest& request,
                                          const UpstreamCallOptions& options,
                                          llmgateway::v1::GenerateResponse* response,
                                          Done done) {
  absl::StatusOr<http::HttpRequest> http_request =
      MakeHttpRequest(request, options, /*stream=*/false);
  if (!http_request.ok()) {
    done(http_request.status());
    return 0;
  }
  return http_->Fetch(*std::move(http_request),
                      [this, response, done = std::move(done)](
                          absl::StatusOr<http::HttpResponse> result) mutable {
                        done(Complete(std::move(result), response));
                      });
}

Provider::CallId OpenAiProvider::GenerateStream(const llmgateway::v1::GenerateRequest& request,
                                                const UpstreamCallOptions& options,
                                                StreamObserver* observer) {
  absl::StatusOr<http::HttpRequest> http_request =
      MakeHttpRequest(request, options, /*stream=*/true);
  if (!http_request.ok()) {
    observer->OnComplete(http_request.status());
    return 0;
  }
  return http_->Start(*std::move(http_request), new StreamTransfer(this, observer));
}

void OpenAiProvider::Cancel(CallId id) { http_->Cancel(id); }

void OpenAiProvider::Resume(CallId id) { http_->Resume(id); }

absl::Status OpenAiProvider::HttpError(const http::ResponseHead& head,
                                       absl::string_view body) const {
  const ErrorBody error = ParseErrorBody(body);
  UpstreamHttpFailure failure;
  failure.provider = config_.name();
  failure.http_status = head.status;
  failure.error_type = error.type;
  failure.error_code = error.code;
  failure.message = error.message;
  if (const std::string* retry_after = head.Find("retry-after")) {
    failure.retry_after = ParseRetryAfter(*retry_after, absl::Now());
  }
  const absl::string_view key =
      authorization_.empty() ? absl::string_view()
                             : absl::string_view(authorization_).substr(kBearerPrefix.size());
  return RedactSecret(UpstreamHttpError(failure), key);
}

absl::Status OpenAiProvider::Complete(absl::StatusOr<http::HttpResponse> result,
                                      llmgateway::v1::GenerateResponse* response) const {
  if (!result.ok()) return UpstreamTransportError(config_.name(), result.status());
  if (!IsSuccess(result->head.status)) return HttpError(result->head, result->body);
  absl::Status parsed = ParseChatResponse(result->body, response);
  if (!parsed.ok()) return UpstreamBadResponse(config_.name(), parsed);
  response->set_provider(config_.name());
  return absl::OkStatus();
}

}  // namespace llmgateway::openai
