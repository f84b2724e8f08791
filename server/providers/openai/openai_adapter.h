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
  // `api_key` may be empty (no key header). `header_values[i]` is the value
  // of config.http().headers(i), read from its environment variable when it
  // names one; an empty value is not sent.
  OpenAiAdapter(const config::Provider& config, std::string api_key,
                std::vector<std::string> header_values = {});

  const std::string& name() const override { return config_.name(); }
  absl::string_view kind() const override { return "openai"; }
  absl::StatusOr<AdapterRequest> BuildRequest(const llmgateway::v1::GenerateRequest& request,
                                              const AttemptOptions& options) const override;
  absl::Status ParseResponse(const std::string& body,
                             llmgateway::v1::GenerateResponse* out) const override;
  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override;
  absl::Status MapHttpError(const HttpErrorResponse& response) const override;
  std::vector<absl::string_view> secrets() const override;

 private:
  const config::Provider config_;
  // capabilities() as contiguous arrays, for ChatRequestOptions.
  const std::vector<std::string> unsupported_fields_;
  const std::vector<std::string> media_types_;
  // The URL is url_prefix_ + the percent-encoded upstream model +
  // url_suffix_ when the path holds "{model}", else url_prefix_ alone.
  std::string url_prefix_;
  std::string url_suffix_;
  bool model_in_path_ = false;
  const std::string api_key_;
  std::string auth_header_;                 // "Authorization: Bearer ..." or empty
  std::vector<std::string> extra_headers_;  // "Name: value"
  std::vector<std::string> header_secrets_; // values read from the environment
};

}  // namespace llmgateway::openai

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_OPENAI_OPENAI_ADAPTER_H_
