// Seeded randomized property tests of GenerateContentStreamDecoder: mutated,
// truncated, random and deeply nested chunks must never crash and every
// outcome must be a well-formed delta or error; and a random answer streamed
// in random chunks must add up to what ParseGenerateContentResponse reads
// from the same answer as one body. Fixed seeds keep it deterministic.
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/common/status_details.h"
#include "server/providers/common/adapter_test_util.h"
#include "server/providers/gemini/generate_content_response.h"
#include "server/providers/gemini/generate_content_stream.h"
#include "server/providers/json/json_mutator.h"
#include "server/providers/json/json_writer.h"

namespace llmgateway::gemini {
namespace {

using Result = GenerateContentStreamDecoder::Result;
using ::llmgateway::json::AppendJsonString;
using ::llmgateway::json::InsertJsonWhitespace;
using ::llmgateway::json::MutateJson;
using ::llmgateway::json::RandomBytes;
using ::llmgateway::json::RandomJsonAlphabet;
using ::llmgateway::json::Repeat;
using ::llmgateway::providers::test_util::CheckFinish;
using ::llmgateway::providers::test_util::DecodeExact;
using ::llmgateway::providers::test_util::Tally;
using ::llmgateway::providers::test_util::WithoutEnvelope;

// Chunks of the documented shapes: text, thoughts, signatures, calls, the
// last chunk, a blocked prompt, errors.
const std::vector<std::string>& Samples() {
  static const auto* samples = new std::vector<std::string>{
      R"({"candidates": [{"content": {"parts": [{"text": "Hello! \"Caf\u00e9\" \\ \ud83d\ude00\n"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"totalTokenCount": 8},"modelVersion": "gemini-2.5-flash","responseId": "7hvPaPKQA5mkz7IP"})",
      R"({"candidates":[{"content":{"parts":[{"text":"**Planning the answer**\nFirst...","thought":true}],"role":"model"},"index":0}],"modelVersion":"gemini-2.5-pro","responseId":"r1"})",
      R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"location":"San Francisco, CA","d":[1,2.5e-3,true,false,null,{"y":[[]]}]}},"thoughtSignature":"CiQB0e2Kb0sigAAA+/=="}],"role":"model"},"index":0}],"responseId":"r1"})",
      R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","id":"own","args":{}}},{"functionCall":{"name":"g"}}],"role":"model"}}]})",
      R"({"candidates":[{"content":{"parts":[{"text":"done."}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":20,"thoughtsTokenCount":30,"cachedContentTokenCount":4,"totalTokenCount":58},"modelVersion":"gemini-2.5-flash","responseId":"7hvPaPKQA5mkz7IP"})",
      R"({"candidates":[{"content":{"parts":[{"text":"","thoughtSignature":"EndSig"}],"role":"model"},"finishReason":"MAX_TOKENS","index":0}]})",
      R"({"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[{"category":"HARM_CATEGORY_HARASSMENT","probability":"HIGH","blocked":true}]}]})",
      R"({"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":5},"responseId":"b"})",
      R"({"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}})",
      R"({"error":{"code":400,"message":"API key not valid","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}})",
      R"({"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"iVBO"}},{"executableCode":{"code":"x"}}]}}],"x":[1,2.5e-3,true,false,null,{"y":[[]]}]})",
      // Most of a real stream is text: more of it, in other shapes.
      R"({"candidates":[{"content":{"parts":[{"text":"日本語の🍣 and a longer run of plain words, as most chunks are"}],"role":"model"},"index":0}],"responseId":"r2"})",
      R"({"responseId":"r3","modelVersion":"m","candidates":[{"index":0,"content":{"role":"model","parts":[{"thought":false,"text":"key order\\t "}]}}]})",
  };
  return *samples;
}

constexpr char kProvider[] = "fuzz";
constexpr absl::string_view kBadPrefix =
    "provider \"fuzz\" sent a response the gateway could not read: "
    "malformed Gemini stream chunk: ";
