// The per-call line: text exactly as before; JSON with its field set, read
// back by a JSON parser, and caller text that cannot break or forge a line.
#include "server/common/call_log.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace llmgateway {
namespace {

const absl::Time kTime = absl::FromUnixMillis(1714564800123);  // 2024-05-01T12:00:00.123Z

CallLogRecord Retried() {
  CallLogRecord r;
  r.method = "Generate";
  r.request_id = "req-1";
  r.model = "smart";
  r.provider = "live";
  r.latency_ms = 42;
  r.has_usage = true;
  r.input_tokens = 12;
  r.output_tokens = 4;
  r.labels = {{"team", "search"}, {"tier", "gold"}};
  r.attempts = {{"dead", "gpt-4o", absl::StatusCode::kUnavailable, 503, 12},
                {"live", "gpt-4o-mini", absl::StatusCode::kOk, 200, 25}};
  return r;
}

CallLogRecord Failed() {
  CallLogRecord r;
  r.method = "GenerateStream";
  r.request_id = "req-2";
  r.model = "m";
  r.code = absl::StatusCode::kUnavailable;
  r.error = "upstream said \"no\"";
  r.latency_ms = 7;
  r.messages = 0;
  r.attempts = {{"p", "m", absl::StatusCode::kUnavailable, 0, 6}};
  return r;
}

TEST(CallLogTextTest, IsTheLineOfBefore) {
  EXPECT_EQ(FormatCallLogLine(Retried(), LogFormat::kText, kTime),
            "2024-05-01T12:00:00.123Z INFO rpc=Generate request_id=req-1 model=smart "
            "provider=live code=OK ms=42 prompt_tokens=12 completion_tokens=4 "
            "labels=team:search,tier:gold attempts=2 "
            "[dead/gpt-4o:UNAVAILABLE/503:12ms,live/gpt-4o-mini:OK/200:25ms]\n");
  EXPECT_EQ(FormatCallLogLine(Failed(), LogFormat::kText, kTime),
            "2024-05-01T12:00:00.123Z WARN rpc=GenerateStream request_id=req-2 model=m "
            "provider=- code=UNAVAILABLE ms=7 messages=0 attempts=1 "
            "[p/m:UNAVAILABLE/0:6ms] error=\"upstream said \\\"no\\\"\"\n");
}

TEST(CallLogTextTest, EscapesCallerText) {
  CallLogRecord r = Failed();
  r.model = "m\n2024-01-01T00:00:00.000Z INFO forged";
  r.error = "bad\r\nline";
  const std::string line = FormatCallLogLine(r, LogFormat::kText, kTime);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
}

// The line's members, in order, as a parser reads them.
struct Parsed {
  bool ok = false;
  std::vector<std::string> keys;
  simdjson::dom::parser parser;
  simdjson::dom::object object;
};

void Parse(const std::string& line, Parsed* parsed) {
  ASSERT_FALSE(line.empty());
  ASSERT_EQ(line.back(), '\n');
  ASSERT_EQ(line.find('\n'), line.size() - 1) << "one line: " << line;
  simdjson::dom::element root;
  ASSERT_EQ(parsed->parser.parse(line).get(root), simdjson::SUCCESS) << line;
  ASSERT_EQ(root.get_object().get(parsed->object), simdjson::SUCCESS) << line;
  for (auto field : parsed->object) parsed->keys.emplace_back(field.key);
  parsed->ok = true;
}

std::string Str(simdjson::dom::object object, const char* key) {
  std::string_view value;
  if (object[key].get_string().get(value) != simdjson::SUCCESS) return "<missing>";
  return std::string(value);
}

int64_t Int(simdjson::dom::object object, const char* key) {
  int64_t value = -1;
  if (object[key].get_int64().get(value) != simdjson::SUCCESS) return -1;
  return value;
}

TEST(CallLogJsonTest, HasTheStableFieldSet) {
  Parsed p;
  Parse(FormatCallLogLine(Retried(), LogFormat::kJson, kTime), &p);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.keys, (std::vector<std::string>{
                        "time", "level", "request_id", "method", "model", "provider", "code",
                        "latency_ms", "attempts", "input_tokens", "output_tokens", "labels",
                        "upstream_attempts"}));
  EXPECT_EQ(Str(p.object, "time"), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(Str(p.object, "level"), "INFO");
  EXPECT_EQ(Str(p.object, "request_id"), "req-1");
  EXPECT_EQ(Str(p.object, "method"), "Generate");
  EXPECT_EQ(Str(p.object, "model"), "smart");
  EXPECT_EQ(Str(p.object, "provider"), "live");
  EXPECT_EQ(Str(p.object, "code"), "OK");
  EXPECT_EQ(Int(p.object, "latency_ms"), 42);
  EXPECT_EQ(Int(p.object, "attempts"), 2);
  EXPECT_EQ(Int(p.object, "input_tokens"), 12);
  EXPECT_EQ(Int(p.object, "output_tokens"), 4);
  simdjson::dom::object labels;
  ASSERT_EQ(p.object["labels"].get_object().get(labels), simdjson::SUCCESS);
  EXPECT_EQ(labels.size(), 2u);
  EXPECT_EQ(Str(labels, "team"), "search");
  EXPECT_EQ(Str(labels, "tier"), "gold");
  simdjson::dom::array attempts;
  ASSERT_EQ(p.object["upstream_attempts"].get_array().get(attempts), simdjson::SUCCESS);
  ASSERT_EQ(attempts.size(), 2u);
  simdjson::dom::object first;
  ASSERT_EQ(attempts.at(0).get_object().get(first), simdjson::SUCCESS);
  EXPECT_EQ(Str(first, "provider"), "dead");
  EXPECT_EQ(Str(first, "model"), "gpt-4o");
  EXPECT_EQ(Str(first, "code"), "UNAVAILABLE");
  EXPECT_EQ(Int(first, "http_status"), 503);
  EXPECT_EQ(Int(first, "latency_ms"), 12);
}

TEST(CallLogJsonTest, AFailedCallAddsItsErrorAndAStreamItsMessages) {
  Parsed p;
  Parse(FormatCallLogLine(Failed(), LogFormat::kJson, kTime), &p);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.keys, (std::vector<std::string>{
                        "time", "level", "request_id", "method", "model", "provider", "code",
                        "latency_ms", "attempts", "input_tokens", "output_tokens", "messages",
                        "labels", "upstream_attempts", "error"}));
  EXPECT_EQ(Str(p.object, "level"), "WARN");
  EXPECT_EQ(Str(p.object, "code"), "UNAVAILABLE");
  EXPECT_EQ(Str(p.object, "provider"), "");
  EXPECT_EQ(Int(p.object, "input_tokens"), 0);
  EXPECT_EQ(Int(p.object, "messages"), 0);
  EXPECT_EQ(Str(p.object, "error"), "upstream said \"no\"");
}

