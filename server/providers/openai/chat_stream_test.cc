// Tests ChatStreamDecoder on golden chunk streams in the documented shapes of
// OpenAI, DeepSeek and vLLM, on error events and on malformed data.
#include "server/providers/openai/chat_stream.h"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"

// Counts heap allocations while g_count_allocations is set, to hold Decode
// to its promise of no allocation per event beyond the protobuf fields. All
// forms a plain or nothrow new-expression can reach are replaced, so every
// block is malloc'd and free'd by this file (ASan then sees matching pairs).
namespace {
bool g_count_allocations = false;
size_t g_allocations = 0;

void* CountedAlloc(size_t n) {
  if (g_count_allocations) ++g_allocations;
  return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

void* operator new(size_t n) {
  if (void* p = CountedAlloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) {
  if (void* p = CountedAlloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return CountedAlloc(n);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return CountedAlloc(n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace llmgateway::openai {
namespace {

using Result = ChatStreamDecoder::Result;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// `data` as curl hands it over: in a heap block of exactly its size, so ASan
// reports any read past the end (simdjson's padding must come from the
// decoder's own copy).
class ExactBuffer {
 public:
  explicit ExactBuffer(absl::string_view s)
      : size_(s.size()), bytes_(new char[s.size() == 0 ? 1 : s.size()]) {
    if (size_ > 0) std::memcpy(bytes_.get(), s.data(), size_);
  }
  absl::string_view view() const { return absl::string_view(bytes_.get(), size_); }

 private:
  size_t size_;
  std::unique_ptr<char[]> bytes_;
};

absl::StatusOr<Result> DecodeExact(ChatStreamDecoder& decoder,
                                   absl::string_view data,
                                   v1::GenerateStreamResponse* delta) {
  ExactBuffer buffer(data);
  return decoder.Decode(buffer.view(), delta);
}

// What a stream turned into: the results of Decode, the messages a caller
// sends (each kDelta, then Finish's if the stream ended well) and the first
// error.
struct StreamRun {
  std::vector<Result> results;
  std::vector<v1::GenerateStreamResponse> messages;
  absl::Status status;
  bool done = false;
};

StreamRun DecodeStream(const std::vector<std::string>& events,
                 std::string provider = "openai") {
  StreamRun run;
  ChatStreamDecoder decoder(std::move(provider));
  for (const std::string& event : events) {
    v1::GenerateStreamResponse delta;
    absl::StatusOr<Result> r = DecodeExact(decoder, event, &delta);
    if (!r.ok()) {
      run.status = r.status();
      EXPECT_EQ(delta.ByteSizeLong(), 0u) << "an error leaves the delta empty";
      return run;
    }
    run.results.push_back(*r);
    if (*r == Result::kDelta) {
      run.messages.push_back(delta);
    } else {
      EXPECT_EQ(delta.ByteSizeLong(), 0u) << delta.DebugString();
    }
    if (*r == Result::kDone) break;
  }
  run.done = decoder.done();
  v1::GenerateStreamResponse last;
  decoder.Finish(&last);
  run.messages.push_back(last);
  return run;
}

v1::GenerateStreamResponse Proto(const std::string& text) {
  v1::GenerateStreamResponse m;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &m)) << text;
  return m;
}

void ExpectMessages(const std::vector<v1::GenerateStreamResponse>& got,
                    const std::vector<std::string>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const v1::GenerateStreamResponse w = Proto(want[i]);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got[i], w))
        << "message " << i << " got:\n"
        << got[i].DebugString() << "want:\n"
        << w.DebugString();
  }
}

// The contract every stream keeps: id/model/provider on the first and last
// messages only, finish_reason and usage (always present) on the last only.
void ExpectEnvelope(const StreamRun& run, absl::string_view provider) {
  ASSERT_FALSE(run.messages.empty());
  for (size_t i = 0; i < run.messages.size(); ++i) {
    const v1::GenerateStreamResponse& m = run.messages[i];
    const bool first = i == 0, last = i + 1 == run.messages.size();
    if (first || last) {
      EXPECT_EQ(m.provider(), provider) << i;
    } else {
      EXPECT_EQ(m.id(), "") << i;
      EXPECT_EQ(m.model(), "") << i;
      EXPECT_EQ(m.provider(), "") << i;
    }
    EXPECT_EQ(m.has_usage(), last) << i;
    if (!last) {
      EXPECT_EQ(m.finish_reason(), v1::FINISH_REASON_UNSPECIFIED) << i;
    }
  }
}

std::string Reason(const absl::Status& status) {
  auto info = GetErrorInfo(status);
  return info.has_value() ? info->reason() : "<none>";
}

// --- Golden streams ---------------------------------------------------------

// OpenAI, stream_options.include_usage: a role chunk, content chunks, a
// finish chunk, then a usage chunk with empty choices. Newer responses carry
// an "obfuscation" padding field on every chunk.
const std::vector<std::string> kOpenAIText = {
    R"({"id":"chatcmpl-BxYz12","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"Vx3k"})",
    R"({"id":"chatcmpl-BxYz12","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"q9"})",
    R"({"id":"chatcmpl-BxYz12","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{"content":"! Caf\u00e9 \"ok\"\n"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"R"})",
    R"({"id":"chatcmpl-BxYz12","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null,"obfuscation":"mZ1a"})",
    R"({"id":"chatcmpl-BxYz12","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_b3f1157249","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"obfuscation":"k"})",
    "[DONE]",
};

