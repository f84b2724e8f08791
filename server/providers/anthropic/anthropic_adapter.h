// The Anthropic Messages API as an Adapter: messages_request builds the
// body, messages_response and messages_stream read the answer, error_body
// reads failures. Pure: no I/O.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_ANTHROPIC_ADAPTER_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_ANTHROPIC_ADAPTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/config/config.pb.h"
#include "server/providers/adapter.h"

namespace llmgateway::anthropic {

// The API version every request pins: the shapes this adapter reads.
inline constexpr absl::string_view kAnthropicVersion = "2023-06-01";

class AnthropicAdapter final : public Adapter {
 public:
  // `config.capabilities` is taken as given (the config loader fills in the
  // kind's defaults); `api_key` may be empty (no x-api-key header).
  AnthropicAdapter(const config::Provider& config, std::string api_key);

  const std::string& name() const override { return config_.name(); }
  absl::string_view kind() const override { return "anthropic"; }
  // POST {base_url}/messages.
  absl::StatusOr<AdapterRequest> BuildRequest(
      const llmgateway::v1::GenerateRequest& request,
      const AttemptOptions& options) const override;
  absl::Status ParseResponse(
      const std::string& body,
      llmgateway::v1::GenerateResponse* out) const override;
  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override;
  absl::Status MapHttpError(const HttpErrorResponse& response) const override;
  std::vector<absl::string_view> secrets() const override {
    if (api_key_.empty()) return {};
    return {api_key_};
  }

 private:
  const config::Provider config_;
  // capabilities() as contiguous arrays, for MessagesRequestOptions.
  const std::vector<std::string> unsupported_fields_;
  const std::vector<std::string> media_types_;
  const std::string messages_url_;
  const std::string api_key_;
  const std::string api_key_header_;  // "x-api-key: ..." or empty
};

}  // namespace llmgateway::anthropic

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_ANTHROPIC_ANTHROPIC_ADAPTER_H_
