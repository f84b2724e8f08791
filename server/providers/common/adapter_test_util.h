// Test support shared by the adapters' tests: inputs as the HTTP layer hands
// them over (bodies with spare capacity, SSE data in a block of exactly its
// size), text-format protos, and the checks every format's tests make of a
// request body and of a stream decoder's last message.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_COMMON_ADAPTER_TEST_UTIL_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_COMMON_ADAPTER_TEST_UTIL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/adapter.h"

namespace llmgateway::providers::test_util {

// `textproto` as a T; one that does not parse fails the test.
template <typename T>
T ParseTextProto(const std::string& textproto) {
  T message;
  EXPECT_TRUE(
      google::protobuf::TextFormat::ParseFromString(textproto, &message))
      << textproto;
  return message;
}

inline llmgateway::v1::GenerateRequest ParseRequest(
    const std::string& textproto) {
  return ParseTextProto<llmgateway::v1::GenerateRequest>(textproto);
}

// Expects `got` to equal `want`, a text-format message of the same type.
void ExpectProto(const google::protobuf::Message& got, const std::string& want);

// Expects `json` to parse: a typo in a golden string compared with a body
// cannot hide invalid output.
void ExpectValidJson(const std::string& json);

// `json` with spare capacity, as HttpClient delivers bodies: parsed in place.
std::string Padded(absl::string_view json);

// An adapter's unary body parser (ParseChatResponse, ...).
using BodyParser = absl::Status (*)(const std::string& body,
                                    llmgateway::v1::GenerateResponse* out);

// Runs `parse` on `input` as HttpClient delivers it (spare capacity, parsed
// in place) and without spare capacity (copied): both must give the same
// outcome, and a well-formed one. Accepted: *out is the answer, an
// assistant message whose parts are set, whose text parts are not empty and
// join into `text`, with a valid finish reason. Refused: UNAVAILABLE
// "<malformed_prefix>..." that does not echo the body, and *out untouched.
// Sets *accepted.
void CheckBodyParse(BodyParser parse, absl::string_view malformed_prefix,
                    const std::string& input,
                    llmgateway::v1::GenerateResponse* out, bool* accepted);

// Runs `check` on every prefix and every suffix of every sample (a body cut
// short, a body whose start was lost), stopping at its first fatal failure.
void CheckEveryTruncation(const std::vector<std::string>& samples,
                          const std::function<void(const std::string&)>& check);

// Runs `check` on `rounds` samples mutated by json::MutateJson (seeded with
// `seed`, splicing from the samples), stopping at its first fatal failure.
void CheckMutations(const std::vector<std::string>& samples, uint32_t seed,
                    int rounds,
                    const std::function<void(const std::string&)>& check);

// Runs `check` on 5000 strings of random bytes, then 5000 of JSON's
// alphabet, each up to 200 bytes (seed 12345), stopping at its first fatal
// failure.
void CheckRandomInputs(const std::function<void(const std::string&)>& check);

// decoder.Decode(type, data, delta) with `data` in a heap block of exactly
// its size, as curl's buffer would be: ASan reports any read past the end.
absl::StatusOr<StreamDecoder::Result> DecodeExact(
    StreamDecoder& decoder, absl::string_view type, absl::string_view data,
    llmgateway::v1::GenerateStreamResponse* delta);

// `m` without its envelope (id, model, provider), which depends on the
// decoder's history rather than on the event.
std::string WithoutEnvelope(llmgateway::v1::GenerateStreamResponse m);

// What must hold for the last message of any stream, however it went: usage
// and a valid finish reason, the provider, and no content.
void CheckFinish(StreamDecoder& decoder, absl::string_view provider);

// How many inputs decoded to each kind of result: mutations that all fail
// up front would test nothing past simdjson's first stage.
struct Tally {
  int deltas = 0;
  int nothings = 0;
  int errors = 0;
};

}  // namespace llmgateway::providers::test_util

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_COMMON_ADAPTER_TEST_UTIL_H_