TEST(ChatStreamDecoderTest, OpenAITextStream) {
  const StreamRun run = DecodeStream(kOpenAIText);
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_TRUE(run.done);
  EXPECT_THAT(run.results,
              ElementsAre(Result::kNothing, Result::kDelta, Result::kDelta,
                          Result::kNothing, Result::kNothing, Result::kDone));
  ExpectMessages(run.messages, {
                                   R"pb(id: "chatcmpl-BxYz12"
                                        model: "gpt-4.1-2025-04-14"
                                        provider: "openai"
                                        text: "Hello")pb",
                                   R"pb(text: "! Café \"ok\"\n")pb",
                                   R"pb(id: "chatcmpl-BxYz12"
                                        model: "gpt-4.1-2025-04-14"
                                        provider: "openai"
                                        finish_reason: FINISH_REASON_STOP
                                        usage {
                                          prompt_tokens: 19
                                          completion_tokens: 10
                                          total_tokens: 29
                                          cached_prompt_tokens: 3
                                        })pb",
                               });
  ExpectEnvelope(run, "openai");
}

// OpenAI parallel tool calls: each call opens with id and name (arguments
// ""), then argument fragments by index.
const std::vector<std::string> kOpenAIParallelTools = {
    R"({"id":"chatcmpl-T00l","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5d58a6052a","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_8mWvQ","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-T00l","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5d58a6052a","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"lo"}}]},"logprobs":null,"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-T00l","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5d58a6052a","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"cation\": \"Paris\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-T00l","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5d58a6052a","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_Qz7aB","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-T00l","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5d58a6052a","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"location\": \"Tokyo\"}"}}]},"logprobs":null,"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-T00l","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5d58a6052a","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null})",
    R"({"id":"chatcmpl-T00l","object":"chat.completion.chunk","created":1741570000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5d58a6052a","choices":[],"usage":{"prompt_tokens":82,"completion_tokens":47,"total_tokens":129,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}})",
    "[DONE]",
};

TEST(ChatStreamDecoderTest, OpenAIParallelToolCalls) {
  const StreamRun run = DecodeStream(kOpenAIParallelTools);
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_THAT(run.results,
              ElementsAre(Result::kDelta, Result::kDelta, Result::kDelta,
                          Result::kDelta, Result::kDelta, Result::kNothing,
                          Result::kNothing, Result::kDone));
  ExpectMessages(
      run.messages,
      {
          R"pb(id: "chatcmpl-T00l"
               model: "gpt-4o-2024-08-06"
               provider: "openai"
               tool_calls { index: 0 id: "call_8mWvQ" name: "get_weather" })pb",
          R"pb(tool_calls { index: 0 arguments: "{\"lo" })pb",
          R"pb(tool_calls { index: 0 arguments: "cation\": \"Paris\"}" })pb",
          R"pb(tool_calls { index: 1 id: "call_Qz7aB" name: "get_weather" })pb",
          R"pb(tool_calls { index: 1 arguments: "{\"location\": \"Tokyo\"}" })pb",
          R"pb(id: "chatcmpl-T00l"
               model: "gpt-4o-2024-08-06"
               provider: "openai"
               finish_reason: FINISH_REASON_TOOL_CALLS
               usage {
                 prompt_tokens: 82
                 completion_tokens: 47
                 total_tokens: 129
               })pb",
      });
  ExpectEnvelope(run, "openai");

  // What a client does with the fragments: concatenate by index.
  std::vector<std::string> arguments(2);
  for (const auto& m : run.messages) {
    for (const auto& call : m.tool_calls()) {
      arguments.at(call.index()) += call.arguments();
    }
  }
  EXPECT_THAT(arguments, ElementsAre(R"({"location": "Paris"})",
                                     R"({"location": "Tokyo"})"));
}

// DeepSeek deepseek-reasoner: reasoning_content deltas (content null), then
// content deltas (reasoning_content null); usage arrives with the finish.
const std::vector<std::string> kDeepSeekReasoner = {
    R"({"id":"5f3b0c2e-8d1a-4c6b-9e7f-0a1b2c3d4e5f","object":"chat.completion.chunk","created":1737870000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"5f3b0c2e-8d1a-4c6b-9e7f-0a1b2c3d4e5f","object":"chat.completion.chunk","created":1737870000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Okay"},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"5f3b0c2e-8d1a-4c6b-9e7f-0a1b2c3d4e5f","object":"chat.completion.chunk","created":1737870000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":null,"reasoning_content":", the user says hi."},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"5f3b0c2e-8d1a-4c6b-9e7f-0a1b2c3d4e5f","object":"chat.completion.chunk","created":1737870000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":"Hello","reasoning_content":null},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"5f3b0c2e-8d1a-4c6b-9e7f-0a1b2c3d4e5f","object":"chat.completion.chunk","created":1737870000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":"!","reasoning_content":null},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"5f3b0c2e-8d1a-4c6b-9e7f-0a1b2c3d4e5f","object":"chat.completion.chunk","created":1737870000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":"","reasoning_content":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":13,"completion_tokens":58,"total_tokens":71,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":50},"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":13}})",
    "[DONE]",
};

