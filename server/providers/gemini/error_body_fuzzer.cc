// libFuzzer entry point for the gemini error-body parser and the error mapping
// behind it: the first byte picks the HTTP status (and a Retry-After), the
// rest is the body a hostile upstream sends. Checks what reaches the caller
// (upstream_error_fuzz_checks.h) and that parsing is a pure function.
#include <cstddef>
#include <cstdint>
#include <tuple>

#include "server/providers/gemini/error_body.h"
#include "server/providers/gemini/gemini_adapter.h"
#include "server/providers/upstream_error_fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fuzz = llmgateway::fuzz;
  namespace gemini = llmgateway::gemini;
  const auto& adapter = fuzz::FuzzAdapter<gemini::GeminiAdapter>(
      "gemini", "https://generativelanguage.googleapis.com/v1beta");
  fuzz::CheckErrorBodyInput(data, size, adapter, [](absl::string_view body) {
    const gemini::ErrorBody e = gemini::ParseErrorBody(body);
    return std::make_tuple(e.code, e.status, e.message, e.reason, e.retry_delay);
  });
  return 0;
}
