// libFuzzer entry point for the Gemini stream decoder, for open-ended
// fuzzing beyond the seeded generate_content_stream_fuzz_test: the input is
// split into chunks at newlines and fed to one decoder, as an upstream
// stream would be.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/gemini/generate_content_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  llmgateway::gemini::GenerateContentStreamDecoder decoder("fuzz");
  while (!input.empty()) {
    const size_t end = input.find('\n');
    const absl::string_view line = input.substr(0, end);
    input.remove_prefix(end == absl::string_view::npos ? input.size() : end + 1);
    llmgateway::v1::GenerateStreamResponse delta;
    if (!decoder.Decode("", line, &delta).ok()) return 0;
  }
  llmgateway::v1::GenerateStreamResponse last;
  decoder.Finish(&last);
  return 0;
}
