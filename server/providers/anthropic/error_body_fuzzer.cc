// libFuzzer entry point for the anthropic error-body parser and the error mapping
// behind it: the first byte picks the HTTP status (and a Retry-After), the
// rest is the body a hostile upstream sends. Checks what reaches the caller
// (upstream_error_fuzz_checks.h) and that parsing is a pure function.
#include <cstddef>
#include <cstdint>
#include <tuple>

#include "server/providers/anthropic/error_body.h"
#include "server/providers/anthropic/anthropic_adapter.h"
#include "server/providers/upstream_error_fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fuzz = llmgateway::fuzz;
  namespace anthropic = llmgateway::anthropic;
  const auto& adapter =
      fuzz::FuzzAdapter<anthropic::AnthropicAdapter>("anthropic", "https://api.anthropic.com/v1");
  fuzz::CheckErrorBodyInput(data, size, adapter, [](absl::string_view body) {
    const anthropic::ErrorBody e = anthropic::ParseErrorBody(body);
    return std::make_tuple(e.type, e.message);
  });
  return 0;
}
