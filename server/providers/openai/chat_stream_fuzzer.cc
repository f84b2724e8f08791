// libFuzzer entry point for the stream-chunk decoder, for open-ended fuzzing
// beyond the seeded chat_stream_fuzz_test: the input is split into events at
// newlines and fed to one decoder, as an upstream stream would be.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/openai/chat_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  llmgateway::openai::ChatStreamDecoder decoder("fuzz");
  while (!input.empty()) {
    const size_t end = input.find('\n');
    const absl::string_view event = input.substr(0, end);
    llmgateway::v1::GenerateStreamResponse delta;
    if (!decoder.Decode(event, &delta).ok()) return 0;
    if (end == absl::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  llmgateway::v1::GenerateStreamResponse last;
  decoder.Finish(&last);
  return 0;
}
