// Seeded randomized property test of ChatStreamDecoder: mutated, truncated,
// random and deeply nested events must never crash, and every outcome must
// be a well-formed delta or error. Fixed seeds keep it deterministic.
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"
#include "server/providers/common/adapter_test_util.h"
#include "server/providers/json/json_mutator.h"
#include "server/providers/openai/chat_stream.h"

namespace llmgateway::openai {
namespace {

using Result = ChatStreamDecoder::Result;
using ::llmgateway::json::InsertJsonWhitespace;
using ::llmgateway::json::MutateJson;
using ::llmgateway::json::Repeat;
using ::llmgateway::providers::test_util::CheckEveryTruncation;
using ::llmgateway::providers::test_util::CheckFinish;
using ::llmgateway::providers::test_util::CheckMutations;
using ::llmgateway::providers::test_util::CheckRandomInputs;
using ::llmgateway::providers::test_util::DecodeExact;
using ::llmgateway::providers::test_util::Tally;
using ::llmgateway::providers::test_util::WithoutEnvelope;

// Golden chunks of the documented shapes (OpenAI text, tool calls, refusal,
// DeepSeek reasoning, vLLM), error events, and the terminator.
const std::vector<std::string>& Samples() {
  static const auto* samples = new std::vector<std::string>{
      R"({"id":"chatcmpl-BxYz12","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Vx3k"})",
      R"({"id":"chatcmpl-BxYz12","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"content":"Hello! \"Caf\u00e9\" \\ \ud83d\ude00\n"},"logprobs":null,"finish_reason":null}],"usage":null})",
      R"({"id":"chatcmpl-BxYz12","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null})",
      R"({"id":"chatcmpl-BxYz12","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}}})",
      R"({"id":"chatcmpl-T00l","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_8mWvQ","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null})",
      R"({"id":"chatcmpl-T00l","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"location\": \"Tokyo\"}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null})",
      R"({"id":"chatcmpl-R3f","object":"chat.completion.chunk","created":1741571000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"refusal":"I'm sorry, I can't help with that."},"logprobs":null,"finish_reason":null}],"usage":null})",
      R"({"id":"5f3b0c2e-8d1a","object":"chat.completion.chunk","created":1737870000,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Okay, the user says hi."},"logprobs":null,"finish_reason":null}]})",
      R"({"id":"5f3b0c2e-8d1a","object":"chat.completion.chunk","created":1737870000,"model":"deepseek-reasoner","choices":[{"index":0,"delta":{"content":"","reasoning_content":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":13,"completion_tokens":58,"total_tokens":71,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":50},"prompt_cache_hit_tokens":0}})",
      R"({"id":"chatcmpl-8d2c","object":"chat.completion.chunk","created":1751000000,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"reasoning":"The user greets me","content":" there."},"logprobs":null,"finish_reason":"stop","stop_reason":null}],"usage":{"prompt_tokens":12,"total_tokens":40,"completion_tokens":28}})",
      R"({"choices":[{"index":1,"delta":{"content":"B"}},{"delta":{"content":"A","tool_calls":[{"id":"a","function":{"name":"f","arguments":"{}"}}]},"index":0}],"x":[1,2.5e-3,true,false,null,{"y":[[]]}]})",
      R"({"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}})",
      R"({"id":"gen-1","object":"chat.completion.chunk","model":"openai/gpt-4o","choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}],"error":{"code":502,"message":"Provider disconnected"}})",
      R"({"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400})",
      "[DONE]",
  };
  return *samples;
}

constexpr absl::string_view kProvider = "fuzz";
constexpr absl::string_view kBadPrefix =
    "provider \"fuzz\" sent a response the gateway could not read: "
    "malformed chat.completion.chunk: ";
constexpr absl::string_view kErrorPrefix =
    "provider \"fuzz\" reported an error mid-stream: ";

Tally g_tally;

