// Tests the property tests' input makers: deterministic for a seed, bounded,
// and InsertJsonWhitespace leaving strings and the document alone.
#include "server/providers/json/json_mutator.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "simdjson.h"

namespace llmgateway::json {
namespace {

const std::vector<std::string> kSamples = {R"({"a":[1,"x"]})",
                                           R"({"b":{"c":null}})"};

TEST(JsonMutatorTest, MutateJsonIsDeterministicAndEdits) {
  std::mt19937 a(7), b(7);
  int changed = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string x = MutateJson(kSamples[0], a, kSamples);
    EXPECT_EQ(x, MutateJson(kSamples[0], b, kSamples));
    if (x != kSamples[0]) ++changed;
  }
  EXPECT_GT(changed, 150);
  std::mt19937 rng(1);
  EXPECT_EQ(MutateJson("", rng, kSamples), "");
}

TEST(JsonMutatorTest, RandomInputsAreBounded) {
  std::mt19937 rng(3);
  for (int i = 0; i < 100; ++i) {
    EXPECT_LT(RandomBytes(rng, 20).size(), 20u);
    const std::string s = RandomJsonAlphabet(rng, 20);
    EXPECT_LT(s.size(), 20u);
    EXPECT_EQ(s.find_first_not_of("{}[]\":,nulltruefalse0123456789 "),
              std::string::npos);
  }
}

TEST(JsonMutatorTest, Repeat) {
  EXPECT_EQ(Repeat("[", 3), "[[[");
  EXPECT_EQ(Repeat("ab", 2), "abab");
  EXPECT_EQ(Repeat("x", 0), "");
}

// `json` as simdjson minifies it: without whitespace outside strings.
std::string Minified(const std::string& json) {
  std::string out(json.size(), '\0');
  size_t length = 0;
  EXPECT_EQ(simdjson::minify(json.data(), json.size(), out.data(), length),
            simdjson::SUCCESS)
      << json;
  out.resize(length);
  return out;
}

TEST(JsonMutatorTest, InsertJsonWhitespaceOnlyOutsideStrings) {
  const std::string json = R"({"k, [x]":"v: {\"q\"}","a":[1,{"b":null}]})";
  std::mt19937 rng(5);
  int longer = 0;
  for (int i = 0; i < 50; ++i) {
    const std::string spaced = InsertJsonWhitespace(json, rng);
    EXPECT_EQ(Minified(spaced), json) << spaced;
    EXPECT_NE(spaced.find(R"("k, [x]":)"), std::string::npos) << spaced;
    if (spaced.size() > json.size()) ++longer;
  }
  EXPECT_GT(longer, 40);
}

}  // namespace
}  // namespace llmgateway::json
