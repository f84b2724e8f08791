// google.rpc error details (ErrorInfo, RetryInfo, BadRequest) carried on an
// absl::Status as payloads keyed by their type URL, so an error keeps its
// details on the way up and the gRPC edge packs each payload as an Any.
#ifndef LLM_GATEWAY_SERVER_COMMON_STATUS_DETAILS_H_
#define LLM_GATEWAY_SERVER_COMMON_STATUS_DETAILS_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/rpc/error_details.pb.h"

namespace llmgateway {

// ErrorInfo.domain of every error the gateway makes.
inline constexpr absl::string_view kErrorDomain = "llmgateway";

// ErrorInfo.metadata keys (lowerCamelCase, as AIP-193 asks).
inline constexpr absl::string_view kMetaProvider = "provider";
inline constexpr absl::string_view kMetaUpstreamStatus = "upstreamStatus";
inline constexpr absl::string_view kMetaField = "field";
inline constexpr absl::string_view kMetaModel = "model";

using Metadata =
    std::initializer_list<std::pair<absl::string_view, absl::string_view>>;

// Sets (replaces) the status's ErrorInfo. Metadata with empty values is left out.
absl::Status WithErrorInfo(absl::Status status, absl::string_view reason,
                           Metadata metadata = {});
// Adds one metadata entry to an existing ErrorInfo (or to a new one whose
// reason is derived from the code).
absl::Status WithErrorMetadata(absl::Status status, absl::string_view key,
                               absl::string_view value);
absl::Status WithRetryInfo(absl::Status status, absl::Duration retry_delay);

std::optional<google::rpc::ErrorInfo> GetErrorInfo(const absl::Status& status);
std::optional<google::rpc::RetryInfo> GetRetryInfo(const absl::Status& status);

// INVALID_ARGUMENT "field: description" with ErrorInfo INVALID_REQUEST and a
// BadRequest field violation, the shape every validation error has.
absl::Status InvalidField(absl::string_view field, absl::string_view description);
// The same field error with `prefix` before the field's path (a request
// nested in a batch: "items[3].request." + "messages[0].role"). Other
// errors are returned as they are.
absl::Status WithFieldPrefix(const absl::Status& status, absl::string_view prefix);

// The ErrorInfo reason used when an error carries none: the code's name.
std::string DefaultReason(absl::StatusCode code);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_COMMON_STATUS_DETAILS_H_