TEST(ChatStreamDecoderTest, DeepSeekReasonerStream) {
  const StreamRun run = DecodeStream(kDeepSeekReasoner, "deepseek");
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_THAT(run.results,
              ElementsAre(Result::kNothing, Result::kDelta, Result::kDelta,
                          Result::kDelta, Result::kDelta, Result::kNothing,
                          Result::kDone));
  ExpectMessages(run.messages,
                 {
                     R"pb(id: "5f3b0c2e-8d1a-4c6b-9e7f-0a1b2c3d4e5f"
                          model: "deepseek-reasoner"
                          provider: "deepseek"
                          reasoning { text: "Okay" })pb",
                     R"pb(reasoning { text: ", the user says hi." })pb",
                     R"pb(text: "Hello")pb",
                     R"pb(text: "!")pb",
                     R"pb(id: "5f3b0c2e-8d1a-4c6b-9e7f-0a1b2c3d4e5f"
                          model: "deepseek-reasoner"
                          provider: "deepseek"
                          finish_reason: FINISH_REASON_STOP
                          usage {
                            prompt_tokens: 13
                            completion_tokens: 58
                            total_tokens: 71
                            reasoning_tokens: 50
                          })pb",
                 });
  ExpectEnvelope(run, "deepseek");
}

// vLLM with a reasoning parser: the newer `reasoning` field, no usage key on
// most chunks, usage on the last content chunk (with vLLM's stop_reason).
const std::vector<std::string> kVllmReasoning = {
    R"({"id":"chatcmpl-8d2c4e0f1a3b4c5d","object":"chat.completion.chunk","created":1751000000,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"chatcmpl-8d2c4e0f1a3b4c5d","object":"chat.completion.chunk","created":1751000000,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"reasoning":"The user greets me"},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"chatcmpl-8d2c4e0f1a3b4c5d","object":"chat.completion.chunk","created":1751000000,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"reasoning":"."},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"chatcmpl-8d2c4e0f1a3b4c5d","object":"chat.completion.chunk","created":1751000000,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"chatcmpl-8d2c4e0f1a3b4c5d","object":"chat.completion.chunk","created":1751000000,"model":"Qwen/Qwen3-8B","choices":[{"index":0,"delta":{"content":" there."},"logprobs":null,"finish_reason":"stop","stop_reason":null}],"usage":{"prompt_tokens":12,"total_tokens":40,"completion_tokens":28,"prompt_tokens_details":null}})",
    "[DONE]",
};

TEST(ChatStreamDecoderTest, VllmReasoningStream) {
  const StreamRun run = DecodeStream(kVllmReasoning, "local-vllm");
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_THAT(run.results,
              ElementsAre(Result::kNothing, Result::kDelta, Result::kDelta,
                          Result::kDelta, Result::kDelta, Result::kDone));
  ExpectMessages(run.messages,
                 {
                     R"pb(id: "chatcmpl-8d2c4e0f1a3b4c5d"
                          model: "Qwen/Qwen3-8B"
                          provider: "local-vllm"
                          reasoning { text: "The user greets me" })pb",
                     R"pb(reasoning { text: "." })pb",
                     R"pb(text: "Hi")pb",
                     R"pb(text: " there.")pb",
                     R"pb(id: "chatcmpl-8d2c4e0f1a3b4c5d"
                          model: "Qwen/Qwen3-8B"
                          provider: "local-vllm"
                          finish_reason: FINISH_REASON_STOP
                          usage {
                            prompt_tokens: 12
                            completion_tokens: 28
                            total_tokens: 40
                          })pb",
                 });
  ExpectEnvelope(run, "local-vllm");
}

// OpenAI structured outputs: the model's refusal streams in delta.refusal.
const std::vector<std::string> kOpenAIRefusal = {
    R"({"id":"chatcmpl-R3f","object":"chat.completion.chunk","created":1741571000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":""},"logprobs":null,"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-R3f","object":"chat.completion.chunk","created":1741571000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"refusal":"I'm sorry"},"logprobs":null,"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-R3f","object":"chat.completion.chunk","created":1741571000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"refusal":", I can't help with that."},"logprobs":null,"finish_reason":null}],"usage":null})",
    R"({"id":"chatcmpl-R3f","object":"chat.completion.chunk","created":1741571000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null})",
    R"({"id":"chatcmpl-R3f","object":"chat.completion.chunk","created":1741571000,"model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":9,"total_tokens":49}})",
    "[DONE]",
};

TEST(ChatStreamDecoderTest, RefusalIsText) {
  const StreamRun run = DecodeStream(kOpenAIRefusal);
  ASSERT_TRUE(run.status.ok()) << run.status;
  ExpectMessages(run.messages, {
                                   R"pb(id: "chatcmpl-R3f"
                                        model: "gpt-4o-2024-08-06"
                                        provider: "openai"
                                        text: "I'm sorry")pb",
                                   R"pb(text: ", I can't help with that.")pb",
                                   R"pb(id: "chatcmpl-R3f"
                                        model: "gpt-4o-2024-08-06"
                                        provider: "openai"
                                        finish_reason: FINISH_REASON_STOP
                                        usage {
                                          prompt_tokens: 40
                                          completion_tokens: 9
                                          total_tokens: 49
                                        })pb",
                               });
  ExpectEnvelope(run, "openai");
}

