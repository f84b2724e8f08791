// Tests the shared On-Demand readers: null tolerance, type errors, the
// walks and their error paths, the root walk's trailing-content rule and
// early stop, and the tolerant walk used for error bodies.
#include "server/providers/json/json_read.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace llmgateway::json {
namespace {

// Walks the root object of `json` with a parser of its own.
template <typename OnField>
absl::Status Walk(const std::string& json, OnField&& on_field,
                  const bool* stop = nullptr) {
  od::parser parser;
  const simdjson::padded_string padded(json);
  return ForEachRootField(parser, padded, on_field, stop);
}

// A document and its parser, alive as long as the views read from them.
class Document {
 public:
  explicit Document(const std::string& json) : padded_(json) {}

  template <typename OnField>
  absl::Status Walk(OnField&& on_field) {
    return ForEachRootField(parser_, padded_, on_field);
  }

 private:
  od::parser parser_;
  const simdjson::padded_string padded_;
};

TEST(JsonReadTest, ErrorNamesAndMessages) {
  EXPECT_STREQ(ErrorName(simdjson::INCORRECT_TYPE), "INCORRECT_TYPE");
  EXPECT_STREQ(ErrorName(simdjson::TRAILING_CONTENT), "TRAILING_CONTENT");
  EXPECT_STREQ(ErrorName(simdjson::NUM_ERROR_CODES), "UNKNOWN_ERROR");
  const absl::Status m = Malformed("usage", simdjson::NUMBER_ERROR);
  EXPECT_EQ(m.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(m.message(), "usage (simdjson: NUMBER_ERROR)");
  EXPECT_EQ(
      FieldError("choices[0]", std::string_view("id"), simdjson::INCORRECT_TYPE)
          .message(),
      "choices[0].id (simdjson: INCORRECT_TYPE)");
}

TEST(JsonReadTest, AbslViewKeepsTheBytes) {
  const std::string_view s("a\0b", 3);
  EXPECT_EQ(AbslView(s), absl::string_view("a\0b", 3));
}

TEST(JsonReadTest, NullLeavesEveryOutputAlone) {
  std::string str = "kept";
  std::string_view view = "kept";
  int64_t n = 7;
  std::optional<od::object> obj;
  std::optional<od::array> arr;
  std::string_view raw = "kept";
  Document doc(R"({"s":null,"v":null,"n":null,"o":null,"a":null,"r":null})");
  ASSERT_TRUE(doc.Walk([&](std::string_view key, od::value v) -> absl::Status {
                   error_code e = simdjson::SUCCESS;
                   if (key == "s") e = ReadString(v, &str);
                   if (key == "v") e = ReadString(v, &view);
                   if (key == "n") e = ReadInt(v, &n);
                   if (key == "o") e = ReadObject(v, &obj);
                   if (key == "a") e = ReadArray(v, &arr);
                   if (key == "r") e = ReadRawObject(v, &raw);
                   return e ? FieldError("", key, e) : absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(str, "kept");
  EXPECT_EQ(view, "kept");
  EXPECT_EQ(n, 7);
  EXPECT_FALSE(obj.has_value());
  EXPECT_FALSE(arr.has_value());
  EXPECT_EQ(raw, "kept");
}

TEST(JsonReadTest, ReadsValuesAndRefusesOtherTypes) {
  std::string str;
  std::string_view view;
  int64_t n = 0;
  std::string_view raw;
  Document doc(R"({"s":"a\"b","v":"\u00e9","n":-42,"r":{"a": [1, 2]}   })");
  ASSERT_TRUE(doc.Walk([&](std::string_view key, od::value v) -> absl::Status {
                   error_code e = simdjson::SUCCESS;
                   if (key == "s") e = ReadString(v, &str);
                   if (key == "v") e = ReadString(v, &view);
                   if (key == "n") e = ReadInt(v, &n);
                   if (key == "r") e = ReadRawObject(v, &raw);
                   return e ? FieldError("", key, e) : absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(str, "a\"b");
  EXPECT_EQ(std::string(view), "\xc3\xa9");
  EXPECT_EQ(n, -42);
  // Verbatim, without the whitespace after it.
  EXPECT_EQ(std::string(raw), R"({"a": [1, 2]})");

  for (const char* json : {R"({"x":1})", R"({"x":[]})", R"({"x":nul})"}) {
    const absl::Status s =
        Walk(json, [&](std::string_view key, od::value v) -> absl::Status {
          error_code e = ReadString(v, &str);
          return e ? FieldError("p", key, e) : absl::OkStatus();
        });
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << json;
    EXPECT_TRUE(absl::StartsWith(s.message(), "p.x (simdjson: ")) << s;
  }
  const absl::Status s =
      Walk(R"({"x":"1"})", [&](std::string_view key, od::value v) {
        error_code e = ReadInt(v, &n);
        return e ? FieldError("p", key, e) : absl::OkStatus();
      });
  EXPECT_EQ(s.message(), "p.x (simdjson: INCORRECT_TYPE)");
}

TEST(JsonReadTest, ForEachFieldAndElement) {
  std::vector<std::string> seen;
  ASSERT_TRUE(
      Walk(R"({"o":{"a":1,"b":[true,null]},"n":null,"e":[]})",
           [&](std::string_view key, od::value v) -> absl::Status {
             if (key == "o") {
               return ForEachField(
                   v, "o",
                   [&](std::string_view k, od::value fv) -> absl::Status {
                     seen.push_back(std::string(k));
                     if (k != "b") return absl::OkStatus();
                     return ForEachElement(fv, "o.b", [&](size_t i, od::value) {
                       seen.push_back(absl::StrCat("b", i));
                       return absl::OkStatus();
                     });
                   });
             }
             // Null is an empty object or array.
             if (key == "n") {
               return ForEachField(v, "n", [&](std::string_view, od::value) {
                 seen.push_back("never");
                 return absl::OkStatus();
               });
             }
             return ForEachElement(v, "e", [&](size_t, od::value) {
               seen.push_back("never");
               return absl::OkStatus();
             });
           })
          .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "b0", "b1"}));

  const absl::Status not_object =
      Walk(R"({"o":[1]})", [&](std::string_view, od::value v) {
        return ForEachField(v, "o", [](std::string_view, od::value) {
          return absl::OkStatus();
        });
      });
  EXPECT_EQ(not_object.message(),
            "o: expected an object (simdjson: INCORRECT_TYPE)");
  const absl::Status not_array =
      Walk(R"({"a":{}})", [&](std::string_view, od::value v) {
        return ForEachElement(
            v, "a", [](size_t, od::value) { return absl::OkStatus(); });
      });
  EXPECT_EQ(not_array.message(),
            "a: expected an array (simdjson: INCORRECT_TYPE)");
  // on_field's own error ends the walk.
  int calls = 0;
  const absl::Status own =
      Walk(R"({"a":1,"b":2})", [&](std::string_view, od::value) {
        ++calls;
        return absl::InvalidArgumentError("mine");
      });
  EXPECT_EQ(own.message(), "mine");
  EXPECT_EQ(calls, 1);
}

TEST(JsonReadTest, RootWalkErrors) {
  auto any = [](std::string_view, od::value) { return absl::OkStatus(); };
  EXPECT_TRUE(Walk(R"({"a":[1,{"b":2}]} )", any).ok());
  EXPECT_TRUE(Walk("{}", any).ok());
  EXPECT_TRUE(absl::StartsWith(Walk("", any).message(), "not JSON (simdjson: "))
      << Walk("", any);
  EXPECT_EQ(Walk("[1]", any).message(),
            "expected a JSON object (simdjson: INCORRECT_TYPE)");
  EXPECT_TRUE(absl::StartsWith(Walk(R"({"a" 1})", any).message(),
                               "top-level object (simdjson: "));
  // Two documents run together are not one.
  EXPECT_EQ(Walk(R"({"a":1} {"b":2})", any).message(),
            "trailing content after the JSON object "
            "(simdjson: TRAILING_CONTENT)");
}

TEST(JsonReadTest, RootWalkStopsWhenTold) {
  bool stop = false;
  std::vector<std::string> keys;
  auto on_field = [&](std::string_view key, od::value) {
    keys.push_back(std::string(key));
    if (key == "error") stop = true;
    return absl::OkStatus();
  };
  // Neither the broken rest nor the trailing content matter once stopped.
  EXPECT_TRUE(Walk(R"({"a":1,"error":{},"b" 2})", on_field, &stop).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "error"}));
  stop = false;
  keys.clear();
  EXPECT_TRUE(Walk(R"({"error":{}} {"b":2})", on_field, &stop).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"error"}));
  stop = false;
  keys.clear();
  EXPECT_FALSE(Walk(R"({"a":1,"b" 2})", on_field, &stop).ok());
}

TEST(JsonReadTest, TolerantWalkKeepsWhatCameBeforeABreak) {
  for (const auto& [json, want_intact, want_keys] :
       std::vector<std::tuple<std::string, bool, std::string>>{
           {R"({"a":1,"b":2})", true, "ab"},
           {R"({"a":1,"b" 2})", false, "a"},
           {R"({"a":1,"stop":2,"c":3})", false, "as"},
       }) {
    od::parser parser;
    const simdjson::padded_string padded(json);
    od::document doc;
    ASSERT_FALSE(parser.iterate(padded).get(doc));
    od::object root;
    ASSERT_FALSE(doc.get_object().get(root));
    std::string keys;
    const bool intact =
        ForEachMemberWhileIntact(root, [&](std::string_view key, od::value) {
          keys += key.substr(0, 1);
          return key != "stop";
        });
    EXPECT_EQ(intact, want_intact) << json;
    EXPECT_EQ(keys, want_keys) << json;
  }
}

}  // namespace
}  // namespace llmgateway::json
