// One upstream wire format, as the call engine (routing/) sees it. An adapter
// is pure: it builds the HTTP request for a GenerateRequest and reads the
// answer's bytes back into v1 messages; it never does I/O, and includes
// nothing from http/ or api/, so it is unit-tested without sockets. Status
// checks, error-body capping, SSE framing and pause/resume live once, in
// routing/.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_ADAPTER_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_ADAPTER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway {

// An upstream request as the adapter wants it sent (always a POST).
struct AdapterRequest {
  std::string url;
  // "Name: value" lines, secrets included: never logged.
  std::vector<std::string> headers;
  std::string body;
};

// What changes from one attempt to the next.
struct AttemptOptions {
  // The model name the upstream knows.
  absl::string_view upstream_model;
  // A streamed call (GenerateStream): the adapter asks for SSE.
  bool stream = false;
  // Sent upstream as X-Request-Id (empty: not sent).
  absl::string_view request_id;
};

// An upstream's non-2xx answer: the status, the first bytes of its body
// (capped by the engine), and its Retry-After, already parsed and clamped.
struct HttpErrorResponse {
  long status = 0;
  absl::string_view body;
  std::optional<absl::Duration> retry_after;
};

// Turns one streamed attempt's SSE events into v1 deltas. One decoder per
// attempt, fed in order, on the HTTP loop thread.
class StreamDecoder {
 public:
  enum class Result {
    // `*delta` holds something to send (text, reasoning, tool-call fragments).
    kDelta,
    // Nothing to send for this event (keep-alives, bookkeeping events).
    kNothing,
    // The format's end-of-stream marker: the answer is whole; call Finish.
    kDone,
  };

  virtual ~StreamDecoder() = default;

  // Decodes one event (`event_type`: the SSE `event:` field, empty for the
  // default) into `*delta`, which is empty on entry. The first delta carries
  // id, model and provider. An error event, or data the format does not
  // allow, is a non-OK status ready for the caller (code and ErrorInfo set,
  // the upstream's own words bounded). Events after kDone are kNothing.
  virtual absl::StatusOr<Result> Decode(
      absl::string_view event_type, absl::string_view data,
      llmgateway::v1::GenerateStreamResponse* delta) = 0;

  // After kDone: the last message, with id, model, provider, finish_reason
  // and usage (both always set).
  virtual void Finish(llmgateway::v1::GenerateStreamResponse* last) = 0;

  // Whether Decode has returned kDone.
  virtual bool done() const = 0;
};

class Adapter {
 public:
  virtual ~Adapter() = default;

  // The provider's config name: reported in responses, errors and logs.
  virtual const std::string& name() const = 0;

  // The wire format ("openai", "anthropic", "gemini"): the key of the
  // GenerateRequest.provider_options entry this adapter merges.
  virtual absl::string_view kind() const = 0;

  // The upstream request, or why this provider cannot take `request`
  // (INVALID_ARGUMENT naming the field and the provider). `request` has
  // passed the API layer's validation.
  virtual absl::StatusOr<AdapterRequest> BuildRequest(
      const llmgateway::v1::GenerateRequest& request,
      const AttemptOptions& options) const = 0;

  // A 2xx unary body into `*out` (id, model, message, text, finish_reason,
  // usage; `provider` is set by the engine). `body` has
  // http::kBodyPadding bytes of spare capacity, for simdjson. A body that
  // makes no sense is an error (the engine reports it as the upstream's
  // fault, UPSTREAM_BAD_RESPONSE); an error that carries an ErrorInfo is an
  // answer the adapter classified itself (a prompt the upstream refused to
  // answer) and reaches the caller as it is.
  virtual absl::Status ParseResponse(const std::string& body,
                                     llmgateway::v1::GenerateResponse* out) const = 0;

  virtual std::unique_ptr<StreamDecoder> NewStreamDecoder() const = 0;

  // A non-2xx answer as the call's status, through the shared table in
  // upstream_error.h (the adapter only reads its format's error body).
  virtual absl::Status MapHttpError(const HttpErrorResponse& response) const = 0;

  // Every secret the adapter sends (the API key, and header values read
  // from the environment; none empty): the engine scrubs each from every
  // error message, whatever produced it.
  virtual std::vector<absl::string_view> secrets() const = 0;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_ADAPTER_H_