TEST(CallLogJsonTest, HostileTextCannotBreakOrForgeTheLine) {
  CallLogRecord r = Failed();
  const std::string forged = "x\",\"level\":\"ERROR\"}\n{\"time\":\"forged";
  r.model = forged;
  r.request_id = "id\"with\\quotes";
  r.error = "ctl\x01\x1b[31m\t\xff\xc0 end\xe2\x80\xa8";
  r.labels = {{"k\"", "v\n{}"}};
  r.attempts = {{"p", forged, absl::StatusCode::kUnavailable, 0, 1}};
  const std::string line = FormatCallLogLine(r, LogFormat::kJson, kTime);
  Parsed p;
  Parse(line, &p);
  ASSERT_TRUE(p.ok);
  // The same members, each value as it was sent (invalid UTF-8 replaced).
  EXPECT_EQ(p.keys.size(), 15u);
  EXPECT_EQ(Str(p.object, "level"), "WARN");
  EXPECT_EQ(Str(p.object, "model"), forged);
  EXPECT_EQ(Str(p.object, "request_id"), "id\"with\\quotes");
  EXPECT_EQ(Str(p.object, "error"),
            "ctl\x01\x1b[31m\t\xef\xbf\xbd\xef\xbf\xbd end\xe2\x80\xa8");
  simdjson::dom::object labels;
  ASSERT_EQ(p.object["labels"].get_object().get(labels), simdjson::SUCCESS);
  EXPECT_EQ(Str(labels, "k\""), "v\n{}");
  // Nothing raw that a line-based reader or a terminal would act on.
  for (char c : line.substr(0, line.size() - 1)) {
    EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) << line;
  }
}

TEST(CallLogJsonTest, NoLabelsIsAnEmptyObject) {
  CallLogRecord r = Retried();
  r.labels.clear();
  const std::string line = FormatCallLogLine(r, LogFormat::kJson, kTime);
  EXPECT_TRUE(absl::StrContains(line, ",\"labels\":{},")) << line;
}

TEST(StatusCodeNameTest, SpellsEveryCodeAsAbslDoes) {
  for (int code = 0; code <= 16; ++code) {
    const auto status_code = static_cast<absl::StatusCode>(code);
    EXPECT_EQ(StatusCodeName(status_code), absl::StatusCodeToString(status_code)) << code;
  }
}

RpcLogRecord JobCreated() {
  RpcLogRecord r;
  r.method = "CreateBatchJob";
  r.request_id = "req-3";
  r.latency_ms = 4;
  r.fields = {{"items", "3", true}};
  r.after_fields = {{"job", "batch_1"}, {"state", "STATE_QUEUED"}};
  return r;
}

