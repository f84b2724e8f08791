// Tests JsonWriter: separators, RFC 8259 string escaping, shortest
// round-trip doubles, and google.protobuf.Value/Struct output.
#include "server/providers/json/json_writer.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "simdjson.h"

namespace llmgateway::json {
namespace {

std::string Quote(absl::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

std::string Dbl(double d) {
  std::string out;
  JsonWriter(&out).Double(d);
  return out;
}

// What a real JSON parser reads back from `json` as a string.
std::string ParseString(const std::string& json) {
  simdjson::dom::parser parser;
  std::string_view v;
  auto err = parser.parse(json).get(v);
  EXPECT_EQ(err, simdjson::SUCCESS) << json;
  return std::string(v);
}

TEST(AppendJsonStringTest, PlainTextIsQuotedOnly) {
  EXPECT_EQ(Quote(""), "\"\"");
  EXPECT_EQ(Quote("hello world"), "\"hello world\"");
}

TEST(AppendJsonStringTest, EscapesQuoteBackslashAndShortForms) {
  EXPECT_EQ(Quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quote("\b\f\n\r\t"), R"("\b\f\n\r\t")");
}

TEST(AppendJsonStringTest, OtherControlCharactersUseUnicodeEscapes) {
  EXPECT_EQ(Quote(std::string("\0", 1)), R"("\u0000")");
  EXPECT_EQ(Quote("\x01\x1f"), R"("\u0001\u001f")");
  EXPECT_EQ(Quote("\x0b"), R"("\u000b")");
}

TEST(AppendJsonStringTest, LeavesSlashDelAndUtf8Alone) {
  EXPECT_EQ(Quote("a/b\x7f"), "\"a/b\x7f\"");
  // é, 😀, U+2028 LINE SEPARATOR: valid in JSON strings as they are.
  EXPECT_EQ(Quote("\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\xa8"),
            "\"\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\xa8\"");
}

TEST(AppendJsonStringTest, AppendsToExistingText) {
  std::string out = "x=";
  AppendJsonString("\n", &out);
  EXPECT_EQ(out, "x=\"\\n\"");
}

TEST(AppendJsonStringTest, EveryAsciiByteRoundTrips) {
  std::string all;
  for (int c = 0; c < 128; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(ParseString(Quote(all)), all);
}

TEST(AppendJsonStringTest, RandomAsciiRoundTrips) {
  std::mt19937 rng(20240601);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 128);
    ASSERT_EQ(ParseString(Quote(s)), s);
  }
}

TEST(JsonWriterTest, PlacesCommasAndColons) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject()
      .Key("a")
      .Int(1)
      .Key("b")
      .BeginArray()
      .Int(1)
      .String("x")
      .BeginObject()
      .EndObject()
      .BeginArray()
      .EndArray()
      .Null()
      .EndArray()
      .Key("c")
      .BeginObject()
      .Key("d")
      .Bool(true)
      .Key("e")
      .Bool(false)
      .EndObject()
      .EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":[1,"x",{},[],null],"c":{"d":true,"e":false}})");
}

TEST(JsonWriterTest, KeysAreEscaped) {
  std::string out;
  JsonWriter(&out).BeginObject().Key("a\"b").Int(0).EndObject();
  EXPECT_EQ(out, R"({"a\"b":0})");
}

TEST(JsonWriterTest, TopLevelScalarAndAppend) {
  std::string out = "prefix ";
  JsonWriter(&out).String("v");
  EXPECT_EQ(out, "prefix \"v\"");
}

TEST(JsonWriterTest, IntExtremes) {
  std::string out;
  JsonWriter(&out)
      .BeginArray()
      .Int(0)
      .Int(-1)
      .Int(std::numeric_limits<int64_t>::max())
      .Int(std::numeric_limits<int64_t>::min())
      .EndArray();
  EXPECT_EQ(out, "[0,-1,9223372036854775807,-9223372036854775808]");
}

TEST(JsonWriterTest, RawJsonIsOneValue) {
  std::string out;
  JsonWriter(&out)
      .BeginObject()
      .Key("s")
      .RawJson(R"({"type":"object"})")
      .Key("n")
      .Int(2)
      .EndObject();
  EXPECT_EQ(out, R"({"s":{"type":"object"},"n":2})");
  out.clear();
  JsonWriter(&out).BeginArray().RawJson("1").RawJson("[2]").EndArray();
  EXPECT_EQ(out, "[1,[2]]");
}

