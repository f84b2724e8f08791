// Shared test support for the adapters (see adapter_test_util.h).
#include "server/providers/common/adapter_test_util.h"

#include <cstring>
#include <memory>
#include <random>

#include "absl/strings/match.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/providers/json/json_mutator.h"
#include "simdjson.h"

namespace llmgateway::providers::test_util {

void ExpectProto(const google::protobuf::Message& got,
                 const std::string& want) {
  std::unique_ptr<google::protobuf::Message> w(got.New());
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(want, w.get()))
      << want;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got, *w))
      << "got:\n"
      << got.DebugString() << "want:\n"
      << w->DebugString();
}

void ExpectValidJson(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(simdjson::padded_string(json)).get(root),
            simdjson::SUCCESS)
      << json;
}

std::string Padded(absl::string_view json) {
  std::string s;
  s.reserve(json.size() + 64);
  s.append(json.data(), json.size());
  return s;
}

void CheckBodyParse(BodyParser parse, absl::string_view malformed_prefix,
                    const std::string& input, v1::GenerateResponse* out,
                    bool* accepted) {
  *accepted = false;
  // As HttpClient delivers it: parsed in place.
  std::string padded;
  padded.reserve(input.size() + 64);
  padded = input;
  v1::GenerateResponse& a = *out;
  const absl::Status sa = parse(padded, &a);

  // Without spare capacity: parsed from a copy; must agree.
  std::string tight = input;
  tight.shrink_to_fit();
  v1::GenerateResponse b;
  const absl::Status sb = parse(tight, &b);

  ASSERT_EQ(sa, sb) << testing::PrintToString(input);
  if (sa.ok()) {
    ASSERT_EQ(a.SerializeAsString(), b.SerializeAsString());
    ASSERT_EQ(a.message().role(), v1::ROLE_ASSISTANT);
    std::string joined;
    for (const v1::Part& p : a.message().parts()) {
      ASSERT_NE(p.kind_case(), v1::Part::KIND_NOT_SET);
      if (p.has_text()) {
        ASSERT_FALSE(p.text().empty());
        joined += p.text();
      }
    }
    ASSERT_EQ(joined, a.text());
    ASSERT_TRUE(v1::FinishReason_IsValid(a.finish_reason()));
    *accepted = true;
  } else {
    ASSERT_EQ(sa.code(), absl::StatusCode::kUnavailable) << sa;
    ASSERT_TRUE(absl::StartsWith(sa.message(), malformed_prefix)) << sa;
    // Bounded: the body is never echoed (paths and simdjson names only; an
    // index is the one variable part).
    ASSERT_LT(sa.message().size(), malformed_prefix.size() + 120) << sa;
    ASSERT_EQ(a.ByteSizeLong(), 0u);  // Untouched on failure.
  }
}

void CheckEveryTruncation(
    const std::vector<std::string>& samples,
    const std::function<void(const std::string&)>& check) {
  for (const std::string& s : samples) {
    for (size_t n = 0; n <= s.size(); ++n) {
      ASSERT_NO_FATAL_FAILURE(check(s.substr(0, n)));
      ASSERT_NO_FATAL_FAILURE(check(s.substr(n)));
    }
  }
}

void CheckMutations(const std::vector<std::string>& samples, uint32_t seed,
                    int rounds,
                    const std::function<void(const std::string&)>& check) {
  std::mt19937 rng(seed);
  for (int i = 0; i < rounds; ++i) {
    const std::string s =
        json::MutateJson(samples[rng() % samples.size()], rng, samples);
    ASSERT_NO_FATAL_FAILURE(check(s)) << "iteration " << i;
  }
}

void CheckRandomInputs(const std::function<void(const std::string&)>& check) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_NO_FATAL_FAILURE(check(json::RandomBytes(rng, 200)));
  }
  for (int i = 0; i < 5000; ++i) {
    ASSERT_NO_FATAL_FAILURE(check(json::RandomJsonAlphabet(rng, 200)));
  }
}

absl::StatusOr<StreamDecoder::Result> DecodeExact(
    StreamDecoder& decoder, absl::string_view type, absl::string_view data,
    v1::GenerateStreamResponse* delta) {
  std::unique_ptr<char[]> bytes(new char[data.empty() ? 1 : data.size()]);
  if (!data.empty()) std::memcpy(bytes.get(), data.data(), data.size());
  return decoder.Decode(type, absl::string_view(bytes.get(), data.size()),
                        delta);
}

std::string WithoutEnvelope(v1::GenerateStreamResponse m) {
  m.clear_id();
  m.clear_model();
  m.clear_provider();
  return m.SerializeAsString();
}

void CheckFinish(StreamDecoder& decoder, absl::string_view provider) {
  v1::GenerateStreamResponse last;
  decoder.Finish(&last);
  ASSERT_TRUE(last.has_usage());
  ASSERT_TRUE(v1::FinishReason_IsValid(last.finish_reason()));
  ASSERT_EQ(last.provider(), std::string(provider));
  ASSERT_TRUE(last.text().empty() && !last.has_reasoning() &&
              last.tool_calls_size() == 0);
}

}  // namespace llmgateway::providers::test_util
