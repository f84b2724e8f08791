// Request assembly and response/error mapping for OpenAI-compatible upstreams.
#include "server/providers/openai/openai_adapter.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"
#include "server/providers/openai/chat_request.h"
#include "server/providers/openai/chat_response.h"
#include "server/providers/openai/chat_stream.h"
#include "server/providers/openai/error_body.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::openai {

OpenAiAdapter::OpenAiAdapter(const config::Provider& config, std::string api_key)
    : config_(config),
      unsupported_fields_(config.capabilities().unsupported_fields().begin(),
                          config.capabilities().unsupported_fields().end()),
      media_types_(config.capabilities().media_types().begin(),
                   config.capabilities().media_types().end()),
      chat_url_(absl::StrCat(config.base_url(), "/chat/completions")),
      api_key_(std::move(api_key)),
      authorization_(api_key_.empty() ? std::string()
                                      : absl::StrCat("Authorization: Bearer ", api_key_)) {}

absl::StatusOr<AdapterRequest> OpenAiAdapter::BuildRequest(
    const llmgateway::v1::GenerateRequest& request, const AttemptOptions& options) const {
  ChatRequestOptions chat_options;
  chat_options.upstream_model = options.upstream_model;
  chat_options.provider_name = config_.name();
  chat_options.stream = options.stream;
  chat_options.unsupported_fields = unsupported_fields_;
  chat_options.drop_unsupported = config_.capabilities().drop_unsupported();
  chat_options.media_types = media_types_;
  if (!config_.capabilities().max_tokens_field().empty()) {
    chat_options.max_tokens_field = config_.capabilities().max_tokens_field();
  }
  absl::StatusOr<std::string> body = BuildChatRequest(request, chat_options);
  if (!body.ok()) return WithErrorMetadata(body.status(), kMetaProvider, config_.name());

  AdapterRequest out;
  out.url = chat_url_;
  out.body = *std::move(body);
  out.headers.reserve(4);
  out.headers.push_back("Content-Type: application/json");
  out.headers.push_back(options.stream ? "Accept: text/event-stream" : "Accept: application/json");
  if (!authorization_.empty()) out.headers.push_back(authorization_);
  if (!options.request_id.empty()) {
    out.headers.push_back(absl::StrCat("X-Request-Id: ", options.request_id));
  }
  return out;
}

absl::Status OpenAiAdapter::ParseResponse(const std::string& body,
                                          llmgateway::v1::GenerateResponse* out) const {
  return ParseChatResponse(body, out);
}

std::unique_ptr<StreamDecoder> OpenAiAdapter::NewStreamDecoder() const {
  return std::make_unique<ChatStreamDecoder>(config_.name());
}

absl::Status OpenAiAdapter::MapHttpError(const HttpErrorResponse& response) const {
  const ErrorBody error = ParseErrorBody(response.body);
  UpstreamHttpFailure failure;
  failure.provider = config_.name();
  failure.http_status = response.status;
  failure.error_type = error.type;
  failure.error_code = error.code;
  failure.message = error.message;
  failure.retry_after = response.retry_after;
  return RedactSecret(UpstreamHttpError(failure), api_key_);
}

}  // namespace llmgateway::openai
