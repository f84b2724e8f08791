// The engine tests' adapter (see the header).
#include "server/routing/fake_adapter.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::routing::testing {
namespace {

class FakeDecoder final : public StreamDecoder {
 public:
  explicit FakeDecoder(std::string provider) : provider_(std::move(provider)) {}

  absl::StatusOr<Result> Decode(absl::string_view, absl::string_view data,
                                llmgateway::v1::GenerateStreamResponse* delta) override {
    if (done_) return Result::kNothing;
    if (data == "done") {
      done_ = true;
      return Result::kDone;
    }
    if (absl::ConsumePrefix(&data, "error:")) {
      return absl::UnavailableError(absl::StrCat("stream error: ", data));
    }
    if (absl::ConsumePrefix(&data, "delta:")) {
      if (first_) delta->set_provider(provider_);
      first_ = false;
      delta->set_text(std::string(data));
      return Result::kDelta;
    }
    return Result::kNothing;
  }
  void Finish(llmgateway::v1::GenerateStreamResponse* last) override {
    last->set_provider(provider_);
    last->set_finish_reason(llmgateway::v1::FINISH_REASON_STOP);
    last->mutable_usage()->set_completion_tokens(1);
  }
  bool done() const override { return done_; }

 private:
  std::string provider_;
  bool first_ = true;
  bool done_ = false;
};

}  // namespace

absl::StatusOr<AdapterRequest> FakeAdapter::BuildRequest(
    const llmgateway::v1::GenerateRequest& request, const AttemptOptions& options) const {
  if (request.prompt() == "reject") {
    return absl::InvalidArgumentError(absl::StrCat("provider \"", name_, "\" rejects this"));
  }
  AdapterRequest out;
  out.url = base_url_.empty() ? absl::StrCat("fake://", name_, "/", options.upstream_model)
                              : absl::StrCat(base_url_, "/", options.upstream_model);
  out.headers.push_back(absl::StrCat("X-Request-Id: ", options.request_id));
  out.body = absl::StrCat(options.stream ? "stream:" : "unary:", request.prompt());
  return out;
}

absl::Status FakeAdapter::ParseResponse(const std::string& body,
                                        llmgateway::v1::GenerateResponse* out) const {
  if (body == "garbage") return absl::InvalidArgumentError("not an answer");
  // An answer the adapter classifies itself (Gemini's blocked prompt).
  if (body == "blocked") {
    return WithErrorInfo(absl::InvalidArgumentError("blocked the prompt"), "CONTENT_FILTERED",
                         {{kMetaProvider, name_}});
  }
  out->set_text(body);
  out->set_model("fake-model");
  return absl::OkStatus();
}

std::unique_ptr<StreamDecoder> FakeAdapter::NewStreamDecoder() const {
  return std::make_unique<FakeDecoder>(name_);
}

absl::Status FakeAdapter::MapHttpError(const HttpErrorResponse& response) const {
  UpstreamHttpFailure failure;
  failure.provider = name_;
  failure.http_status = response.status;
  failure.message = response.body;
  if (absl::StrContains(response.body, "insufficient_quota")) {
    failure.error_code = "insufficient_quota";
  }
  failure.retry_after = response.retry_after;
  return UpstreamHttpError(failure);
}

}  // namespace llmgateway::routing::testing