TEST(ChatStreamDecoderTest, FinishReasonAndContentInTheSameChunk) {
  const StreamRun run = DecodeStream({
      R"({"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Once upon"},"finish_reason":null}]})",
      R"({"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":" a time"},"finish_reason":"length"}]})",
      R"({"id":"c1","model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}})",
      "[DONE]",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_THAT(run.results, ElementsAre(Result::kDelta, Result::kDelta,
                                       Result::kNothing, Result::kDone));
  ExpectMessages(run.messages,
                 {
                     R"pb(id: "c1" model: "m" provider: "openai" text: "Once upon")pb",
                     R"pb(text: " a time")pb",
                     R"pb(id: "c1"
                          model: "m"
                          provider: "openai"
                          finish_reason: FINISH_REASON_LENGTH
                          usage { prompt_tokens: 5 completion_tokens: 4 total_tokens: 9 })pb",
                 });
  ExpectEnvelope(run, "openai");
}

TEST(ChatStreamDecoderTest, NoUsageGivesZeroUsageAndKeepsFinishReason) {
  // A server that ignores stream_options.include_usage.
  const StreamRun run = DecodeStream({
      R"({"id":"c2","object":"chat.completion.chunk","model":"llama3","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]})",
      R"({"id":"c2","object":"chat.completion.chunk","model":"llama3","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
      "[DONE]",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  ExpectMessages(run.messages,
                 {
                     R"pb(id: "c2" model: "llama3" provider: "openai" text: "Hi")pb",
                     R"pb(id: "c2"
                          model: "llama3"
                          provider: "openai"
                          finish_reason: FINISH_REASON_STOP
                          usage {})pb",
                 });
  EXPECT_TRUE(run.messages.back().has_usage());
}

TEST(ChatStreamDecoderTest, EnvelopeOnlyOnFirstAndLastMessages) {
  for (const auto* stream : {&kOpenAIText, &kOpenAIParallelTools,
                             &kDeepSeekReasoner, &kVllmReasoning,
                             &kOpenAIRefusal}) {
    const StreamRun run = DecodeStream(*stream, "p");
    ASSERT_TRUE(run.status.ok()) << run.status;
    ASSERT_GE(run.messages.size(), 3u);
    ExpectEnvelope(run, "p");
    EXPECT_FALSE(run.messages.front().id().empty());
    EXPECT_EQ(run.messages.front().id(), run.messages.back().id());
    EXPECT_EQ(run.messages.front().model(), run.messages.back().model());
  }
}

TEST(ChatStreamDecoderTest, IdAndModelFromTheFirstChunkThatHasThem) {
  const StreamRun run = DecodeStream({
      R"({"choices":[{"index":0,"delta":{"role":"assistant"}}]})",
      R"({"id":"first","model":"m1","choices":[{"index":0,"delta":{"content":"a"}}]})",
      R"({"id":"second","model":"m2","choices":[{"index":0,"delta":{"content":"b"}}]})",
      "[DONE]",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  ExpectMessages(run.messages,
                 {
                     R"pb(id: "first" model: "m1" provider: "openai" text: "a")pb",
                     R"pb(text: "b")pb",
                     R"pb(id: "first"
                          model: "m1"
                          provider: "openai"
                          usage {})pb",
                 });
}

TEST(ChatStreamDecoderTest, FirstDeltaWithoutIdStillCarriesProvider) {
  // id and model come after the choices in this server's key order, and the
  // first content chunk has none at all: the first message names the
  // provider regardless, and Finish the id seen later.
  const StreamRun run = DecodeStream({
      R"({"choices":[{"index":0,"delta":{"content":"a"}}]})",
      R"({"choices":[{"delta":{"content":"b"},"index":0}],"model":"m","id":"late"})",
      "[DONE]",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  ExpectMessages(run.messages, {
                                   R"pb(provider: "openai" text: "a")pb",
                                   R"pb(text: "b")pb",
                                   R"pb(id: "late"
                                        model: "m"
                                        provider: "openai"
                                        usage {})pb",
                               });
}

// --- Errors -----------------------------------------------------------------

TEST(ChatStreamDecoderTest, OpenAIErrorEventMidStream) {
  const StreamRun run = DecodeStream({
      kOpenAIText[0],
      kOpenAIText[1],
      R"({"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}})",
      kOpenAIText[2],
  });
  EXPECT_EQ(run.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(run.status.message(),
            "provider \"openai\" reported an error mid-stream: The server had "
            "an error while processing your request. Sorry about that!");
  auto info = GetErrorInfo(run.status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "UPSTREAM_STREAM_ERROR");
  EXPECT_EQ(info->domain(), "llmgateway");
  EXPECT_EQ(info->metadata().at("provider"), "openai");
  EXPECT_THAT(run.results, ElementsAre(Result::kNothing, Result::kDelta));
}

