// Request assembly and response/error mapping for OpenAI-compatible upstreams.
#include "server/providers/openai/openai_adapter.h"

#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"
#include "server/providers/common/url_encode.h"
#include "server/providers/openai/chat_request.h"
#include "server/providers/openai/chat_response.h"
#include "server/providers/openai/chat_stream.h"
#include "server/providers/openai/error_body.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::openai {
namespace {

constexpr char kModelPlaceholder[] = "{model}";

}  // namespace

OpenAiAdapter::OpenAiAdapter(const config::Provider& config, std::string api_key,
                             std::vector<std::string> header_values)
    : config_(config),
      unsupported_fields_(config.capabilities().unsupported_fields().begin(),
                          config.capabilities().unsupported_fields().end()),
      media_types_(config.capabilities().media_types().begin(),
                   config.capabilities().media_types().end()),
      api_key_(std::move(api_key)) {
  const config::HttpShape& http = config.http();
  const std::string path = http.path().empty() ? "/chat/completions" : http.path();
  // Sorted: a proto map's order is not fixed, and the URL should be.
  std::map<std::string, std::string> query(http.query().begin(), http.query().end());
  std::string query_string;
  for (const auto& [key, value] : query) {
    absl::StrAppend(&query_string, query_string.empty() ? "?" : "&",
                    providers::PercentEncode(key), "=", providers::PercentEncode(value));
  }
  const size_t model_at = path.find(kModelPlaceholder);
  model_in_path_ = model_at != std::string::npos;
  if (model_in_path_) {
    url_prefix_ = absl::StrCat(config.base_url(), path.substr(0, model_at));
    url_suffix_ = absl::StrCat(path.substr(model_at + sizeof(kModelPlaceholder) - 1), query_string);
  } else {
    url_prefix_ = absl::StrCat(config.base_url(), path, query_string);
  }

  if (!api_key_.empty()) {
    const std::string name = http.auth_header().empty() ? "Authorization" : http.auth_header();
    const std::string scheme = http.has_auth_scheme() ? http.auth_scheme()
                               : absl::EqualsIgnoreCase(name, "Authorization") ? "Bearer"
                                                                               : "";
    auth_header_ = absl::StrCat(name, ": ", scheme, scheme.empty() ? "" : " ", api_key_);
  }
  for (int i = 0; i < http.headers_size() && i < static_cast<int>(header_values.size()); ++i) {
    if (header_values[i].empty()) continue;
    extra_headers_.push_back(absl::StrCat(http.headers(i).name(), ": ", header_values[i]));
    if (!http.headers(i).value_env().empty()) header_secrets_.push_back(std::move(header_values[i]));
  }
}

std::vector<absl::string_view> OpenAiAdapter::secrets() const {
  std::vector<absl::string_view> all;
  all.reserve(1 + header_secrets_.size());
  if (!api_key_.empty()) all.push_back(api_key_);
  for (const std::string& secret : header_secrets_) all.push_back(secret);
  return all;
}

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
  out.url = model_in_path_ ? absl::StrCat(url_prefix_,
                                          providers::PercentEncode(options.upstream_model),
                                          url_suffix_)
                           : url_prefix_;
  out.body = *std::move(body);
  out.headers.reserve(4 + extra_headers_.size());
  out.headers.push_back("Content-Type: application/json");
  out.headers.push_back(options.stream ? "Accept: text/event-stream" : "Accept: application/json");
  if (!auth_header_.empty()) out.headers.push_back(auth_header_);
  for (const std::string& header : extra_headers_) out.headers.push_back(header);
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
  absl::Status status = UpstreamHttpError(failure);
  for (absl::string_view secret : secrets()) status = RedactSecret(std::move(status), secret);
  return status;
}

}  // namespace llmgateway::openai
