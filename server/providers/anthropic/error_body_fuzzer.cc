// libFuzzer entry point for the anthropic error-body parser and the error mapping
// behind it: the first byte picks the HTTP status (and a Retry-After), the
// rest is the body a hostile upstream sends. Checks what reaches the caller
// (upstream_error_fuzz_checks.h) and that parsing is a pure function.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/config/config.pb.h"
#include "server/providers/anthropic/error_body.h"
#include "server/providers/anthropic/anthropic_adapter.h"
#include "server/providers/upstream_error_fuzz_checks.h"
#include "tests/fuzz/fuzz_checks.h"

namespace {

const llmgateway::anthropic::AnthropicAdapter& Adapter() {
  static const auto* adapter = [] {
    llmgateway::config::Provider config;
    config.set_name("fuzz");
    config.set_kind("anthropic");
    config.set_base_url("https://api.anthropic.com/v1");
    return new llmgateway::anthropic::AnthropicAdapter(config, std::string(llmgateway::fuzz::kFuzzKey));
  }();
  return *adapter;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  llmgateway::HttpErrorResponse response;
  if (!llmgateway::fuzz::FuzzedHttpError(data, size, &response)) return 0;
  llmgateway::fuzz::CheckMappedHttpError(Adapter().MapHttpError(response));

  // Parsing in place must not depend on the bytes around the body.
  const std::string copy(response.body);
  const auto a = llmgateway::anthropic::ParseErrorBody(response.body);
  const auto b = llmgateway::anthropic::ParseErrorBody(copy);
  if (a.message != b.message || a.type != b.type) {
    llmgateway::fuzz::Fail("ParseErrorBody", "differs on a copy of the same body");
  }
  return 0;
}
