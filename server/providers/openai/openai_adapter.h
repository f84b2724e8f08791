// The OpenAI-compatible wire format (OpenAI, vLLM, Ollama, llama.cpp, ...)
// as an Adapter: chat_request builds the body, chat_response and
// chat_stream read the answer, error_body reads failures. Pure: no I/O.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_OPENAI_ADAPTER_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_OPENAI_ADAPTER_H_

#include <memory>
#include <string>
#include <vector>

#include "server/config/config.pb.h"
#include "server/providers/adapter.h"

namespace llmgateway::openai {

class OpenAiAdapter final : public Adapter {
 public:
  // `api_key` may be empty (no Authorization header).
  OpenAiAdapter(const config::Provider& config, std::string api_key);

  const std::string& name() const override { return config_.name(); }
  absl::string_view kind() const override { return "openai"; }
  absl::StatusOr<AdapterRequest> BuildRequest(const llmgateway::v1::GenerateRequest& request,
                                              const AttemptOptions& options) const override;
  absl::Status ParseResponse(const std::string& body,
                             llmgateway::v1::GenerateResponse* out) const override;
  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override;
  absl::Status MapHttpError(const HttpErrorResponse& response) const override;
  absl::string_view secret() const override { return api_key_; }

 private:
  const config::Provider config_;
  // capabilities() as contiguous arrays, for ChatRequestOptions.
  const std::vector<std::string> unsupported_fields_;
  const std::vector<std::string> media_types_;
  const std::string chat_url_;
  const std::string api_key_;
  const std::string authorization_;  // "Authorization: Bearer ..." or empty
};

}  // namespace llmgateway::openai

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_OPENAI_ADAPTER_H_
