// libFuzzer entry point for the config loader: textproto in, validated
// config out. Beyond "no crash": every error is INVALID_ARGUMENT with a
// message, a parsed config prints and parses back to itself, defaults are
// idempotent, and validation does not depend on the text round trip.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/config/config_loader.h"
#include "tests/fuzz/fuzz_checks.h"

namespace {

using google::protobuf::util::MessageDifferencer;
using llmgateway::config::GatewayConfig;
using llmgateway::fuzz::Fail;

void CheckError(const absl::Status& status, absl::string_view what) {
  if (status.code() != absl::StatusCode::kInvalidArgument) Fail(what, status.ToString());
  if (status.message().empty()) Fail(what, "an error without a message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<GatewayConfig> parsed =
      llmgateway::config::ParseConfigText(text, "fuzz.textproto");
  if (!parsed.ok()) {
    CheckError(parsed.status(), "ParseConfigText");
    return 0;
  }
  GatewayConfig config = *std::move(parsed);

  std::string printed;
  if (!google::protobuf::TextFormat::PrintToString(config, &printed)) {
    Fail("TextFormat", "a parsed config does not print");
  }
  absl::StatusOr<GatewayConfig> reparsed =
      llmgateway::config::ParseConfigText(printed, "printed.textproto");
  if (!reparsed.ok()) Fail("a printed config does not parse back", reparsed.status().ToString());
  if (!MessageDifferencer::Equals(config, *reparsed)) {
    Fail("a printed config", "parses back to something else");
  }

  llmgateway::config::ApplyDefaults(&config);
  GatewayConfig twice = config;
  llmgateway::config::ApplyDefaults(&twice);
  if (!MessageDifferencer::Equals(config, twice)) Fail("ApplyDefaults", "not idempotent");

  const absl::Status valid = llmgateway::config::ValidateConfig(config);
  if (!valid.ok()) CheckError(valid, "ValidateConfig");
  llmgateway::config::ApplyDefaults(&*reparsed);
  const absl::Status valid_again = llmgateway::config::ValidateConfig(*reparsed);
  if (valid != valid_again) {
    Fail("ValidateConfig", "differs after a text round trip");
  }
  return 0;
}
