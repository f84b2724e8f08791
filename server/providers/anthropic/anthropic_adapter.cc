// Request assembly and response/error mapping for the Anthropic Messages API.
#include "server/providers/anthropic/anthropic_adapter.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"
#include "server/providers/anthropic/error_body.h"
#include "server/providers/anthropic/messages_request.h"
#include "server/providers/anthropic/messages_response.h"
#include "server/providers/anthropic/messages_stream.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::anthropic {
namespace {

// Anthropic says so only in words ("prompt is too long: 208310 tokens >
// 200000 maximum", "input length and `max_tokens` exceed context limit"),
// which the shared table does not look for.
bool SaysContextLengthExceeded(absl::string_view message) {
  const std::string lower = absl::AsciiStrToLower(message);
  return absl::StrContains(lower, "prompt is too long") ||
         absl::StrContains(lower, "exceed context limit") ||
         absl::StrContains(lower, "context window");
}

}  // namespace

AnthropicAdapter::AnthropicAdapter(const config::Provider& config,
                                   std::string api_key)
    : config_(config),
      unsupported_fields_(config.capabilities().unsupported_fields().begin(),
                          config.capabilities().unsupported_fields().end()),
      media_types_(config.capabilities().media_types().begin(),
                   config.capabilities().media_types().end()),
      messages_url_(absl::StrCat(config.base_url(), "/messages")),
      api_key_(std::move(api_key)),
      api_key_header_(api_key_.empty() ? std::string()
                                       : absl::StrCat("x-api-key: ", api_key_)) {}

absl::StatusOr<AdapterRequest> AnthropicAdapter::BuildRequest(
    const v1::GenerateRequest& request, const AttemptOptions& options) const {
  MessagesRequestOptions messages_options;
  messages_options.upstream_model = options.upstream_model;
  messages_options.provider_name = config_.name();
  messages_options.stream = options.stream;
  messages_options.unsupported_fields = unsupported_fields_;
  messages_options.drop_unsupported = config_.capabilities().drop_unsupported();
  messages_options.media_types = media_types_;
  // 0 (unset) leaves the builder's default.
  if (config_.default_max_tokens() > 0) {
    messages_options.default_max_tokens = config_.default_max_tokens();
  }
  absl::StatusOr<std::string> body =
      BuildMessagesRequest(request, messages_options);
  if (!body.ok()) {
    return WithErrorMetadata(body.status(), kMetaProvider, config_.name());
  }

  AdapterRequest out;
  out.url = messages_url_;
  out.body = *std::move(body);
  out.headers.reserve(5);
  out.headers.push_back("Content-Type: application/json");
  out.headers.push_back(options.stream ? "Accept: text/event-stream"
                                       : "Accept: application/json");
  out.headers.push_back(absl::StrCat("anthropic-version: ", kAnthropicVersion));
  if (!api_key_header_.empty()) out.headers.push_back(api_key_header_);
  if (!options.request_id.empty()) {
    out.headers.push_back(absl::StrCat("X-Request-Id: ", options.request_id));
  }
  return out;
}

absl::Status AnthropicAdapter::ParseResponse(const std::string& body,
                                             v1::GenerateResponse* out) const {
  return ParseMessagesResponse(body, out);
}

std::unique_ptr<StreamDecoder> AnthropicAdapter::NewStreamDecoder() const {
  return std::make_unique<MessagesStreamDecoder>(config_.name());
}

absl::Status AnthropicAdapter::MapHttpError(
    const HttpErrorResponse& response) const {
  const ErrorBody error = ParseErrorBody(response.body);
  UpstreamHttpFailure failure;
  failure.provider = config_.name();
  failure.http_status = response.status;
  failure.error_type = error.type;
  if (SaysContextLengthExceeded(error.message)) {
    failure.error_code = "context_length_exceeded";
  }
  failure.message = error.message;
  failure.retry_after = response.retry_after;
  return RedactSecret(UpstreamHttpError(failure), api_key_);
}

}  // namespace llmgateway::anthropic
