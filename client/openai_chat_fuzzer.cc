// libFuzzer entry point for the client's OpenAI request mapping: a JSON
// chat completions body (a line of a batch input file) -> Struct ->
// GenerateRequest. Checks: errors name the path, and a mapped request is
// one the gateway can receive (valid UTF-8, survives the wire).
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "client/openai_chat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/fuzz/fuzz_checks.h"

using llmgateway::fuzz::Fail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  google::protobuf::Struct body;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(reinterpret_cast<const char*>(data), size), &body)
           .ok()) {
    return 0;
  }
  llmgateway::fuzz::CheckWireSafe(body, "JSON body as a Struct");
  const auto request = llmgateway::client::ChatBodyToRequest(body, "body");
  if (!request.ok()) {
    if (request.status().code() != absl::StatusCode::kInvalidArgument ||
        !absl::StartsWith(request.status().message(), "body")) {
      Fail("ChatBodyToRequest", request.status().ToString());
    }
    return 0;
  }
  llmgateway::fuzz::CheckWireSafe(*request, "GenerateRequest");
  return 0;
}