TEST(RpcLogTest, TextKeepsTheBatchLinesOfBefore) {
  EXPECT_EQ(FormatRpcLogLine(JobCreated(), LogFormat::kText, kTime),
            "2024-05-01T12:00:00.123Z INFO rpc=CreateBatchJob request_id=req-3 items=3 code=OK "
            "ms=4 job=batch_1 state=STATE_QUEUED\n");
  RpcLogRecord failed = JobCreated();
  failed.code = absl::StatusCode::kInvalidArgument;
  failed.error = "items[0].request.model: is required\n";
  failed.after_fields.clear();
  EXPECT_EQ(FormatRpcLogLine(failed, LogFormat::kText, kTime),
            "2024-05-01T12:00:00.123Z WARN rpc=CreateBatchJob request_id=req-3 items=3 "
            "code=INVALID_ARGUMENT ms=4 error=\"items[0].request.model: is required\\n\"\n");
}

TEST(RpcLogTest, JsonHasNumbersAsNumbersAndTheError) {
  RpcLogRecord failed = JobCreated();
  failed.code = absl::StatusCode::kNotFound;
  failed.error = "job \"x\" not found";
  Parsed p;
  Parse(FormatRpcLogLine(failed, LogFormat::kJson, kTime), &p);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.keys, (std::vector<std::string>{"time", "level", "request_id", "method", "code",
                                              "latency_ms", "items", "job", "state", "error"}));
  EXPECT_EQ(Str(p.object, "level"), "WARN");
  EXPECT_EQ(Str(p.object, "method"), "CreateBatchJob");
  EXPECT_EQ(Int(p.object, "items"), 3);
  EXPECT_EQ(Str(p.object, "job"), "batch_1");
  EXPECT_EQ(Str(p.object, "error"), "job \"x\" not found");
}

TEST(CallLogKeyTest, TheCallersKeyIdFollowsTheRequestIdWhenAuthIsOn) {
  CallLogRecord call = Retried();
  call.key_id = "team-a";
  EXPECT_EQ(FormatCallLogLine(call, LogFormat::kText, kTime).substr(0, 85),
            "2024-05-01T12:00:00.123Z INFO rpc=Generate request_id=req-1 key=team-a model=smart "
            "pr");
  Parsed p;
  Parse(FormatCallLogLine(call, LogFormat::kJson, kTime), &p);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.keys[3], "key");
  EXPECT_EQ(Str(p.object, "key"), "team-a");

  RpcLogRecord job = JobCreated();
  job.key_id = "team-b";
  EXPECT_EQ(FormatRpcLogLine(job, LogFormat::kText, kTime),
            "2024-05-01T12:00:00.123Z INFO rpc=CreateBatchJob request_id=req-3 key=team-b items=3 "
            "code=OK ms=4 job=batch_1 state=STATE_QUEUED\n");
  Parse(FormatRpcLogLine(job, LogFormat::kJson, kTime), &p);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(Str(p.object, "key"), "team-b");
}

// curl's words (which name the address) are for operators: the log has
// them after the attempt; the caller's error does not.
TEST(CallLogTest, ANetworkFailureNamesItsAddressInTheAttempt) {
  CallLogRecord r = Failed();
  r.error = "provider \"p\" is unreachable: Couldn't connect to server";
  r.attempts[0].network_error = "Failed to connect to 10.0.0.7 port 443 after 2 ms: "
                                "Couldn't connect to server";
  EXPECT_EQ(FormatCallLogLine(r, LogFormat::kText, kTime),
            "2024-05-01T12:00:00.123Z WARN rpc=GenerateStream request_id=req-2 model=m "
            "provider=- code=UNAVAILABLE ms=7 messages=0 attempts=1 "
            "[p/m:UNAVAILABLE/0:6ms:\"Failed to connect to 10.0.0.7 port 443 after 2 ms: "
            "Couldn\\'t connect to server\"] error=\"provider \\\"p\\\" is unreachable: "
            "Couldn\\'t connect to server\"\n");
  Parsed p;
  Parse(FormatCallLogLine(r, LogFormat::kJson, kTime), &p);
  ASSERT_TRUE(p.ok);
  simdjson::dom::array attempts;
  ASSERT_EQ(p.object["upstream_attempts"].get_array().get(attempts), simdjson::SUCCESS);
  simdjson::dom::object first;
  ASSERT_EQ(attempts.at(0).get_object().get(first), simdjson::SUCCESS);
  EXPECT_EQ(Str(first, "network_error"),
            "Failed to connect to 10.0.0.7 port 443 after 2 ms: Couldn't connect to server");
}

}  // namespace
}  // namespace llmgateway
