// Request assembly, timeouts and response/error mapping for OpenAI-compatible
// upstreams.
#include "server/providers/openai/openai_provider.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/status_details.h"
#include "server/providers/openai/chat_request.h"
#include "server/providers/openai/chat_response.h"
#include "server/providers/openai/error_body.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::openai {
namespace {

absl::Duration ToDuration(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) + absl::Nanoseconds(duration.nanos());
}

}  // namespace

OpenAiProvider::OpenAiProvider(const config::Provider& config, std::string api_key,
                               http::HttpClient* http)
    : config_(config),
      chat_url_(absl::StrCat(config.base_url(), "/chat/completions")),
      authorization_(api_key.empty() ? std::string()
                                     : absl::StrCat("Authorization: Bearer ", api_key)),
      http_(http) {}

Provider::CallId OpenAiProvider::Generate(const llmgateway::v1::GenerateRequest& request,
                                          const UpstreamCallOptions& options,
                                          llmgateway::v1::GenerateResponse* response,
                                          Done done) {
  ChatRequestOptions chat_options;
  chat_options.upstream_model = options.upstream_model;
  chat_options.provider_name = config_.name();
  absl::StatusOr<std::string> body = BuildChatRequest(request, chat_options);
  if (!body.ok()) {
    done(WithErrorMetadata(body.status(), kMetaProvider, config_.name()));
    return 0;
  }

  // The caller's deadline bounds the configured per-request timeout.
  const absl::Duration left = options.deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    done(WithErrorInfo(absl::DeadlineExceededError("deadline passed before the "
                                                   "upstream request was sent"),
                       "DEADLINE_EXCEEDED", {{kMetaProvider, config_.name()}}));
    return 0;
  }

  http::HttpRequest http_request;
  http_request.url = chat_url_;
  http_request.body = *std::move(body);
  http_request.timeout = std::min(ToDuration(config_.timeout()), left);
  http_request.connect_timeout = ToDuration(config_.connect_timeout());
  http_request.headers.reserve(4);
  http_request.headers.push_back("Content-Type: application/json");
  http_request.headers.push_back("Accept: application/json");
  if (!authorization_.empty()) http_request.headers.push_back(authorization_);
  if (!options.request_id.empty()) {
    http_request.headers.push_back(absl::StrCat("X-Request-Id: ", options.request_id));
  }
  return http_->Fetch(std::move(http_request),
                      [this, response, done = std::move(done)](
                          absl::StatusOr<http::HttpResponse> result) mutable {
                        done(Complete(std::move(result), response));
                      });
}

void OpenAiProvider::Cancel(CallId id) { http_->Cancel(id); }

absl::Status OpenAiProvider::Complete(absl::StatusOr<http::HttpResponse> result,
                                      llmgateway::v1::GenerateResponse* response) const {
  if (!result.ok()) return UpstreamTransportError(config_.name(), result.status());
  const long status = result->head.status;
  if (status >= 200 && status < 300) {
    absl::Status parsed = ParseChatResponse(result->body, response);
    if (!parsed.ok()) return UpstreamBadResponse(config_.name(), parsed);
    response->set_provider(config_.name());
    return absl::OkStatus();
  }
  const ErrorBody error = ParseErrorBody(result->body);
  UpstreamHttpFailure failure;
  failure.provider = config_.name();
  failure.http_status = status;
  failure.error_type = error.type;
  failure.error_code = error.code;
  failure.message = error.message;
  if (const std::string* retry_after = result->head.Find("retry-after")) {
    failure.retry_after = ParseRetryAfter(*retry_after, absl::Now());
  }
  absl::Status mapped = UpstreamHttpError(failure);
  return RedactSecret(std::move(mapped), authorization_.empty()
                                             ? absl::string_view()
                                             : absl::string_view(authorization_).substr(
                                                   sizeof("Authorization: Bearer ") - 1));
}

}  // namespace llmgateway::openai
