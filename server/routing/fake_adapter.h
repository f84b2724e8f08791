// An Adapter with a trivial wire format, for engine tests: the request body
// is the prompt, a unary answer's body is its text, and a stream's events
// are `delta:TEXT`, `done` or `error:MESSAGE`. A unary body "garbage" is
// unreadable, "blocked" an answer the adapter refuses itself
// (INVALID_ARGUMENT CONTENT_FILTERED).
#ifndef LLM_GATEWAY_SERVER_ROUTING_FAKE_ADAPTER_H_
#define LLM_GATEWAY_SERVER_ROUTING_FAKE_ADAPTER_H_

#include <memory>
#include <string>
#include <vector>

#include "server/providers/adapter.h"

namespace llmgateway::routing::testing {

class FakeAdapter final : public Adapter {
 public:
  // With a `base_url` (a real server), requests go to BASE_URL/UPSTREAM_MODEL.
  explicit FakeAdapter(std::string name, std::string secret = "", std::string base_url = "")
      : name_(std::move(name)), secret_(std::move(secret)), base_url_(std::move(base_url)) {}

  const std::string& name() const override { return name_; }
  absl::string_view kind() const override { return "fake"; }
  // URL "fake://NAME/UPSTREAM_MODEL"; a prompt "reject" is INVALID_ARGUMENT.
  absl::StatusOr<AdapterRequest> BuildRequest(const llmgateway::v1::GenerateRequest& request,
                                              const AttemptOptions& options) const override;
  absl::Status ParseResponse(const std::string& body,
                             llmgateway::v1::GenerateResponse* out) const override;
  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override;
  // The body is the upstream's message.
  absl::Status MapHttpError(const HttpErrorResponse& response) const override;
  std::vector<absl::string_view> secrets() const override {
    if (secret_.empty()) return {};
    return {secret_};
  }

 private:
  std::string name_;
  std::string secret_;
  std::string base_url_;
};

}  // namespace llmgateway::routing::testing

#endif  // LLM_GATEWAY_SERVER_ROUTING_FAKE_ADAPTER_H_
