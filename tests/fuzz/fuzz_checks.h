// Invariants the fuzz entry points check beyond "no crash": what the gateway
// hands on (protobuf messages, status texts) must be valid to whoever reads
// it next.
#ifndef LLM_GATEWAY_TESTS_FUZZ_FUZZ_CHECKS_H_
#define LLM_GATEWAY_TESTS_FUZZ_FUZZ_CHECKS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace llmgateway::fuzz {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
// U+10FFFF. What protobuf's parser (and so every caller's stub) demands of a
// proto3 `string`.
bool IsValidUtf8(absl::string_view text);

// The path ("choices[0].message.content") of the first `string` field,
// map key or value in `message` that is not valid UTF-8; empty if none.
std::string FindInvalidUtf8(const google::protobuf::Message& message);

// Prints `what` and the reason to stderr and aborts (a libFuzzer crash).
[[noreturn]] void Fail(absl::string_view what, absl::string_view detail);

// Aborts unless every string in `message` is valid UTF-8 and the message
// survives a serialize-parse round trip unchanged (what a caller's stub does
// with it).
void CheckWireSafe(const google::protobuf::Message& message, absl::string_view what);

}  // namespace llmgateway::fuzz

#endif  // LLM_GATEWAY_TESTS_FUZZ_FUZZ_CHECKS_H_