TEST(ChatStreamDecoderTest, OtherErrorEventShapes) {
  struct Case {
    const char* data;
    const char* message;
  };
  const Case cases[] = {
      // vLLM: its ErrorResponse under "error".
      {R"({"error":{"object":"error","message":"Request timed out.","type":"InternalServerError","param":null,"code":500}})",
       "Request timed out."},
      // OpenRouter: a chunk with an error and finish_reason "error"; the
      // error wins over the chunk's (empty) content, whatever the key order.
      {R"({"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"openai/gpt-4o","provider":"OpenAI","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"error"}],"error":{"code":502,"message":"Provider disconnected unexpectedly"}})",
       "Provider disconnected unexpectedly"},
      {R"({"error":{"code":502,"message":"Provider disconnected"},"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"error"}]})",
       "Provider disconnected"},
      // Ollama-style string error; an error with no message at all.
      {R"({"error":"model is overloaded"})", "model is overloaded"},
      {R"({"error":{"code":"server_error"}})", "server_error"},
      {R"({"error":{}})", "no details"},
      // vLLM's older top-level error object.
      {R"({"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400})",
       "max_tokens is too large"},
  };
  for (const Case& c : cases) {
    ChatStreamDecoder decoder("vllm");
    v1::GenerateStreamResponse delta;
    absl::StatusOr<Result> r = DecodeExact(decoder, c.data, &delta);
    ASSERT_FALSE(r.ok()) << c.data;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(r.status().message(),
              absl::StrCat("provider \"vllm\" reported an error mid-stream: ",
                           c.message));
    EXPECT_EQ(Reason(r.status()), "UPSTREAM_STREAM_ERROR");
    EXPECT_EQ(delta.ByteSizeLong(), 0u);
  }
}

TEST(ChatStreamDecoderTest, NullErrorIsNotAnError) {
  const StreamRun run = DecodeStream({
      R"({"id":"c","error":null,"choices":[{"index":0,"delta":{"content":"ok"}}]})",
      "[DONE]",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.messages.front().text(), "ok");
}

TEST(ChatStreamDecoderTest, LongUpstreamErrorMessageIsBounded) {
  // 3-byte characters, so the cut has to back off to a character boundary.
  std::string message;
  for (int i = 0; i < 2000; ++i) message += "\xe2\x82\xac";
  ChatStreamDecoder decoder("openai");
  v1::GenerateStreamResponse delta;
  absl::StatusOr<Result> r = DecodeExact(
      decoder, absl::StrCat(R"({"error":{"message":")", message, R"("}})"),
      &delta);
  ASSERT_FALSE(r.ok());
  const absl::string_view prefix =
      "provider \"openai\" reported an error mid-stream: ";
  ASSERT_THAT(std::string(r.status().message()), StartsWith(std::string(prefix)));
  absl::string_view rest = r.status().message().substr(prefix.size());
  EXPECT_LE(rest.size(), 1024u + 3);
  EXPECT_TRUE(absl::EndsWith(rest, "..."));
  rest.remove_suffix(3);
  EXPECT_EQ(rest.size() % 3, 0u) << "cut inside a character";
  EXPECT_TRUE(absl::StartsWith(message, rest));
}

TEST(ChatStreamDecoderTest, MalformedDataIsABadResponse) {
  // Each carries a marker that must never reach the status message.
  const char* const cases[] = {
      "not json SECRET",
      R"({"id":"x","choices":[{"delta":{"content":"SECRET)",
      R"({"choices":[{"index":0,"delta":{"content":"SECRET"}}]} {"choices":[]})",
      R"(["SECRET"])",
      R"("SECRET")",
      "42",
      "null",
      "[DONE] SECRET",
      R"({"choices":{"SECRET":1}})",
      R"({"choices":[{"index":0,"delta":"SECRET"}]})",
      R"({"choices":[{"index":0,"delta":{"content":["SECRET"]}}]})",
      R"({"choices":[{"index":0,"delta":{"content":"SECRET"},"finish_reason":7}]})",
      R"({"choices":[{"index":"SECRET","delta":{}}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":-1,"function":{"arguments":"SECRET"}}]}}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":4294967296,"function":{"arguments":"SECRET"}}]}}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":{"SECRET":1}}}]}}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":{"SECRET":1}}}]})",
      R"({"usage":{"prompt_tokens":"SECRET"}})",
      R"({"usage":{"prompt_tokens":1.5},"x":"SECRET"})",
      R"({"usage":{"prompt_tokens_details":{"cached_tokens":"SECRET"}}})",
      R"({"usage":"SECRET"})",
      R"({"id":{"SECRET":1}})",
      R"({"model":["SECRET"]})",
      R"({"choices":[{"index":0,"delta":{"content":nul}}],"x":"SECRET"})",
      "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"SECRET\xff\"}}]}",
      "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\x01SECRET\"}}]}",
  };
  for (const char* data : cases) {
    ChatStreamDecoder decoder("openai");
    v1::GenerateStreamResponse delta;
    absl::StatusOr<Result> r = DecodeExact(decoder, data, &delta);
    ASSERT_FALSE(r.ok()) << data << " -> " << delta.DebugString();
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << data;
    EXPECT_EQ(Reason(r.status()), "UPSTREAM_BAD_RESPONSE") << data;
    EXPECT_THAT(std::string(r.status().message()),
                StartsWith("provider \"openai\" sent a response the gateway "
                           "could not read: malformed chat.completion.chunk: "))
        << data;
    EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr("SECRET")))
        << r.status();
    EXPECT_EQ(delta.ByteSizeLong(), 0u) << data;
    EXPECT_FALSE(decoder.done());
  }
}

TEST(ChatStreamDecoderTest, BadResponseNamesThePath) {
  ChatStreamDecoder decoder("openai");
  v1::GenerateStreamResponse delta;
  absl::StatusOr<Result> r = DecodeExact(
      decoder, R"({"choices":[{"index":0,"delta":{"content":5}}]})", &delta);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("choices[].delta.content (simdjson: INCORRECT_TYPE)"));
}

// --- Details ----------------------------------------------------------------

