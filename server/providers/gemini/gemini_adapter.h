// The Gemini API (generativelanguage.googleapis.com's generateContent) as an
// Adapter: generate_content_request builds the body, generate_content_response
// and generate_content_stream read the answer, error_body reads failures.
// Pure: no I/O.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_GEMINI_ADAPTER_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_GEMINI_ADAPTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/config/config.pb.h"
#include "server/providers/adapter.h"

namespace llmgateway::gemini {

// The path of one model's method under base_url: "models/<model>:<method>",
// the model percent-encoded as one path segment (anything but letters,
// digits and -._~), a leading "models/" in the name taken as the prefix it
// already is.
std::string ModelMethodPath(absl::string_view upstream_model,
                            absl::string_view method);

class GeminiAdapter final : public Adapter {
 public:
  // `config.capabilities` is taken as given (the config loader fills in the
  // kind's defaults); `api_key` may be empty (no x-goog-api-key header).
  GeminiAdapter(const config::Provider& config, std::string api_key);

  const std::string& name() const override { return config_.name(); }
  absl::string_view kind() const override { return "gemini"; }
  // POST {base_url}/models/{model}:generateContent, or
  // :streamGenerateContent?alt=sse for a stream; the key in x-goog-api-key.
  absl::StatusOr<AdapterRequest> BuildRequest(
      const llmgateway::v1::GenerateRequest& request,
      const AttemptOptions& options) const override;
  // A prompt Gemini blocked is INVALID_ARGUMENT CONTENT_FILTERED, not a
  // malformed answer: it carries its ErrorInfo, which the engine keeps.
  absl::Status ParseResponse(
      const std::string& body,
      llmgateway::v1::GenerateResponse* out) const override;
  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override;
  // Google's error body through the shared table: the google.rpc status
  // and message, CONTEXT_LENGTH_EXCEEDED from the message, a rejected key
  // (400 API_KEY_INVALID) as UPSTREAM_AUTH_FAILED, and RetryInfo from the
  // Retry-After header, else from the body's google.rpc.RetryInfo.
  absl::Status MapHttpError(const HttpErrorResponse& response) const override;
  std::vector<absl::string_view> secrets() const override {
    if (api_key_.empty()) return {};
    return {api_key_};
  }

 private:
  const config::Provider config_;
  // capabilities() as contiguous arrays, for the request options.
  const std::vector<std::string> unsupported_fields_;
  const std::vector<std::string> media_types_;
  const std::string api_key_;
  const std::string api_key_header_;  // "x-goog-api-key: ..." or empty
};

}  // namespace llmgateway::gemini

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_GEMINI_GEMINI_ADAPTER_H_
