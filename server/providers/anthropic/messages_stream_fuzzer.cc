// libFuzzer entry point for the Messages API stream decoder, for open-ended
// fuzzing beyond the seeded messages_stream_fuzz_test: the input is split
// into events at newlines and fed to one decoder, as an upstream stream
// would be; a line "event: NAME" sets the next event's SSE name.
#include <cstddef>
#include <cstdint>

#include "absl/strings/strip.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/anthropic/messages_stream.h"
#include "server/providers/upstream_error_fuzz_checks.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  llmgateway::anthropic::MessagesStreamDecoder decoder("fuzz");
  absl::string_view event_type;
  while (!input.empty()) {
    const size_t end = input.find('\n');
    absl::string_view line = input.substr(0, end);
    input.remove_prefix(end == absl::string_view::npos ? input.size() : end + 1);
    if (absl::ConsumePrefix(&line, "event: ")) {
      event_type = line;
      continue;
    }
    llmgateway::v1::GenerateStreamResponse delta;
    const auto result = decoder.Decode(event_type, line, &delta);
    if (!result.ok()) {
      // A stream's error goes to the caller as it is.
      llmgateway::fuzz::CheckUpstreamStatus(result.status(), "Decode");
      return 0;
    }
    llmgateway::fuzz::CheckWireSafe(delta, "GenerateStreamResponse");
    event_type = {};
  }
  llmgateway::v1::GenerateStreamResponse last;
  decoder.Finish(&last);
  llmgateway::fuzz::CheckWireSafe(last, "last GenerateStreamResponse");
  return 0;
}