TEST(ChatStreamDecoderTest, DoneKeepAliveAndAfterDone) {
  ChatStreamDecoder decoder("openai");
  v1::GenerateStreamResponse delta;
  EXPECT_FALSE(decoder.done());
  // Blank data (a keep-alive) and an empty object are nothing to send.
  EXPECT_EQ(*DecodeExact(decoder, "", &delta), Result::kNothing);
  EXPECT_EQ(*DecodeExact(decoder, " \r\n", &delta), Result::kNothing);
  EXPECT_EQ(*DecodeExact(decoder, "{}", &delta), Result::kNothing);
  EXPECT_FALSE(decoder.done());
  EXPECT_EQ(*DecodeExact(decoder, " [DONE]\r", &delta), Result::kDone);
  EXPECT_TRUE(decoder.done());
  // Nothing after [DONE] belongs to the answer, not even an error event.
  EXPECT_EQ(*DecodeExact(decoder, R"({"choices":[{"delta":{"content":"x"}}]})",
                         &delta),
            Result::kNothing);
  EXPECT_EQ(*DecodeExact(decoder, R"({"error":{"message":"x"}})", &delta),
            Result::kNothing);
  EXPECT_EQ(delta.ByteSizeLong(), 0u);
}

TEST(ChatStreamDecoderTest, KeyOrderAndUnknownFieldsDoNotMatter) {
  const StreamRun run = DecodeStream({
      R"({"usage":null,"x":{"nested":[1,{"a":null}]},"choices":[{"finish_reason":null,"logprobs":{"content":[]},"delta":{"extra":true,"content":"x","role":"assistant"},"index":0}],"model":"m","id":"i"})",
      R"({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{}","name":"f"},"type":"function","id":"c","index":0}]},"index":0,"finish_reason":"tool_calls"}]})",
      R"({"usage":{"completion_tokens_details":{"reasoning_tokens":5},"total_tokens":12,"completion_tokens":9,"prompt_tokens":3,"prompt_tokens_details":{"cached_tokens":2}},"choices":[]})",
      "[DONE]",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  ExpectMessages(run.messages,
                 {
                     R"pb(id: "i" model: "m" provider: "openai" text: "x")pb",
                     R"pb(tool_calls { index: 0 id: "c" name: "f" arguments: "{}" })pb",
                     R"pb(id: "i"
                          model: "m"
                          provider: "openai"
                          finish_reason: FINISH_REASON_TOOL_CALLS
                          usage {
                            prompt_tokens: 3
                            completion_tokens: 9
                            total_tokens: 12
                            cached_prompt_tokens: 2
                            reasoning_tokens: 5
                          })pb",
                 });
}

TEST(ChatStreamDecoderTest, EscapedKeysAndTextAreUnescaped) {
  const StreamRun run = DecodeStream({
      R"({"choices":[{"index":0,"d\u0065lta":{"cont\u0065nt":"a\"b\\c\n\u00e9\ud83d\ude00"}}]})",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.messages.front().text(),
            "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(ChatStreamDecoderTest, OnlyChoiceIndexZeroCounts) {
  // n > 1 (set through provider_options): other choices are not the answer,
  // in whatever order their fields come.
  const StreamRun run = DecodeStream({
      R"({"id":"n","choices":[{"index":1,"delta":{"content":"B","reasoning":"r","tool_calls":[{"index":0,"id":"x","function":{"name":"g","arguments":"{}"}}]},"finish_reason":"length"},{"delta":{"content":"A"},"index":0}]})",
      R"({"choices":[{"delta":{"content":"B2","tool_calls":[{"index":0,"id":"y","function":{"name":"g"}}]},"finish_reason":"content_filter","index":1}]})",
      R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"},{"index":1,"delta":{},"finish_reason":"length"}]})",
      "[DONE]",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_THAT(run.results, ElementsAre(Result::kDelta, Result::kNothing,
                                       Result::kNothing, Result::kDone));
  ExpectMessages(run.messages,
                 {
                     R"pb(id: "n" provider: "openai" text: "A")pb",
                     R"pb(id: "n"
                          provider: "openai"
                          finish_reason: FINISH_REASON_STOP
                          usage {})pb",
                 });
}