// What must hold for any outcome of one Decode.
void CheckOutcome(const absl::StatusOr<Result>& r,
                  const v1::GenerateStreamResponse& delta,
                  absl::string_view input) {
  if (!r.ok()) {
    const absl::Status& s = r.status();
    ASSERT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    ASSERT_EQ(delta.ByteSizeLong(), 0u) << "an error leaves the delta empty";
    auto info = GetErrorInfo(s);
    ASSERT_TRUE(info.has_value()) << s;
    ASSERT_EQ(info->domain(), "llmgateway");
    ASSERT_EQ(info->metadata().at("provider"), std::string(kProvider));
    if (info->reason() == "UPSTREAM_BAD_RESPONSE") {
      ASSERT_TRUE(absl::StartsWith(s.message(), kBadPrefix)) << s;
      // Bounded: the payload is never echoed (paths and simdjson's error
      // names only).
      ASSERT_LT(s.message().size(), kBadPrefix.size() + 120) << s;
    } else {
      ASSERT_EQ(info->reason(), "UPSTREAM_STREAM_ERROR") << s;
      ASSERT_TRUE(absl::StartsWith(s.message(), kErrorPrefix)) << s;
      ASSERT_LE(s.message().size(), kErrorPrefix.size() + 1024 + 3) << s;
    }
    return;
  }
  // Only the exact terminator ends the stream.
  ASSERT_EQ(*r == Result::kDone,
            absl::StripAsciiWhitespace(input) == "[DONE]");
  ASSERT_FALSE(delta.has_usage());
  ASSERT_EQ(delta.finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
  const bool has_content = !delta.text().empty() ||
                           !delta.reasoning().text().empty() ||
                           delta.tool_calls_size() > 0;
  ASSERT_EQ(*r == Result::kDelta, has_content) << delta.DebugString();
  if (*r != Result::kDelta) {
    ASSERT_EQ(delta.ByteSizeLong(), 0u) << delta.DebugString();
    return;
  }
  if (delta.has_reasoning()) {
    ASSERT_FALSE(delta.reasoning().text().empty());
  }
  for (const v1::ToolCallDelta& call : delta.tool_calls()) {
    ASSERT_GE(call.index(), 0);
    ASSERT_FALSE(call.id().empty() && call.name().empty() &&
                 call.arguments().empty());
  }
  // Whatever it holds was in the input (escapes only shrink).
  ASSERT_LE(delta.text().size() + delta.reasoning().text().size(), input.size());
}

// A decoder that has already sent its first message and holds state.
ChatStreamDecoder Seasoned() {
  ChatStreamDecoder d{std::string(kProvider)};
  v1::GenerateStreamResponse delta;
  (void)d.Decode(Samples()[1], &delta);
  return d;
}

// Decodes `input` with a fresh decoder and with a seasoned one: both must
// give a well-formed outcome, and the same one (the thread's shared parser
// and the decoder's history must not leak into an event's content).
void Check(absl::string_view input) {
  ChatStreamDecoder fresh{std::string(kProvider)};
  v1::GenerateStreamResponse a;
  const absl::StatusOr<Result> ra = DecodeExact(fresh, "", input, &a);
  ASSERT_NO_FATAL_FAILURE(CheckOutcome(ra, a, input))
      << testing::PrintToString(std::string(input));
  if (!ra.ok()) {
    ++g_tally.errors;
  } else if (*ra == Result::kDelta) {
    ++g_tally.deltas;
    ASSERT_EQ(a.provider(), std::string(kProvider));  // The first message.
  } else {
    ++g_tally.nothings;
  }
  ASSERT_NO_FATAL_FAILURE(CheckFinish(fresh, kProvider));

  ChatStreamDecoder seasoned = Seasoned();
  v1::GenerateStreamResponse b;
  const absl::StatusOr<Result> rb = DecodeExact(seasoned, "", input, &b);
  ASSERT_NO_FATAL_FAILURE(CheckOutcome(rb, b, input));
  ASSERT_EQ(ra.status(), rb.status());
  if (ra.ok()) {
    ASSERT_EQ(*ra, *rb);
    ASSERT_EQ(WithoutEnvelope(a), WithoutEnvelope(b));
    ASSERT_TRUE(b.provider().empty()) << "only the first message has it";
  }
  ASSERT_NO_FATAL_FAILURE(CheckFinish(seasoned, kProvider));
}

TEST(ChatStreamPropertyTest, SamplesDecode) {
  int deltas = 0, errors = 0;
  for (const std::string& s : Samples()) {
    ASSERT_NO_FATAL_FAILURE(Check(s));
    ChatStreamDecoder d{std::string(kProvider)};
    v1::GenerateStreamResponse delta;
    absl::StatusOr<Result> r = d.Decode(s, &delta);
    if (!r.ok()) ++errors;
    if (r.ok() && *r == Result::kDelta) ++deltas;
  }
  EXPECT_EQ(deltas, 7);
  EXPECT_EQ(errors, 3);  // The three error events.
}

TEST(ChatStreamPropertyTest, EveryTruncation) {
  CheckEveryTruncation(Samples(), [](const std::string& s) { Check(s); });
}

std::string Mutate(std::string s, std::mt19937& rng) {
  return MutateJson(std::move(s), rng, Samples());
}

TEST(ChatStreamPropertyTest, RandomByteMutations) {
  g_tally = Tally();
  constexpr int kRounds = 40000;
  // A fixed seed: failures must reproduce.
  CheckMutations(Samples(), 0x63686e6b, kRounds,
                 [](const std::string& s) { Check(s); });
  std::cout << g_tally.deltas << " deltas, " << g_tally.nothings
            << " nothings, " << g_tally.errors << " errors of " << kRounds
            << " mutated events\n";
  // The mutations reach past the parser's first stage.
  EXPECT_GT(g_tally.deltas, kRounds / 20);
  EXPECT_GT(g_tally.errors, kRounds / 20);
}

TEST(ChatStreamPropertyTest, MutatedEventInAWholeStream) {
  // One bad event in a real stream: the decoder stops there with an error,
  // or carries on, and either way the envelope rules hold.
  const std::vector<int> stream = {0, 1, 4, 5, 7, 2, 3, 14};  // ... [DONE]
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    const size_t bad = rng() % stream.size();
    ChatStreamDecoder decoder{std::string(kProvider)};
    int deltas = 0;
    bool failed = false;
    for (size_t k = 0; k < stream.size() && !failed && !decoder.done(); ++k) {
      std::string event = Samples()[stream[k]];
      if (k == bad) event = Mutate(event, rng);
      v1::GenerateStreamResponse delta;
      absl::StatusOr<Result> r = DecodeExact(decoder, "", event, &delta);
      ASSERT_NO_FATAL_FAILURE(CheckOutcome(r, delta, event));
      if (!r.ok()) {
        failed = true;
      } else if (*r == Result::kDelta) {
        ASSERT_EQ(delta.provider().empty(), deltas > 0) << "iteration " << i;
        ++deltas;
      }
    }
    ASSERT_NO_FATAL_FAILURE(CheckFinish(decoder, kProvider));
  }
}

