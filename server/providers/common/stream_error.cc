// Stream-ending statuses (see stream_error.h).
#include "server/providers/common/stream_error.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::providers {

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
