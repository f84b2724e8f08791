// v1 Media as the adapters' body writers put it upstream: the checks every
// media part gets (a MIME type, a source, one of the provider's media_types),
// MIME type matching, base64 data: URLs, and base64 JSON literals.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_COMMON_MEDIA_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_COMMON_MEDIA_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::providers {

// "Image/PNG; foo=bar" -> "image/png": MIME types are case-insensitive, and
// parameters do not change which content part the media becomes.
std::string MimeEssence(absl::string_view mime);

// Whether `essence` (lower case) matches an entry of `allowed` (any case;
// "image/*" matches any image type). An empty list allows any.
bool MimeAllowed(absl::string_view essence,
                 absl::Span<const std::string> allowed);

bool IsDataUrl(absl::string_view uri);

// The payload of a base64 data: URL, or false for any other URI.
bool Base64Payload(absl::string_view uri, absl::string_view* payload);

// A JSON string literal of `prefix` followed by `data` in base64. Base64 text
// needs no JSON escaping, so megabytes of media are not scanned for escapes.
std::string Base64Literal(absl::string_view prefix, absl::string_view data);

// The essence of the MIME type of `media`, part `part` of message `message`,
// once it has one, a non-empty source, and a type in `allowed`; else the
// INVALID_ARGUMENT naming the field (and the provider for a type it does not
// take).
absl::StatusOr<std::string> CheckMedia(const llmgateway::v1::Media& media,
                                       int message, int part,
                                       absl::Span<const std::string> allowed,
                                       absl::string_view provider_name);

// INVALID_ARGUMENT: the media's MIME type is not one the provider takes.
absl::Status UnsupportedMediaType(const llmgateway::v1::Media& media,
                                  int message, int part,
                                  absl::string_view provider_name);

}  // namespace llmgateway::providers

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_COMMON_MEDIA_H_