TEST(JsonWriterTest, DoublesAreShortest) {
  EXPECT_EQ(Dbl(1.0), "1");
  EXPECT_EQ(Dbl(0.0), "0");
  EXPECT_EQ(Dbl(-0.0), "-0");
  EXPECT_EQ(Dbl(0.1), "0.1");
  EXPECT_EQ(Dbl(0.7), "0.7");
  EXPECT_EQ(Dbl(-2.5), "-2.5");
  EXPECT_EQ(Dbl(1e300), "1e+300");
  EXPECT_EQ(Dbl(1e-7), "1e-07");
  EXPECT_EQ(Dbl(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(Dbl(1e15), "1e+15");  // shorter than its 16 digits
  EXPECT_EQ(Dbl(123456789012345.0), "123456789012345");
  EXPECT_EQ(Dbl(1e16), "1e+16");
  EXPECT_EQ(Dbl(18446744073709551616.0), "1.8446744073709552e+19");
  EXPECT_EQ(Dbl(-1.5e20), "-1.5e+20");
  EXPECT_EQ(Dbl(5e-324), "5e-324");
  EXPECT_EQ(Dbl(0.1 + 0.2), "0.30000000000000004");
}

TEST(JsonWriterTest, NonFiniteDoublesAreNull) {
  EXPECT_EQ(Dbl(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(Dbl(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(Dbl(-std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonWriterTest, RandomDoublesRoundTripThroughAJsonParser) {
  std::mt19937_64 rng(7);
  simdjson::dom::parser parser;
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) continue;
    const std::string text = Dbl(d);
    double back = 0;
    ASSERT_EQ(parser.parse(text).get(back), simdjson::SUCCESS) << text;
    ASSERT_EQ(std::memcmp(&back, &d, sizeof d), 0) << text;
    ++checked;
  }
  EXPECT_GT(checked, 19000);
}

TEST(JsonWriterTest, ProtoValueKinds) {
  google::protobuf::Value v;
  std::string out;
  v.set_number_value(3);
  JsonWriter(&out).ProtoValue(v);
  EXPECT_EQ(out, "3");

  out.clear();
  v.set_string_value("a\nb");
  JsonWriter(&out).ProtoValue(v);
  EXPECT_EQ(out, R"("a\nb")");

  out.clear();
  v.set_bool_value(false);
  JsonWriter(&out).ProtoValue(v);
  EXPECT_EQ(out, "false");

  out.clear();
  v.set_null_value(google::protobuf::NULL_VALUE);
  JsonWriter(&out).ProtoValue(v);
  EXPECT_EQ(out, "null");

  out.clear();
  JsonWriter(&out).ProtoValue(google::protobuf::Value());
  EXPECT_EQ(out, "null");

  out.clear();
  v.mutable_list_value()->add_values()->set_number_value(1.5);
  v.mutable_list_value()->add_values()->set_string_value("x");
  v.mutable_list_value()->add_values()->mutable_list_value();
  JsonWriter(&out).ProtoValue(v);
  EXPECT_EQ(out, R"([1.5,"x",[]])");
}

TEST(JsonWriterTest, ProtoStructIsRecursiveWithSortedKeys) {
  google::protobuf::Struct schema;
  auto& f = *schema.mutable_fields();
  f["type"].set_string_value("object");
  auto& props = *f["properties"].mutable_struct_value()->mutable_fields();
  props["city"]
      .mutable_struct_value()
      ->mutable_fields()
      ->
      operator[]("type")
      .set_string_value("string");
  props["days"]
      .mutable_struct_value()
      ->mutable_fields()
      ->
      operator[]("maximum")
      .set_number_value(14);
  auto* req = f["required"].mutable_list_value();
  req->add_values()->set_string_value("city");
  f["additionalProperties"].set_bool_value(false);
  f["empty"].mutable_struct_value();

  std::string out;
  JsonWriter(&out).ProtoStruct(schema);
  EXPECT_EQ(out,
            R"({"additionalProperties":false,"empty":{},)"
            R"("properties":{"city":{"type":"string"},"days":{"maximum":14}},)"
            R"("required":["city"],"type":"object"})");
}

TEST(JsonWriterTest, ProtoStructInsideObjectAndArray) {
  google::protobuf::Struct s;
  (*s.mutable_fields())["k"].set_number_value(0.25);
  std::string out;
  JsonWriter(&out)
      .BeginObject()
      .Key("a")
      .ProtoStruct(s)
      .Key("b")
      .BeginArray()
      .ProtoStruct(s)
      .ProtoStruct(s)
      .EndArray()
      .EndObject();
  EXPECT_EQ(out, R"({"a":{"k":0.25},"b":[{"k":0.25},{"k":0.25}]})");
}

}  // namespace
}  // namespace llmgateway::json