TEST(ChatStreamDecoderTest, ChoiceWithoutIndexIsItsPosition) {
  const StreamRun run = DecodeStream({
      R"({"choices":[{"delta":{"content":"first"}},{"delta":{"content":"second"}}]})",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.messages.front().text(), "first");
}

TEST(ChatStreamDecoderTest, ReasoningContentWinsOverReasoning) {
  for (const char* data : {
           R"({"choices":[{"index":0,"delta":{"reasoning_content":"rc","reasoning":"r"}}]})",
           R"({"choices":[{"index":0,"delta":{"reasoning":"r","reasoning_content":"rc"}}]})",
       }) {
    const StreamRun run = DecodeStream({data});
    ASSERT_TRUE(run.status.ok()) << run.status;
    EXPECT_EQ(run.messages.front().reasoning().text(), "rc") << data;
  }
  // A null or empty reasoning_content does not hide `reasoning`.
  for (const char* data : {
           R"({"choices":[{"index":0,"delta":{"reasoning_content":null,"reasoning":"r"}}]})",
           R"({"choices":[{"index":0,"delta":{"reasoning":"r","reasoning_content":""}}]})",
       }) {
    const StreamRun run = DecodeStream({data});
    ASSERT_TRUE(run.status.ok()) << run.status;
    EXPECT_EQ(run.messages.front().reasoning().text(), "r") << data;
  }
}

TEST(ChatStreamDecoderTest, ReasoningTextAndToolCallsInOneChunk) {
  const StreamRun run = DecodeStream({
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{"}},{"index":1,"id":"d","function":{"name":"g"}}],"content":"t","reasoning_content":"r"}}]})",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  ExpectMessages(run.messages, {
                                   R"pb(provider: "openai"
                                        text: "t"
                                        reasoning { text: "r" }
                                        tool_calls {
                                          index: 0
                                          id: "c"
                                          name: "f"
                                          arguments: "{"
                                        }
                                        tool_calls { index: 1 id: "d" name: "g" })pb",
                                   R"pb(provider: "openai" usage {})pb",
                               });
}

TEST(ChatStreamDecoderTest, ToolCallFragmentsWithoutIndexOrContent) {
  const StreamRun run = DecodeStream({
      // No index: the array position stands in (servers that send whole
      // calls, several in one chunk).
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}},{"id":"b","type":"function","function":{"name":"g","arguments":"{}"}}]}}]})",
      // Fragments that carry nothing are dropped; a chunk of only those is
      // nothing to send.
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":""}},{"index":1,"type":"function","id":null,"function":null}]}}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":[]}}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":null,"content":null,"refusal":null,"reasoning":null}}]})",
      "[DONE]",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_THAT(run.results, ElementsAre(Result::kDelta, Result::kNothing,
                                       Result::kNothing, Result::kNothing,
                                       Result::kDone));
  ExpectMessages(run.messages,
                 {
                     R"pb(provider: "openai"
                          tool_calls { index: 0 id: "a" name: "f" arguments: "{}" }
                          tool_calls { index: 1 id: "b" name: "g" arguments: "{}" })pb",
                     R"pb(provider: "openai" usage {})pb",
                 });
}

TEST(ChatStreamDecoderTest, RepeatedKeysLastWins) {
  const StreamRun run = DecodeStream({
      R"({"choices":[{"index":0,"delta":{"content":"a","tool_calls":[{"index":0,"id":"x","function":{"name":"f"}}]},"delta":{"content":"b"}}]})",
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"x","function":{"name":"f"}}],"tool_calls":[{"index":1,"id":"y","function":{"name":"g"}}]}}]})",
      R"({"choices":[{"index":0,"delta":{"content":"c","reasoning":"r","tool_calls":[{"index":2,"id":"z"}]},"finish_reason":"length"}],"choices":[{"index":0,"delta":{"content":"d"}}]})",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  ExpectMessages(run.messages,
                 {
                     R"pb(provider: "openai" text: "b")pb",
                     R"pb(tool_calls { index: 1 id: "y" name: "g" })pb",
                     R"pb(text: "d")pb",
                     R"pb(provider: "openai" usage {})pb",
                 });
}

TEST(ChatStreamDecoderTest, UsageDetails) {
  // A missing (or null) total is prompt + completion; a later usage replaces
  // an earlier one (vLLM's continuous_usage_stats sends running totals).
  const StreamRun run = DecodeStream({
      R"({"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":7,"completion_tokens":1,"total_tokens":8,"prompt_tokens_details":{"cached_tokens":4}}})",
      R"({"choices":[{"index":0,"delta":{"content":"b"}}],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":null}})",
      R"({"choices":[],"usage":null})",
      "[DONE]",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  ExpectMessages(run.messages, {
                                   R"pb(provider: "openai" text: "a")pb",
                                   R"pb(text: "b")pb",
                                   R"pb(provider: "openai"
                                        usage {
                                          prompt_tokens: 7
                                          completion_tokens: 2
                                          total_tokens: 9
                                        })pb",
                               });
}

TEST(ChatStreamDecoderTest, FinishReasons) {
  struct Case {
    const char* reason;
    v1::FinishReason want;
  };
  for (const Case& c : {Case{"stop", v1::FINISH_REASON_STOP},
                        Case{"length", v1::FINISH_REASON_LENGTH},
                        Case{"content_filter", v1::FINISH_REASON_CONTENT_FILTER},
                        Case{"tool_calls", v1::FINISH_REASON_TOOL_CALLS},
                        Case{"function_call", v1::FINISH_REASON_TOOL_CALLS},
                        Case{"eos", v1::FINISH_REASON_OTHER}}) {
    const StreamRun run = DecodeStream({absl::StrCat(
        R"({"choices":[{"index":0,"delta":{},"finish_reason":")", c.reason,
        R"("}]})")});
    ASSERT_TRUE(run.status.ok()) << run.status;
    EXPECT_EQ(run.messages.back().finish_reason(), c.want) << c.reason;
  }
  // A later null does not undo a finish_reason.
  const StreamRun run = DecodeStream({
      R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]})",
      R"({"choices":[{"index":0,"delta":{},"finish_reason":null}]})",
  });
  EXPECT_EQ(run.messages.back().finish_reason(), v1::FINISH_REASON_LENGTH);
}

TEST(ChatStreamDecoderTest, HugeEventUsesAParserOfItsOwn) {
  // Past the reused parser's cap (1 MiB): decoded all the same, and small
  // events after it still work.
  const std::string big(3 << 20, 'x');
  const StreamRun run = DecodeStream({
      absl::StrCat(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":")",
                   big, R"("}}]}}]})"),
      R"({"choices":[{"index":0,"delta":{"content":"after"}}]})",
      "[DONE]",
  });
  ASSERT_TRUE(run.status.ok()) << run.status;
  ASSERT_EQ(run.messages.size(), 3u);
  EXPECT_EQ(run.messages[0].tool_calls(0).arguments(), big);
  EXPECT_EQ(run.messages[1].text(), "after");
}

