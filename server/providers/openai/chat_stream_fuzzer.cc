// libFuzzer entry point for the stream-chunk decoder, for open-ended fuzzing
// beyond the seeded chat_stream_fuzz_test: the input is split into events at
// newlines and fed to one decoder, as an upstream stream would be.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/openai/chat_stream.h"
#include "server/providers/upstream_error_fuzz_checks.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  llmgateway::openai::ChatStreamDecoder decoder("fuzz");
  while (!input.empty()) {
    const size_t end = input.find('\n');
    const absl::string_view event = input.substr(0, end);
    llmgateway::v1::GenerateStreamResponse delta;
    const auto result = decoder.Decode(event, &delta);
    if (!result.ok()) {
      // A stream's error goes to the caller as it is.
      llmgateway::fuzz::CheckUpstreamStatus(result.status(), "Decode");
      return 0;
    }
    llmgateway::fuzz::CheckWireSafe(delta, "GenerateStreamResponse");
    if (end == absl::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  llmgateway::v1::GenerateStreamResponse last;
  decoder.Finish(&last);
  llmgateway::fuzz::CheckWireSafe(last, "last GenerateStreamResponse");
  return 0;
}
