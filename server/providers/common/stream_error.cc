// Stream-ending statuses (see stream_error.h).
#include "server/providers/common/stream_error.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::providers {

std::string BoundUpstreamMessage(std::string message) {
  if (message.size() > kMaxUpstreamMessageBytes) {
    size_t cut = kMaxUpstreamMessageBytes;
    // Back off over continuation bytes (10xxxxxx) to a character's start.
    while (cut > 0 &&
           (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    message.resize(cut);
    message += "...";
  }
  return message;
}

absl::Status MidStreamError(absl::StatusCode code, absl::string_view provider,
                            absl::string_view message) {
  return WithErrorInfo(
      absl::Status(code,
                   absl::StrCat("provider \"", provider,
                                "\" reported an error mid-stream: ", message)),
      "UPSTREAM_STREAM_ERROR", {{kMetaProvider, provider}});
}

absl::Status MalformedEvent(absl::string_view provider, absl::string_view what,
                            const absl::Status& parse_error) {
  return UpstreamBadResponse(
      provider, absl::UnavailableError(absl::StrCat("malformed ", what, ": ",
                                                    parse_error.message())));
}

}  // namespace llmgateway::providers