TEST(ChatStreamPropertyTest, RandomBytes) {
  CheckRandomInputs([](const std::string& s) { Check(s); });
}

TEST(ChatStreamPropertyTest, WhitespaceBetweenTokensChangesNothing) {
  // JSON whitespace outside strings, inserted at random after structural
  // characters: the same deltas, the same Finish.
  std::mt19937 rng(99);
  for (int round = 0; round < 200; ++round) {
    for (const std::string& s : Samples()) {
      if (s == "[DONE]") continue;  // Not JSON: "[ DONE]" is no terminator.
      const std::string spaced = InsertJsonWhitespace(s, rng);
      ChatStreamDecoder d1{std::string(kProvider)}, d2{std::string(kProvider)};
      v1::GenerateStreamResponse m1, m2, f1, f2;
      const absl::StatusOr<Result> r1 = DecodeExact(d1, "", s, &m1);
      const absl::StatusOr<Result> r2 = DecodeExact(d2, "", spaced, &m2);
      ASSERT_EQ(r1.status(), r2.status()) << spaced;
      if (r1.ok()) {
        ASSERT_EQ(*r1, *r2);
      }
      ASSERT_EQ(m1.SerializeAsString(), m2.SerializeAsString()) << spaced;
      d1.Finish(&f1);
      d2.Finish(&f2);
      ASSERT_EQ(f1.SerializeAsString(), f2.SerializeAsString()) << spaced;
    }
  }
}