TEST(ChatStreamDecoderTest, InterleavedStreamsOnOneThread) {
  // Decoders share the thread's parser; nothing of one event may leak into
  // another stream's.
  ChatStreamDecoder a("a"), b("b");
  std::vector<std::string> text_a, text_b;
  const size_t n = std::max(kOpenAIText.size(), kDeepSeekReasoner.size());
  for (size_t i = 0; i < n; ++i) {
    if (i < kOpenAIText.size()) {
      v1::GenerateStreamResponse d;
      ASSERT_TRUE(DecodeExact(a, kOpenAIText[i], &d).ok());
      text_a.push_back(d.text());
    }
    if (i < kDeepSeekReasoner.size()) {
      v1::GenerateStreamResponse d;
      ASSERT_TRUE(DecodeExact(b, kDeepSeekReasoner[i], &d).ok());
      text_b.push_back(d.text() + "|" + d.reasoning().text());
    }
  }
  EXPECT_THAT(text_a, ElementsAre("", "Hello", "! Café \"ok\"\n", "", "", ""));
  EXPECT_THAT(text_b, ElementsAre("|", "|Okay", "|, the user says hi.",
                                  "Hello|", "!|", "|", "|"));
  v1::GenerateStreamResponse la, lb;
  a.Finish(&la);
  b.Finish(&lb);
  EXPECT_EQ(la.usage().total_tokens(), 29);
  EXPECT_EQ(lb.usage().total_tokens(), 71);
}

TEST(ChatStreamDecoderTest, ConcurrentDecodersOnManyThreads) {
  // One parser per thread: streams on different HTTP loop threads never
  // share one.
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      const auto& stream = t % 2 ? kOpenAIParallelTools : kDeepSeekReasoner;
      for (int round = 0; round < 200; ++round) {
        ChatStreamDecoder decoder("p");
        std::string all;
        for (const std::string& event : stream) {
          v1::GenerateStreamResponse d;
          absl::StatusOr<Result> r = decoder.Decode(event, &d);
          if (!r.ok()) ++failures[t];
          all += d.text() + d.reasoning().text();
          for (const auto& call : d.tool_calls()) all += call.arguments();
        }
        const std::string want =
            t % 2 ? R"({"location": "Paris"}{"location": "Tokyo"})"
                  : "Okay, the user says hi.Hello!";
        if (all != want || !decoder.done()) ++failures[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(failures, ElementsAre(0, 0, 0, 0));
}

// --- Allocation -------------------------------------------------------------

// Heap allocations made by fn().
template <typename Fn>
size_t CountAllocations(Fn&& fn) {
  g_allocations = 0;
  g_count_allocations = true;
  fn();
  g_count_allocations = false;
  return g_allocations;
}

TEST(ChatStreamDecoderTest, SteadyStateDecodeAllocatesNothingOfItsOwn) {
  // As a relay that reuses one message: Clear() keeps the fields' storage,
  // so once the buffers (scratch copy, thread's parser, fields) have grown,
  // a text or tool-call event allocates nothing at all.
  ChatStreamDecoder decoder("openai");
  v1::GenerateStreamResponse delta;
  auto decode = [&](const std::string& event) {
    delta.Clear();
    absl::StatusOr<Result> r = decoder.Decode(event, &delta);
    ASSERT_TRUE(r.ok()) << r.status();
  };
  const std::string& role = kOpenAIText[0];
  const std::string& text = kOpenAIText[1];
  const std::string& finish = kOpenAIText[3];
  const std::string& usage = kOpenAIText[4];
  const std::string& tool_open = kOpenAIParallelTools[3];
  const std::string& tool_args = kOpenAIParallelTools[4];
  const std::string& reasoning = kDeepSeekReasoner[2];
  // Warm-up, largest event first and every kind of field once.
  for (const std::string* e :
       {&usage, &role, &text, &tool_open, &tool_args, &reasoning, &finish}) {
    decode(*e);
  }
  for (const std::string* e : {&role, &text, &finish, &usage, &tool_open,
                               &tool_args, &text}) {
    EXPECT_EQ(CountAllocations([&] { decode(*e); }), 0u) << *e;
  }
  // As the provider relays today, a fresh message per event: an event with
  // nothing to send allocates nothing.
  for (const std::string* e : {&role, &finish, &usage}) {
    EXPECT_EQ(CountAllocations([&] {
                v1::GenerateStreamResponse fresh;
                absl::StatusOr<Result> r = decoder.Decode(*e, &fresh);
                EXPECT_TRUE(r.ok() && *r == Result::kNothing);
              }),
              0u)
        << *e;
  }
  // proto3 Clear() frees a submessage, so a reasoning delta costs what
  // building the same message by hand costs, and no more.
  v1::GenerateStreamResponse by_hand;
  const size_t baseline = CountAllocations([&] {
    by_hand.Clear();
    by_hand.mutable_reasoning()->mutable_text()->append(", the user says hi.");
  });
  EXPECT_EQ(CountAllocations([&] { decode(reasoning); }), baseline);
}

}  // namespace
}  // namespace llmgateway::openai
