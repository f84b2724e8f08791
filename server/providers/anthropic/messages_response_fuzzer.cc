// libFuzzer entry point for the Messages API body parsers, for open-ended
// fuzzing beyond the seeded messages_response_fuzz_test. Needs clang's
// -fsanitize=fuzzer.
#include <cstddef>
#include <cstdint>
#include <string>

#include "llmgateway/v1/generation.pb.h"
#include "server/providers/anthropic/error_body.h"
#include "server/providers/anthropic/messages_response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);

  // Both ways a body can arrive: with spare capacity (parsed in place) and
  // without (copied first).
  std::string padded;
  padded.reserve(size + 64);
  padded = input;
  llmgateway::v1::GenerateResponse a;
  const bool ok_padded =
      llmgateway::anthropic::ParseMessagesResponse(padded, &a).ok();

  std::string tight = input;
  tight.shrink_to_fit();
  llmgateway::v1::GenerateResponse b;
  const bool ok_tight =
      llmgateway::anthropic::ParseMessagesResponse(tight, &b).ok();
  if (ok_padded != ok_tight || a.SerializeAsString() != b.SerializeAsString()) {
    __builtin_trap();
  }

  llmgateway::anthropic::ParseErrorBody(input);
  return 0;
}