TEST(ChatStreamPropertyTest, DeepNesting) {
  for (int depth : {1, 2, 100, 1000, 1023, 1024, 1025, 5000, 100000}) {
    const std::string open = Repeat("[", depth), close = Repeat("]", depth);
    const std::string obj = Repeat("{\"a\":", depth) + "1" + Repeat("}", depth);
    // At the root, balanced and not.
    ASSERT_NO_FATAL_FAILURE(Check(open));
    ASSERT_NO_FATAL_FAILURE(Check(open + close));
    ASSERT_NO_FATAL_FAILURE(Check(obj));
    // In an unknown field (skipped), and wherever a value is read.
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(
        R"({"x":)", open, close,
        R"(,"choices":[{"index":0,"delta":{"content":"ok"}}]})")));
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(
        R"({"choices":[{"index":0,"delta":{"content":)", open, close, "}}]}")));
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(
        R"({"choices":[{"index":0,"delta":{"x":)", obj, "}}]}")));
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(R"({"choices":)", open, close,
                                               "}")));
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(
        R"({"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"name":)",
        obj, "}}]}}]}")));
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(
        R"({"usage":{"prompt_tokens_details":)", obj, "}}")));
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(
        R"({"error":{"message":)", open, close, "}}")));
    ASSERT_NO_FATAL_FAILURE(Check(absl::StrCat(R"({"error":)", obj, "}")));
  }
  // Skipped nesting within simdjson's depth limit decodes.
  ChatStreamDecoder d{std::string(kProvider)};
  v1::GenerateStreamResponse delta;
  absl::StatusOr<Result> r = d.Decode(
      absl::StrCat(R"({"x":)", Repeat("[", 1000), Repeat("]", 1000),
                   R"(,"choices":[{"index":0,"delta":{"content":"ok"}}]})"),
      &delta);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(delta.text(), "ok");
}

TEST(ChatStreamPropertyTest, ManyChoicesAndToolCalls) {
  std::string body = R"({"choices":[)";
  for (int i = 0; i < 10000; ++i) {
    absl::StrAppend(&body, i ? "," : "", R"({"index":)", i,
                    R"(,"delta":{"tool_calls":[)");
    for (int j = 0; j < (i == 0 || i == 9999 ? 1000 : 1); ++j) {
      absl::StrAppend(&body, j ? "," : "", R"({"index":)", j,
                      R"(,"id":"c","function":{"name":"f","arguments":"{}"}})");
    }
    absl::StrAppend(&body, "]}}");
  }
  body += "]}";
  ChatStreamDecoder d{std::string(kProvider)};
  v1::GenerateStreamResponse delta;
  absl::StatusOr<Result> r = d.Decode(body, &delta);
  ASSERT_TRUE(r.ok()) << r.status();
  // Only choice 0's calls; the last choice's (index 9999) were dropped again.
  EXPECT_EQ(delta.tool_calls_size(), 1000);
  ASSERT_NO_FATAL_FAILURE(Check(body));
}

}  // namespace
}  // namespace llmgateway::openai
