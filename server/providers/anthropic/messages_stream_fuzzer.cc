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
    if (!decoder.Decode(event_type, line, &delta).ok()) return 0;
    event_type = {};
  }
  llmgateway::v1::GenerateStreamResponse last;
  decoder.Finish(&last);
  return 0;
}