constexpr absl::string_view kErrorPrefix =
    "provider \"fuzz\" reported an error mid-stream: ";

Tally g_tally;

// What must hold for any outcome of one Decode.
void CheckOutcome(const GenerateContentStreamDecoder& decoder, bool done_before,
                  const absl::StatusOr<Result>& r, const v1::GenerateStreamResponse& delta,
                  absl::string_view input) {
  if (!r.ok()) {
    const absl::Status& s = r.status();
    ASSERT_EQ(delta.ByteSizeLong(), 0u) << "an error leaves the delta empty";
    ASSERT_FALSE(done_before) << "nothing fails after the end";
    auto info = GetErrorInfo(s);
    ASSERT_TRUE(info.has_value()) << s;
    ASSERT_EQ(info->domain(), "llmgateway");
    ASSERT_EQ(info->metadata().at("provider"), kProvider);
    if (info->reason() == "UPSTREAM_BAD_RESPONSE") {
      ASSERT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
      ASSERT_TRUE(absl::StartsWith(s.message(), kBadPrefix)) << s;
      // Bounded: the payload is never echoed (paths and simdjson's error
      // names only).
      ASSERT_LT(s.message().size(), kBadPrefix.size() + 120) << s;
    } else if (info->reason() == "CONTENT_FILTERED") {
      ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
      ASSERT_LE(s.message().size(), 80u + 1024u + 3u) << s;
    } else {
      ASSERT_EQ(info->reason(), "UPSTREAM_STREAM_ERROR") << s;
      ASSERT_TRUE(s.code() == absl::StatusCode::kUnavailable ||
                  s.code() == absl::StatusCode::kInvalidArgument ||
                  s.code() == absl::StatusCode::kInternal ||
                  s.code() == absl::StatusCode::kNotFound ||
                  s.code() == absl::StatusCode::kResourceExhausted)
          << s;
      ASSERT_TRUE(absl::StartsWith(s.message(), kErrorPrefix)) << s;
      ASSERT_LE(s.message().size(), kErrorPrefix.size() + 1024 + 3) << s;
    }
    return;
  }
  if (*r == Result::kDone) ASSERT_TRUE(decoder.done());
  if (done_before) ASSERT_EQ(*r, Result::kNothing) << "nothing after the end";
  ASSERT_FALSE(delta.has_usage());
  ASSERT_EQ(delta.finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
  const bool has_content = !delta.text().empty() || delta.reasoning().ByteSizeLong() > 0 ||
                           delta.tool_calls_size() > 0;
  ASSERT_EQ(*r == Result::kDelta, has_content) << delta.DebugString();
  if (*r != Result::kDelta) {
    ASSERT_EQ(delta.ByteSizeLong(), 0u) << delta.DebugString();
    return;
  }
  ASSERT_TRUE(delta.reasoning().redacted_data().empty());
  for (const v1::ToolCallDelta& call : delta.tool_calls()) {
    // Whole in one fragment.
    ASSERT_GE(call.index(), 0);
    ASSERT_FALSE(call.id().empty());
    ASSERT_FALSE(call.name().empty());
    ASSERT_FALSE(call.arguments().empty());
  }
  // Whatever it holds was in the input (escapes only shrink).
  ASSERT_LE(delta.text().size() + delta.reasoning().ByteSizeLong(), input.size() + 8);
}

// The same outcome: code, message and reason (ErrorInfo metadata is a map,
// whose serialized order is not fixed).
void ExpectSameStatus(const absl::Status& a, const absl::Status& b) {
  ASSERT_EQ(a.code(), b.code()) << a << " / " << b;
  ASSERT_EQ(a.message(), b.message());
  auto ia = GetErrorInfo(a), ib = GetErrorInfo(b);
  ASSERT_EQ(ia.has_value(), ib.has_value());
  if (ia.has_value()) ASSERT_EQ(ia->reason(), ib->reason());
}

// `json` without whitespace outside strings: a call's args are kept as
// the upstream spaced them.
std::string Minify(absl::string_view json) {
  std::string out;
  bool in_string = false, escaped = false;
  for (char c : json) {
    if (in_string) {
      out.push_back(c);
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

v1::GenerateStreamResponse MinifiedArguments(v1::GenerateStreamResponse m) {
  for (v1::ToolCallDelta& call : *m.mutable_tool_calls()) {
    call.set_arguments(Minify(call.arguments()));
  }
  return m;
}

// A decoder that has already sent its first message and holds usage, but
// named no response id (so call ids come out as in a fresh one).
std::unique_ptr<GenerateContentStreamDecoder> Seasoned() {
  auto d = std::make_unique<GenerateContentStreamDecoder>(kProvider);
  v1::GenerateStreamResponse delta;
  (void)d->Decode(
      "",
      R"({"candidates":[{"content":{"parts":[{"text":"warm"}]}}],"usageMetadata":{"promptTokenCount":3}})",
      &delta);
  return d;
}

// Decodes `input` with a fresh decoder and with a seasoned one: both must
// give a well-formed outcome, and the same one (the thread's shared parser
// and the decoder's history must not leak into a chunk's content).
void Check(absl::string_view input) {
  GenerateContentStreamDecoder fresh(kProvider);
  v1::GenerateStreamResponse a;
  const absl::StatusOr<Result> ra = DecodeExact(fresh, "", input, &a);
  ASSERT_NO_FATAL_FAILURE(CheckOutcome(fresh, false, ra, a, input))
      << testing::PrintToString(std::string(input));
  if (!ra.ok()) {
    ++g_tally.errors;
  } else if (*ra == Result::kDelta) {
    ++g_tally.deltas;
    ASSERT_EQ(a.provider(), kProvider);  // The first message.
  } else {
    ++g_tally.nothings;
  }
  ASSERT_NO_FATAL_FAILURE(CheckFinish(fresh, kProvider));

  std::unique_ptr<GenerateContentStreamDecoder> seasoned = Seasoned();
  v1::GenerateStreamResponse b;
  const absl::StatusOr<Result> rb = DecodeExact(*seasoned, "", input, &b);
  ASSERT_NO_FATAL_FAILURE(CheckOutcome(*seasoned, false, rb, b, input));
  ASSERT_NO_FATAL_FAILURE(ExpectSameStatus(ra.status(), rb.status()));
  if (ra.ok()) {
    ASSERT_EQ(*ra, *rb);
    ASSERT_EQ(WithoutEnvelope(a), WithoutEnvelope(b));
    ASSERT_TRUE(b.provider().empty()) << "only the first message has it";
  }
  ASSERT_EQ(fresh.done(), seasoned->done());
  ASSERT_NO_FATAL_FAILURE(CheckFinish(*seasoned, kProvider));

  // After the end, whatever comes is nothing (and never fails).
  if (fresh.done()) {
    v1::GenerateStreamResponse c;
    const absl::StatusOr<Result> rc = DecodeExact(fresh, "", input, &c);
    ASSERT_NO_FATAL_FAILURE(CheckOutcome(fresh, true, rc, c, input));
  }
}

TEST(GenerateContentStreamPropertyTest, SamplesDecode) {
  for (const std::string& s : Samples()) ASSERT_NO_FATAL_FAILURE(Check(s));
  // A documented stream decodes whole.
  GenerateContentStreamDecoder d(kProvider);
  int deltas = 0;
  for (int k : {1, 0, 2, 3, 11, 12, 4}) {
    v1::GenerateStreamResponse delta;
    absl::StatusOr<Result> r = DecodeExact(d, "", Samples()[k], &delta);
    ASSERT_TRUE(r.ok()) << k << ": " << r.status();
    if (*r == Result::kDelta) ++deltas;
  }
  EXPECT_TRUE(d.done());
  EXPECT_EQ(deltas, 7);
  v1::GenerateStreamResponse last;
  d.Finish(&last);
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(last.usage().total_tokens(), 58);
}

TEST(GenerateContentStreamPropertyTest, EveryTruncation) {
  for (const std::string& s : Samples()) {
    for (size_t n = 0; n <= s.size(); ++n) {
      ASSERT_NO_FATAL_FAILURE(Check(absl::string_view(s).substr(0, n)));
      // The tail too: a chunk whose start was lost.
      ASSERT_NO_FATAL_FAILURE(Check(absl::string_view(s).substr(n)));
    }
  }
}

TEST(GenerateContentStreamPropertyTest, RandomByteMutations) {
  std::mt19937 rng(0x67656d73);  // Fixed: failures must reproduce.
  g_tally = Tally();
  constexpr int kRounds = 40000;
  for (int i = 0; i < kRounds; ++i) {
    const std::string s = MutateJson(Samples()[rng() % Samples().size()], rng, Samples());
    ASSERT_NO_FATAL_FAILURE(Check(s)) << "iteration " << i;
  }
  std::cout << g_tally.deltas << " deltas, " << g_tally.nothings << " nothings, "
            << g_tally.errors << " errors of " << kRounds << " mutated chunks\n";
  // The mutations reach past the parser's first stage.
  EXPECT_GT(g_tally.deltas + g_tally.nothings, kRounds / 10);
  EXPECT_GT(g_tally.deltas, kRounds / 20);
  EXPECT_GT(g_tally.errors, kRounds / 20);
}

TEST(GenerateContentStreamPropertyTest, MutatedChunkInAWholeStream) {
  // One bad chunk in a real stream: the decoder stops there with an error,
  // or carries on, and either way the envelope rules hold.
  const std::vector<int> stream = {1, 0, 2, 3, 11, 12, 4};
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    const size_t bad = rng() % stream.size();
    GenerateContentStreamDecoder decoder(kProvider);
    int deltas = 0;
    bool failed = false;
    for (size_t k = 0; k < stream.size() && !failed; ++k) {
      std::string chunk = Samples()[stream[k]];
      if (k == bad) chunk = MutateJson(chunk, rng, Samples());
      const bool done_before = decoder.done();
      v1::GenerateStreamResponse delta;
      absl::StatusOr<Result> r = DecodeExact(decoder, "", chunk, &delta);
      ASSERT_NO_FATAL_FAILURE(CheckOutcome(decoder, done_before, r, delta, chunk));
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

TEST(GenerateContentStreamPropertyTest, RandomBytes) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 5000; ++i) ASSERT_NO_FATAL_FAILURE(Check(RandomBytes(rng, 200)));
  for (int i = 0; i < 5000; ++i) ASSERT_NO_FATAL_FAILURE(Check(RandomJsonAlphabet(rng, 200)));
}

TEST(GenerateContentStreamPropertyTest, WhitespaceBetweenTokensChangesNothing) {
  // JSON whitespace outside strings, inserted at random after structural
  // characters: the same deltas, the same Finish.
  std::mt19937 rng(99);
  for (int round = 0; round < 200; ++round) {
    GenerateContentStreamDecoder d1(kProvider), d2(kProvider);
    for (const std::string& s : Samples()) {
      const std::string spaced = InsertJsonWhitespace(s, rng);
      v1::GenerateStreamResponse m1, m2;
      const absl::StatusOr<Result> r1 = DecodeExact(d1, "", s, &m1);
      const absl::StatusOr<Result> r2 = DecodeExact(d2, "", spaced, &m2);
      ASSERT_NO_FATAL_FAILURE(ExpectSameStatus(r1.status(), r2.status())) << spaced;
      if (r1.ok()) {
        ASSERT_EQ(*r1, *r2);
      }
      ASSERT_EQ(MinifiedArguments(m1).SerializeAsString(),
                MinifiedArguments(m2).SerializeAsString())
          << spaced;
    }
    v1::GenerateStreamResponse f1, f2;
    d1.Finish(&f1);
    d2.Finish(&f2);
    ASSERT_EQ(f1.SerializeAsString(), f2.SerializeAsString());
  }
}

TEST(GenerateContentStreamPropertyTest, DeepNesting) {
  for (int depth : {1, 2, 100, 1000, 1023, 1024, 1025, 5000, 100000}) {
    const std::string open = Repeat("[", depth), close = Repeat("]", depth);
    const std::string obj = Repeat("{\"a\":", depth) + "1" + Repeat("}", depth);
    for (const std::string& input : {
             open,
             open + close,
             obj,
             absl::StrCat(R"({"x":)", open, close,
                          R"(,"candidates":[{"content":{"parts":[{"text":"ok"}]}}]})"),
             absl::StrCat(R"({"candidates":[{"content":{"parts":[{"text":)", open, close,
                          "}]}}]}"),
             absl::StrCat(R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":)",
                          obj, "}}]}}]}"),
             absl::StrCat(R"({"usageMetadata":)", obj, "}"),
             absl::StrCat(R"({"promptFeedback":{"blockReason":)", open, close, "}}"),
             absl::StrCat(R"({"error":{"message":)", open, close, "}}"),
             absl::StrCat(R"({"error":)", obj, "}"),
         }) {
      ASSERT_NO_FATAL_FAILURE(Check(input));
    }
  }
}

// Streams and bodies agree: a random answer, sent both ways.

// Random text: ASCII (JSON specials included), 2-, 3- and 4-byte UTF-8.
std::string RandomText(std::mt19937& rng, size_t max_chars) {
  static const char* const kPieces[] = {"a", "Z", " ", "\"", "\\", "\n", "\t",
                                        "/", "{", "}", "é", "語", "😀", "\x01"};
  std::string s;
  const size_t n = 1 + rng() % max_chars;
  for (size_t i = 0; i < n; ++i) s += kPieces[rng() % (sizeof(kPieces) / sizeof(kPieces[0]))];
  return s;
}

std::string Quote(absl::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

// A random JSON object, as compact text.
std::string RandomObject(std::mt19937& rng, int depth = 0) {
  std::string s = "{";
  const int n = rng() % 4;
  for (int i = 0; i < n; ++i) {
    if (i) s += ",";
    absl::StrAppend(&s, Quote(RandomText(rng, 5)), ":");
    switch (rng() % 5) {
      case 0:
        s += Quote(RandomText(rng, 8));
        break;
      case 1:
        absl::StrAppend(&s, static_cast<int>(rng() % 2000) - 1000);
        break;
      case 2:
        s += rng() % 2 ? "true" : "null";
        break;
      case 3:
        s += depth < 3 ? RandomObject(rng, depth + 1) : "{}";
        break;
      case 4:
        s += "[1,2.5,\"x\"]";
        break;
    }
  }
  return s + "}";
}

// `s` cut into 1-4 pieces at character boundaries (Gemini never splits a
// character: each chunk is a JSON document of its own).
std::vector<std::string> Split(const std::string& s, std::mt19937& rng) {
  std::vector<std::string> out;
  size_t from = 0;
  for (size_t i = 1; i < s.size() && out.size() < 3; ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && rng() % 6 == 0) {
      out.push_back(s.substr(from, i - from));
      from = i;
    }
  }
  out.push_back(s.substr(from));
  return out;
}

struct Part {
  enum Kind { kText, kThought, kCall } kind;
  std::string text;       // text or thought; empty allowed
  std::string signature;  // may be empty
  std::string name, id, args;  // kCall (id: Gemini's own, or empty)
};

struct Answer {
  std::vector<Part> parts;
  std::string finish_reason;
  int64_t prompt, candidates, thoughts, cached;
};

Answer RandomAnswer(std::mt19937& rng) {
  Answer a;
  const int n = rng() % 6;
  for (int i = 0; i < n; ++i) {
    Part p;
    p.kind = static_cast<Part::Kind>(rng() % 3);
    if (p.kind == Part::kCall) {
      p.name = absl::StrCat("tool", rng() % 3);
      if (rng() % 4 == 0) p.id = absl::StrCat("fc-", i);
      p.args = rng() % 5 ? RandomObject(rng) : "";
    } else {
      p.text = rng() % 6 ? RandomText(rng, 30) : "";
    }
    if (rng() % 3 == 0) p.signature = absl::StrCat("sig", rng() % 1000, "+/==");
    a.parts.push_back(std::move(p));
  }
  static const char* const kReasons[] = {"STOP", "MAX_TOKENS", "SAFETY", "RECITATION",
                                         "MALFORMED_FUNCTION_CALL", "OTHER"};
  a.finish_reason = kReasons[rng() % 6];
  a.prompt = rng() % 5000;
  a.candidates = rng() % 5000;
  a.thoughts = rng() % 3 ? 0 : rng() % 1000;
  a.cached = rng() % 3 ? 0 : rng() % 100;
  return a;
}

std::string PartJson(const Part& p, absl::string_view text) {
  std::string s = "{";
  if (p.kind == Part::kCall) {
    absl::StrAppend(&s, R"("functionCall":{"name":)", Quote(p.name));
    if (!p.id.empty()) absl::StrAppend(&s, R"(,"id":)", Quote(p.id));
    if (!p.args.empty()) absl::StrAppend(&s, R"(,"args":)", p.args);
    s += "}";
  } else {
    absl::StrAppend(&s, R"("text":)", Quote(text));
    if (p.kind == Part::kThought) s += R"(,"thought":true)";
  }
  return s + "}";
}

std::string Usage(const Answer& a) {
  return absl::StrCat(R"("usageMetadata":{"promptTokenCount":)", a.prompt,
                      R"(,"candidatesTokenCount":)", a.candidates, R"(,"thoughtsTokenCount":)",
                      a.thoughts, R"(,"cachedContentTokenCount":)", a.cached,
                      R"(,"totalTokenCount":)", a.prompt + a.candidates + a.thoughts, "}");
}

std::string Response(const std::vector<std::string>& parts, absl::string_view finish,
                     absl::string_view usage) {
  std::string s = R"({"candidates":[{"content":{"parts":[)";
  for (size_t i = 0; i < parts.size(); ++i) absl::StrAppend(&s, i ? "," : "", parts[i]);
  s += R"(],"role":"model"})";
  if (!finish.empty()) absl::StrAppend(&s, R"(,"finishReason":")", finish, R"(")");
  s += R"(,"index":0}])";
  if (!usage.empty()) absl::StrAppend(&s, ",", usage);
  return s + R"(,"modelVersion":"gemini-x","responseId":"resp"})";
}

std::string WithSignature(std::string part_json, const std::string& signature) {
  if (signature.empty()) return part_json;
  part_json.pop_back();
  return absl::StrCat(part_json, R"(,"thoughtSignature":)", Quote(signature), "}");
}

std::string Body(const Answer& a) {
  std::vector<std::string> parts;
  for (const Part& p : a.parts) parts.push_back(WithSignature(PartJson(p, p.text), p.signature));
  return Response(parts, a.finish_reason, Usage(a));
}

// Each part in chunks of its own (a text in 1-4 pieces, the signature on
// the first), so no chunk has two signatures; the last chunk carries the
// finishReason and the usage, with or without the last piece.
std::vector<std::string> Stream(const Answer& a, std::mt19937& rng) {
  std::vector<std::string> pieces;
  for (const Part& p : a.parts) {
    const std::vector<std::string> texts =
        p.kind == Part::kCall ? std::vector<std::string>{""} : Split(p.text, rng);
    for (size_t k = 0; k < texts.size(); ++k) {
      pieces.push_back(WithSignature(PartJson(p, texts[k]), k == 0 ? p.signature : ""));
    }
  }
  std::vector<std::string> chunks;
  const bool last_alone = pieces.empty() || rng() % 2;
  for (size_t k = 0; k < pieces.size(); ++k) {
    const bool last = k + 1 == pieces.size() && !last_alone;
    // An early, smaller usage now and then: the last one counts.
    const std::string usage =
        last ? Usage(a) : (rng() % 4 == 0 ? R"("usageMetadata":{"promptTokenCount":1})" : "");
    chunks.push_back(Response({pieces[k]}, last ? a.finish_reason : "", usage));
  }
  if (last_alone) chunks.push_back(Response({}, a.finish_reason, Usage(a)));
  return chunks;
}

// What the caller rebuilds from either form.
struct Assembled {
  std::string text;
  std::string reasoning;
  std::string signatures;
  std::vector<v1::ToolCall> calls;
};

TEST(GenerateContentStreamPropertyTest, StreamAddsUpToTheBody) {
  std::mt19937 rng(20251001);
  for (int round = 0; round < 3000; ++round) {
    const Answer answer = RandomAnswer(rng);

    v1::GenerateResponse unary;
    const std::string body = Body(answer);
    const absl::Status parsed = ParseGenerateContentResponse(body, kProvider, &unary);
    ASSERT_TRUE(parsed.ok()) << parsed << "\n" << body;
    Assembled want;
    want.text = unary.text();
    for (const v1::Part& p : unary.message().parts()) {
      if (p.has_reasoning()) {
        want.reasoning += p.reasoning().text();
        want.signatures += p.reasoning().signature();
      }
      if (p.has_tool_call()) want.calls.push_back(p.tool_call());
    }

    GenerateContentStreamDecoder d(kProvider);
    Assembled got;
    std::map<int, v1::ToolCall> calls;
    bool first = true;
    for (const std::string& chunk : Stream(answer, rng)) {
      ASSERT_FALSE(d.done());
      v1::GenerateStreamResponse delta;
      absl::StatusOr<Result> r = DecodeExact(d, "", chunk, &delta);
      ASSERT_TRUE(r.ok()) << r.status() << "\n" << chunk;
      if (*r != Result::kDelta) continue;
      if (first) {
        ASSERT_EQ(delta.id(), "resp");
        ASSERT_EQ(delta.model(), "gemini-x");
        first = false;
      } else {
        ASSERT_TRUE(delta.id().empty() && delta.provider().empty());
      }
      got.text += delta.text();
      got.reasoning += delta.reasoning().text();
      got.signatures += delta.reasoning().signature();
      for (const v1::ToolCallDelta& c : delta.tool_calls()) {
        ASSERT_EQ(calls.count(c.index()), 0u) << "a call comes whole, once";
        ASSERT_EQ(c.index(), static_cast<int>(calls.size())) << "ordinals count up from 0";
        v1::ToolCall& call = calls[c.index()];
        call.set_id(c.id());
        call.set_name(c.name());
        call.set_arguments(c.arguments());
      }
    }
    ASSERT_TRUE(d.done()) << body;
    for (auto& [index, call] : calls) got.calls.push_back(call);

    ASSERT_EQ(got.text, want.text) << body;
    ASSERT_EQ(got.reasoning, want.reasoning) << body;
    ASSERT_EQ(got.signatures, want.signatures) << body;
    ASSERT_EQ(got.calls.size(), want.calls.size()) << body;
    for (size_t k = 0; k < got.calls.size(); ++k) {
      ASSERT_EQ(got.calls[k].SerializeAsString(), want.calls[k].SerializeAsString())
          << got.calls[k].DebugString() << want.calls[k].DebugString();
    }
    v1::GenerateStreamResponse last;
    d.Finish(&last);
    ASSERT_EQ(last.finish_reason(), unary.finish_reason()) << body;
    ASSERT_EQ(last.usage().SerializeAsString(), unary.usage().SerializeAsString());
    ASSERT_EQ(last.id(), unary.id());
    ASSERT_EQ(last.model(), unary.model());
  }
}

}  // namespace
}  // namespace llmgateway::gemini
