// Tests the shared test support itself: a helper that passed broken input
// would let every adapter test built on it pass too.
#include "server/providers/common/adapter_test_util.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/adapter.h"

namespace llmgateway::providers::test_util {
namespace {

// Records what it was fed; finishes as a well-behaved decoder would.
class RecordingDecoder final : public StreamDecoder {
 public:
  absl::StatusOr<Result> Decode(absl::string_view event_type,
                                absl::string_view data,
                                v1::GenerateStreamResponse* delta) override {
    type = std::string(event_type);
    got = std::string(data);
    delta->set_text("x");
    return Result::kDelta;
  }
  void Finish(v1::GenerateStreamResponse* last) override {
    last->set_provider(provider);
    last->mutable_usage();
    if (leak_text) last->set_text("late");
  }
  bool done() const override { return false; }

  std::string type, got, provider = "p";
  bool leak_text = false;
};

TEST(AdapterTestUtilTest, ParseTextProto) {
  const v1::GenerateRequest r = ParseRequest(R"pb(model: "m" prompt: "p")pb");
  EXPECT_EQ(r.model(), "m");
  EXPECT_EQ(r.prompt(), "p");
  EXPECT_NONFATAL_FAILURE(ParseRequest("nonsense {"), "nonsense");
}

TEST(AdapterTestUtilTest, ExpectProto) {
  v1::GenerateResponse r;
  r.set_id("a");
  ExpectProto(r, R"pb(id: "a")pb");
  EXPECT_NONFATAL_FAILURE(ExpectProto(r, R"pb(id: "b")pb"), "want:");
  EXPECT_FATAL_FAILURE(
      {
        v1::GenerateResponse m;
        ExpectProto(m, "bogus: 1");
      },
      "bogus");
}

TEST(AdapterTestUtilTest, ExpectValidJson) {
  ExpectValidJson(R"({"a":[1,true,null]})");
  EXPECT_NONFATAL_FAILURE(ExpectValidJson(R"({"a":})"), "a");
}

TEST(AdapterTestUtilTest, PaddedHasSpareCapacity) {
  const std::string s = Padded("{}");
  EXPECT_EQ(s, "{}");
  EXPECT_GE(s.capacity() - s.size(), 64u);
}

// Accepts {"id": ...} bodies, answering with "<id>" as text; refuses the
// rest, echoing nothing.
absl::Status ParseIdBody(const std::string& body, v1::GenerateResponse* out) {
  if (body.rfind("{\"id\":", 0) != 0) {
    return absl::UnavailableError("malformed test body: no id");
  }
  out->mutable_message()->set_role(v1::ROLE_ASSISTANT);
  out->mutable_message()->add_parts()->set_text("t");
  out->set_text("t");
  return absl::OkStatus();
}

// Refuses everything, echoing the body.
absl::Status EchoingParser(const std::string& body, v1::GenerateResponse*) {
  return absl::UnavailableError("malformed test body: " + body);
}

TEST(AdapterTestUtilTest, CheckBodyParse) {
  v1::GenerateResponse out;
  bool accepted = false;
  CheckBodyParse(ParseIdBody, "malformed test body: ", "{\"id\":1}", &out,
                 &accepted);
  EXPECT_TRUE(accepted);
  EXPECT_EQ(out.text(), "t");
  v1::GenerateResponse refused;
  CheckBodyParse(ParseIdBody, "malformed test body: ", "[]", &refused,
                 &accepted);
  EXPECT_FALSE(accepted);
  EXPECT_FATAL_FAILURE(
      {
        v1::GenerateResponse r;
        bool a;
        CheckBodyParse(EchoingParser,
                       "malformed test body: ", std::string(200, 'x'), &r, &a);
      },
      "malformed test body");
}

TEST(AdapterTestUtilTest, CheckRandomInputs) {
  int calls = 0;
  size_t longest = 0;
  CheckRandomInputs([&](const std::string& s) {
    ++calls;
    longest = std::max(longest, s.size());
  });
  EXPECT_EQ(calls, 10000);
  EXPECT_LT(longest, 200u);
  int before_failure = 0;
  testing::TestPartResultArray failures;
  {
    testing::ScopedFakeTestPartResultReporter reporter(
        testing::ScopedFakeTestPartResultReporter::
            INTERCEPT_ONLY_CURRENT_THREAD,
        &failures);
    CheckRandomInputs([&](const std::string&) {
      if (++before_failure == 3) FAIL() << "third";
    });
  }
  // The check's failure, and CheckRandomInputs stopping on it.
  ASSERT_EQ(failures.size(), 2);
  EXPECT_EQ(failures.GetTestPartResult(0).message(),
            std::string("Failed\nthird"));
  EXPECT_TRUE(failures.GetTestPartResult(1).fatally_failed());
  EXPECT_EQ(before_failure, 3);
}

TEST(AdapterTestUtilTest, CheckEveryTruncation) {
  std::vector<std::string> seen;
  CheckEveryTruncation({"ab", ""},
                       [&](const std::string& s) { seen.push_back(s); });
  EXPECT_EQ(seen,
            (std::vector<std::string>{"", "ab", "a", "b", "ab", "", "", ""}));
}

TEST(AdapterTestUtilTest, CheckMutationsIsSeeded) {
  const std::vector<std::string> samples = {R"({"a":1})", R"([true])"};
  std::vector<std::string> first, second;
  CheckMutations(samples, 42, 50,
                 [&](const std::string& s) { first.push_back(s); });
  CheckMutations(samples, 42, 50,
                 [&](const std::string& s) { second.push_back(s); });
  EXPECT_EQ(first.size(), 50u);
  EXPECT_EQ(first, second);
}

TEST(AdapterTestUtilTest, DecodeExactFeedsTheEvent) {
  RecordingDecoder d;
  v1::GenerateStreamResponse delta;
  absl::StatusOr<StreamDecoder::Result> r =
      DecodeExact(d, "ping", "{\"a\":1}", &delta);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, StreamDecoder::Result::kDelta);
  EXPECT_EQ(d.type, "ping");
  EXPECT_EQ(d.got, "{\"a\":1}");
  EXPECT_EQ(delta.text(), "x");
  ASSERT_TRUE(DecodeExact(d, "", "", &delta).ok());
  EXPECT_EQ(d.got, "");
}

TEST(AdapterTestUtilTest, WithoutEnvelope) {
  v1::GenerateStreamResponse a, b;
  a.set_id("1");
  a.set_model("m");
  a.set_provider("p");
  a.set_text("t");
  b.set_text("t");
  EXPECT_EQ(WithoutEnvelope(a), WithoutEnvelope(b));
  b.set_text("u");
  EXPECT_NE(WithoutEnvelope(a), WithoutEnvelope(b));
}

TEST(AdapterTestUtilTest, CheckFinish) {
  RecordingDecoder d;
  CheckFinish(d, "p");
  EXPECT_FATAL_FAILURE(
      {
        RecordingDecoder other;
        CheckFinish(other, "q");
      },
      "q");
  EXPECT_FATAL_FAILURE(
      {
        RecordingDecoder leaky;
        leaky.leak_text = true;
        CheckFinish(leaky, "p");
      },
      "text");
}

}  // namespace
}  // namespace llmgateway::providers::test_util
