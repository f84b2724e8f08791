// libFuzzer entry point for the Messages API body parser, for open-ended fuzzing
// beyond the seeded messages_response_fuzz_test: parsing in place and from a copy agree, and
// what reaches the caller is bounded and wire-safe
// (upstream_error_fuzz_checks.h). Needs clang's -fsanitize=fuzzer.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/providers/anthropic/messages_response.h"
#include "server/providers/upstream_error_fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  llmgateway::fuzz::CheckResponseInput(
      data, size, [](const std::string& body, llmgateway::v1::GenerateResponse* response) {
        return llmgateway::anthropic::ParseMessagesResponse(body, response);
      });
  return 0;
}
