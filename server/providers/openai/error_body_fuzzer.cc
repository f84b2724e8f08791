// libFuzzer entry point for the openai error-body parser and the error mapping
// behind it: the first byte picks the HTTP status (and a Retry-After), the
// rest is the body a hostile upstream sends. Checks what reaches the caller
// (upstream_error_fuzz_checks.h) and that parsing is a pure function.
#include <cstddef>
#include <cstdint>
#include <tuple>

#include "server/providers/openai/error_body.h"
#include "server/providers/openai/openai_adapter.h"
#include "server/providers/upstream_error_fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fuzz = llmgateway::fuzz;
  namespace openai = llmgateway::openai;
  const auto& adapter =
      fuzz::FuzzAdapter<openai::OpenAiAdapter>("openai", "https://api.openai.com/v1");
  fuzz::CheckErrorBodyInput(data, size, adapter, [](absl::string_view body) {
    const openai::ErrorBody e = openai::ParseErrorBody(body);
    return std::make_tuple(e.message, e.type, e.code, e.param);
  });
  return 0;
}
