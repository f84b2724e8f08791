// An OpenAI-compatible upstream (OpenAI, vLLM, Ollama, llama.cpp, ...):
// the chat_request/chat_response adapter joined to the HTTP client.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_OPENAI_PROVIDER_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_OPENAI_PROVIDER_H_

#include <string>
#include <vector>

#include "server/config/config.pb.h"
#include "server/http/http_client.h"
#include "server/providers/provider.h"

namespace llmgateway::openai {

class OpenAiProvider final : public Provider {
 public:
  // `api_key` may be empty (no Authorization header). `http` must outlive this.
  OpenAiProvider(const config::Provider& config, std::string api_key,
                 http::HttpClient* http);

  const std::string& name() const override { return config_.name(); }
  CallId Generate(const llmgateway::v1::GenerateRequest& request,
                  const UpstreamCallOptions& options,
                  llmgateway::v1::GenerateResponse* response, Done done) override;
  CallId GenerateStream(const llmgateway::v1::GenerateRequest& request,
                        const UpstreamCallOptions& options,
                        StreamObserver* observer) override;
  void Cancel(CallId id) override;
  void Resume(CallId id) override;

 private:
  class StreamTransfer;

  // The upstream request for `request` (body, URL, headers, timeout), or why
  // it cannot be sent.
  absl::StatusOr<http::HttpRequest> MakeHttpRequest(
      const llmgateway::v1::GenerateRequest& request,
      const UpstreamCallOptions& options, bool stream) const;

  // Maps an upstream HTTP error response (non-2xx) to the call's status.
  absl::Status HttpError(const http::ResponseHead& head, absl::string_view body) const;

  // Maps a finished transfer to the call's status, filling *response on success.
  absl::Status Complete(absl::StatusOr<http::HttpResponse> result,
                        llmgateway::v1::GenerateResponse* response) const;

  const config::Provider config_;
  // capabilities() as contiguous arrays, for ChatRequestOptions.
  const std::vector<std::string> unsupported_fields_;
  const std::vector<std::string> media_types_;
  const std::string chat_url_;
  const std::string authorization_;  // "Authorization: Bearer ..." or empty
  http::HttpClient* const http_;
};

}  // namespace llmgateway::openai

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_OPENAI_PROVIDER_H_
