// What every command shares: exit statuses, error lines, JSON output.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/cli.h"
#include "client/status.h"
#include "google/protobuf/util/json_util.h"

namespace llmgateway::cli {

int ExitCode(const absl::Status& status) { return static_cast<int>(status.code()); }

int ReportError(FILE* err, const absl::Status& status) {
  std::string reason;
  if (auto info = client::ErrorInfoOf(status); info && !info->reason().empty()) {
    reason = absl::StrCat(" (", info->reason(), ")");
  }
  absl::FPrintF(err, "error: %s%s: %s\n", absl::StatusCodeToString(status.code()), reason,
                status.message());
  return ExitCode(status);
}

std::string ToJson(const google::protobuf::Message& message) {
  std::string out;
  // Printing a valid message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &out);
  return out;
}

}  // namespace llmgateway::cli
