// libFuzzer entry point for the Messages API body parsers, for open-ended
// fuzzing beyond the seeded messages_response_fuzz_test. Needs clang's
// -fsanitize=fuzzer.
#include <cstddef>
#include <cstdint>
#include <string>

#include "google/protobuf/util/message_differencer.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/anthropic/error_body.h"
#include "server/providers/anthropic/messages_response.h"
#include "server/providers/upstream_error.h"
#include "server/providers/upstream_error_fuzz_checks.h"
#include "tests/fuzz/fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);

  // Both ways a body can arrive: with spare capacity (parsed in place) and
  // without (copied first).
  std::string padded;
  padded.reserve(size + 64);
  padded = input;
  llmgateway::v1::GenerateResponse a;
  const absl::Status sa = llmgateway::anthropic::ParseMessagesResponse(padded, &a);

  std::string tight = input;
  tight.shrink_to_fit();
  llmgateway::v1::GenerateResponse b;
  const absl::Status sb = llmgateway::anthropic::ParseMessagesResponse(tight, &b);
  if (!llmgateway::fuzz::SameStatus(sa, sb) ||
      !google::protobuf::util::MessageDifferencer::Equals(a, b)) {
    llmgateway::fuzz::Fail("parsing in place and from a copy differ",
                           sa.ToString() + " / " + sb.ToString() + "\n" + a.ShortDebugString() +
                               "\n" + b.ShortDebugString());
  }

  // What reaches the caller: the answer, or the error the engine makes of it.
  if (sa.ok()) {
    llmgateway::fuzz::CheckWireSafe(a, "GenerateResponse");
  } else {
    llmgateway::fuzz::CheckUpstreamStatus(llmgateway::UpstreamBadResponse("fuzz", sa),
                                          "UpstreamBadResponse");
  }
  return 0;
}
