// Media checks and encodings shared by the body writers (see media.h).
#include "server/providers/common/media.h"

#include <cstddef>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/providers/common/request_checks.h"
#include "server/providers/json/json_writer.h"

namespace llmgateway::providers {

std::string MimeEssence(absl::string_view mime) {
  const size_t semicolon = mime.find(';');
  if (semicolon != absl::string_view::npos) mime = mime.substr(0, semicolon);
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(mime));
}

bool MimeAllowed(absl::string_view essence,
                 absl::Span<const std::string> allowed) {
  if (allowed.empty()) return true;
  for (const std::string& entry : allowed) {
    const std::string e = absl::AsciiStrToLower(entry);
    if (e == essence) return true;
    if (absl::EndsWith(e, "/*") &&
        absl::StartsWith(essence,
                         absl::string_view(e).substr(0, e.size() - 1))) {
      return true;
    }
  }
  return false;
}

bool IsDataUrl(absl::string_view uri) {
  return absl::StartsWithIgnoreCase(uri, "data:");
}

bool Base64Payload(absl::string_view uri, absl::string_view* payload) {
  if (!IsDataUrl(uri)) return false;
  const size_t comma = uri.find(',');
  if (comma == absl::string_view::npos) return false;
  if (!absl::EndsWithIgnoreCase(uri.substr(0, comma), ";base64")) return false;
  *payload = uri.substr(comma + 1);
  return true;
}

std::string Base64Literal(absl::string_view prefix, absl::string_view data) {
  std::string b64;
  absl::Base64Escape(data, &b64);
  std::string literal;
  literal.reserve(prefix.size() + b64.size() + 8);
  json::AppendJsonString(prefix, &literal);
  literal.pop_back();  // Its closing quote: the base64 text goes first.
  literal.append(b64);
  literal.push_back('"');
  return literal;
}

absl::StatusOr<std::string> CheckMedia(const v1::Media& media, int message,
                                       int part,
                                       absl::Span<const std::string> allowed,
                                       absl::string_view provider_name) {
  std::string essence = MimeEssence(media.mime_type());
  if (essence.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(PartPath(message, part), ".media.mime_type: must be set"));
  }
  if (media.source_case() == v1::Media::SOURCE_NOT_SET ||
      (media.has_data() && media.data().empty()) ||
      (media.has_uri() && media.uri().empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        PartPath(message, part), ".media: data or uri must be set"));
  }
  if (!MimeAllowed(essence, allowed)) {
    return UnsupportedMediaType(media, message, part, provider_name);
  }
  return essence;
}

absl::Status UnsupportedMediaType(const v1::Media& media, int message, int part,
                                  absl::string_view provider_name) {
  return absl::InvalidArgumentError(absl::StrCat(
      PartPath(message, part), ".media.mime_type: \"", media.mime_type(),
      "\" is not supported by provider \"", provider_name, "\""));
}

}  // namespace llmgateway::providers
