// Request assembly and response/error mapping for the Gemini API.
#include "server/providers/gemini/gemini_adapter.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/common/status_details.h"
#include "server/providers/common/url_encode.h"
#include "server/providers/gemini/error_body.h"
#include "server/providers/gemini/generate_content_request.h"
#include "server/providers/gemini/generate_content_response.h"
#include "server/providers/gemini/generate_content_stream.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::gemini {

std::string ModelMethodPath(absl::string_view upstream_model,
                            absl::string_view method) {
  absl::ConsumePrefix(&upstream_model, "models/");
  return absl::StrCat("models/", providers::PercentEncode(upstream_model), ":", method);
}

GeminiAdapter::GeminiAdapter(const config::Provider& config, std::string api_key)
    : config_(config),
      unsupported_fields_(config.capabilities().unsupported_fields().begin(),
                          config.capabilities().unsupported_fields().end()),
      media_types_(config.capabilities().media_types().begin(),
                   config.capabilities().media_types().end()),
      api_key_(std::move(api_key)),
      api_key_header_(api_key_.empty()
                          ? std::string()
                          : absl::StrCat("x-goog-api-key: ", api_key_)) {}

absl::StatusOr<AdapterRequest> GeminiAdapter::BuildRequest(
    const v1::GenerateRequest& request, const AttemptOptions& options) const {
  GenerateContentRequestOptions body_options;
  body_options.provider_name = config_.name();
  body_options.unsupported_fields = unsupported_fields_;
  body_options.drop_unsupported = config_.capabilities().drop_unsupported();
  body_options.media_types = media_types_;
  absl::StatusOr<std::string> body =
      BuildGenerateContentRequest(request, body_options);
  if (!body.ok()) {
    return WithErrorMetadata(body.status(), kMetaProvider, config_.name());
  }

  AdapterRequest out;
  out.url = absl::StrCat(
      config_.base_url(), "/",
      ModelMethodPath(options.upstream_model, options.stream
                                                  ? "streamGenerateContent"
                                                  : "generateContent"),
      // Without alt=sse the stream is one JSON array, not events.
      options.stream ? "?alt=sse" : "");
  out.body = *std::move(body);
  out.headers.reserve(4);
  out.headers.push_back("Content-Type: application/json");
  out.headers.push_back(options.stream ? "Accept: text/event-stream"
                                       : "Accept: application/json");
  if (!api_key_header_.empty()) out.headers.push_back(api_key_header_);
  if (!options.request_id.empty()) {
    out.headers.push_back(absl::StrCat("X-Request-Id: ", options.request_id));
  }
  return out;
}

absl::Status GeminiAdapter::ParseResponse(const std::string& body,
                                          v1::GenerateResponse* out) const {
  return ParseGenerateContentResponse(body, config_.name(), out);
}

std::unique_ptr<StreamDecoder> GeminiAdapter::NewStreamDecoder() const {
  return std::make_unique<GenerateContentStreamDecoder>(config_.name());
}

absl::Status GeminiAdapter::MapHttpError(const HttpErrorResponse& response) const {
  const ErrorBody error = ParseErrorBody(response.body);
  UpstreamHttpFailure failure;
  failure.provider = config_.name();
  failure.http_status = response.status;
  failure.error_type = error.status;
  if (SaysContextLengthExceeded(error)) {
    failure.error_code = "context_length_exceeded";
  }
  failure.message = error.message;
  failure.key_rejected = SaysKeyRejected(error);
  // The header is the HTTP way; Google says it in the body.
  failure.retry_after =
      response.retry_after.has_value() ? response.retry_after : error.retry_delay;
  return RedactSecret(UpstreamHttpError(failure), api_key_);
}

}  // namespace llmgateway::gemini
