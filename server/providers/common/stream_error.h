// The statuses a stream decoder ends a stream with: the upstream's own error
// event, and data that is not an event. Shared so that every format reports
// both alike (reason, provider, wording) and keeps the upstream's words
// bounded.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_COMMON_STREAM_ERROR_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_COMMON_STREAM_ERROR_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace llmgateway::providers {

// `code` "provider \"<provider>\" reported an error mid-stream: <message>",
// reason UPSTREAM_STREAM_ERROR with the provider in its metadata. `message`
// is put in as given: bound it first (BoundUpstreamMessage, upstream_error.h).
absl::Status MidStreamError(absl::StatusCode code, absl::string_view provider,
                            absl::string_view message);

// Data that is not a `what` event ("chat.completion.chunk"): UNAVAILABLE
// UPSTREAM_BAD_RESPONSE (upstream_error.h) with "malformed <what>: " and
// the parser's message, which names paths, never the data.
absl::Status MalformedEvent(absl::string_view provider, absl::string_view what,
                            const absl::Status& parse_error);

}  // namespace llmgateway::providers

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_COMMON_STREAM_ERROR_H_
