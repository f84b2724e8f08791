// The Anthropic Messages provider (`kind: "anthropic"`) through the real
// llm_gateway binary against fakellm's Anthropic mode: unary and streamed
// text with usage (cache reads and writes), what goes upstream (path,
// x-api-key, anthropic-version, max_tokens, system, sampling), unsupported
// fields, broken streams, tools (single, parallel, the tool_result turn),
// thinking with its signature and redacted thinking sent back in place,
// media blocks, every upstream error status, a fallback to an OpenAI
// provider (provider_options stay with their kind) and JSON output through
// the forced tool.
//
// One fakellm (with --api_key, so x-api-key is checked) and one gateway for
// the whole binary. The gateway's config makes "claude" (kind anthropic) the
// default provider, so a model string with fakellm directives passes through
// to it unchanged; `retry { max_retries: 0 }` so failures are final at once.
// Every test tags its prompt with a marker of its own and finds what was
// sent upstream by it.
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "llmgateway/v1/generation.grpc.pb.h"
#include "tests/integration/fakellm_client.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/provider_calls.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

using ::llmgateway::testing::CallError;
using ::llmgateway::testing::Collected;
using ::llmgateway::testing::kWeatherTool;
using ::llmgateway::testing::Prompt;
using ::llmgateway::testing::Decode;
using ::llmgateway::testing::JsonAt;
using ::llmgateway::testing::RecordedRequest;
using ::llmgateway::testing::RecordedRequests;
using ::llmgateway::testing::Subprocess;
using ::llmgateway::testing::TempPath;
using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerateResponse;
using ::llmgateway::v1::GenerateStreamResponse;

constexpr const char* kApiKey = ::llmgateway::testing::kTestApiKey;
// The Anthropic provider's config name (not its kind: responses and errors
// name the provider as configured).
constexpr const char* kClaude = "claude";
constexpr int kDefaultMaxTokens = 321;

// fakellm in Anthropic mode with the x-api-key check on, and a gateway whose
// default provider is the Anthropic one.
class AnthropicServers : public ::testing::Environment {
 public:
  void SetUp() override {
    fakellm = testing::StartFakeLlm("anthropic-fakellm.log", {"--api_key", kApiKey});
    const std::string base_url = testing::FakeLlmBaseUrl(*fakellm);
    const std::string config = absl::StrCat(
        "default_provider: \"claude\"\n",
        "retry { max_retries: 0 }\n",
        // Failures never take a target out of rotation here.
        "cooldown { failures: 1000000 }\n",
        "providers { name: \"claude\" kind: \"anthropic\" base_url: \"", base_url,
        "\" api_key_env: \"OPENAI_API_KEY\" default_max_tokens: ", kDefaultMaxTokens, " }\n",
        // No api_key_env: no x-api-key header, which fakellm refuses.
        "providers { name: \"claude-nokey\" kind: \"anthropic\" base_url: \"", base_url,
        "\" }\n",
        "providers { name: \"gpt\" kind: \"openai\" base_url: \"", base_url,
        "\" api_key_env: \"OPENAI_API_KEY\" }\n",
        "models { name: \"claude-down\" provider: \"claude\" ",
        "upstream_model: \"fake-model?status=503\" fallbacks: \"gpt-up\" }\n",
        "models { name: \"gpt-up\" provider: \"gpt\" upstream_model: \"fake-model\" }\n",
        "models { name: \"claude-nokey\" provider: \"claude-nokey\" ",
        "upstream_model: \"fake-model\" }\n",
        // Retries allowed: a stream broken after its first delta must still
        // not be retried.
        "models { name: \"claude-drop-retrying\" provider: \"claude\" ",
        "upstream_model: \"fake-model?fault=drop&tokens=5\" ",
        "retry { max_retries: 2 initial_backoff { nanos: 10000000 } } }\n");
    const std::string path = TempPath("anthropic.textproto");
    {
      std::ofstream file(path);
      file << config;
    }
    gateway = testing::StartGateway(base_url, {"--config=" + path}, "anthropic-gateway.log");
    channel = testing::ChannelTo(*gateway);
  }

  void TearDown() override {
    // After every call above: the key went upstream, never into the log.
    EXPECT_FALSE(absl::StrContains(gateway->ReadStderr(), kApiKey));
    channel.reset();
    gateway.reset();
    fakellm.reset();
  }

  std::unique_ptr<Subprocess> fakellm;
  std::unique_ptr<Subprocess> gateway;
  std::shared_ptr<grpc::Channel> channel;
};

AnthropicServers* const servers = static_cast<AnthropicServers*>(
    ::testing::AddGlobalTestEnvironment(new AnthropicServers()));

GenerateRequest Parse(const std::string& textproto) { return testing::ParseRequest(textproto); }

grpc::Status Generate(const GenerateRequest& request, GenerateResponse* response) {
  return testing::GenerateOn(*servers->channel, request, response);
}

Collected Stream(const GenerateRequest& request) {
  return testing::StreamOn(*servers->channel, request);
}

std::vector<RecordedRequest> Sent(const std::string& marker) {
  return testing::SentWith(servers->fakellm->port(), marker);
}

RecordedRequest SentOnce(const std::string& marker) {
  return testing::SentOnceWith(servers->fakellm->port(), marker);
}

// "msg_fake_12" -> "12": fakellm numbers every id of one answer alike.
std::string FakeNumber(const std::string& id) { return testing::FakeNumber(id, "msg_fake_"); }

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }


// --- 1. Unary Generate -----------------------------------------------------

// System and developer messages (one after the user's), sampling settings,
// and cache usage from fakellm's cached= / cache_write= directives.
constexpr char kUnaryRequest[] = R"pb(
  model: "fake-model?cached=3&cache_write=2"
  messages {
    role: ROLE_SYSTEM
    parts { text: "Be brief" }
  }
  messages {
    role: ROLE_USER
    parts { text: "hello MARKER alpha beta gamma" }
  }
  messages {
    role: ROLE_DEVELOPER
    parts { text: "Dev note" }
  }
  config { temperature: 0.25 top_p: 0.5 top_k: 7 stop_sequences: "NEVER-STOP" }
)pb";

GenerateRequest UnaryRequest(const std::string& marker) {
  std::string text = kUnaryRequest;
  text.replace(text.find("MARKER"), 6, marker);
  return Parse(text);
}

// 8 tokens (fakellm's default): the echo, then filler.
std::string UnaryReply(const std::string& marker) {
  return absl::StrCat("Echo: hello ", marker, " alpha beta gamma lorem ipsum");
}

// Words: system 2 + developer 2 + user 5 = 9, of which 3 read from and 2
// written to the cache; Anthropic's input_tokens (4) excludes both.
void ExpectUnaryUsage(const v1::Usage& usage) {
  EXPECT_EQ(usage.prompt_tokens(), 9) << "input 4 + cache read 3 + cache write 2";
  EXPECT_EQ(usage.cached_prompt_tokens(), 3);
  EXPECT_EQ(usage.cache_write_tokens(), 2);
  EXPECT_EQ(usage.completion_tokens(), 8);
  EXPECT_EQ(usage.total_tokens(), 17);
}

TEST(AnthropicIntegrationTest, UnaryTextUsageAndWhatWentUpstream) {
  const std::string marker = "marker-unary";
  GenerateResponse response;
  grpc::Status status = Generate(UnaryRequest(marker), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.text(), UnaryReply(marker));
  EXPECT_EQ(response.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(response.provider(), kClaude);
  EXPECT_EQ(response.model(), "fake-model");
  EXPECT_TRUE(absl::StartsWith(response.id(), "msg_fake_")) << response.id();
  EXPECT_EQ(response.message().role(), v1::ROLE_ASSISTANT);
  ASSERT_EQ(response.message().parts_size(), 1);
  EXPECT_EQ(response.message().parts(0).text(), UnaryReply(marker));
  ExpectUnaryUsage(response.usage());

  const RecordedRequest sent = SentOnce(marker);
  EXPECT_EQ(sent.path, "/v1/messages");
  EXPECT_EQ(sent.headers.count("x-api-key") ? sent.headers.at("x-api-key") : "<none>", kApiKey);
  EXPECT_EQ(sent.headers.count("anthropic-version") ? sent.headers.at("anthropic-version")
                                                    : "<none>",
            "2023-06-01");
  EXPECT_EQ(sent.headers.count("authorization"), 0u) << "the key goes in x-api-key only";
  EXPECT_EQ(JsonAt(sent.body, "/model"), "\"fake-model?cached=3&cache_write=2\"");
  EXPECT_EQ(JsonAt(sent.body, "/max_tokens"), absl::StrCat(kDefaultMaxTokens))
      << "the provider's default_max_tokens when the caller sets none";
  EXPECT_EQ(JsonAt(sent.body, "/system"),
            R"([{"type":"text","text":"Be brief"},{"type":"text","text":"Dev note"}])");
  EXPECT_EQ(JsonAt(sent.body, "/messages"),
            absl::StrCat(R"([{"role":"user","content":"hello )", marker,
                         R"( alpha beta gamma"}])"));
  EXPECT_EQ(JsonAt(sent.body, "/temperature"), "0.25");
  EXPECT_EQ(JsonAt(sent.body, "/top_p"), "0.5");
  EXPECT_EQ(JsonAt(sent.body, "/top_k"), "7");
  EXPECT_EQ(JsonAt(sent.body, "/stop_sequences"), R"(["NEVER-STOP"])");
  EXPECT_EQ(JsonAt(sent.body, "/stream"), "<missing>");
}

TEST(AnthropicIntegrationTest, CallerMaxOutputTokensIsMaxTokensAndCutsWithLength) {
  const std::string marker = "marker-maxtok";
  GenerateRequest request = Prompt("fake-model", absl::StrCat("cut ", marker, " here"));
  request.mutable_config()->set_max_output_tokens(3);
  GenerateResponse response;
  grpc::Status status = Generate(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Three whole tokens, the last one with its trailing space.
  EXPECT_EQ(response.text(), absl::StrCat("Echo: cut ", marker, " "));
  EXPECT_EQ(response.finish_reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(response.usage().completion_tokens(), 3);
  EXPECT_EQ(JsonAt(SentOnce(marker).body, "/max_tokens"), "3");
}

TEST(AnthropicIntegrationTest, SeedIsInvalidArgumentNamingFieldAndProvider) {
  const std::string marker = "marker-seed";
  GenerateRequest request = Prompt("fake-model", marker);
  request.mutable_config()->set_seed(42);
  GenerateResponse response;
  CallError error = Decode(Generate(request, &response));
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT) << error.message;
  EXPECT_TRUE(absl::StrContains(error.message, "config.seed")) << error.message;
  EXPECT_TRUE(absl::StrContains(error.message, Quoted(kClaude))) << error.message;
  EXPECT_EQ(error.info.reason(), "UNSUPPORTED_FIELD");
  EXPECT_EQ(error.info.metadata().at("field"), "config.seed");
  EXPECT_EQ(error.info.metadata().at("provider"), kClaude);
  EXPECT_TRUE(Sent(marker).empty()) << "refused before going upstream";
}

// --- 2. GenerateStream -------------------------------------------------------

TEST(AnthropicIntegrationTest, StreamReassemblesTheUnaryAnswer) {
  const std::string marker = "marker-stream";
  Collected c = Stream(UnaryRequest(marker));
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  ASSERT_GE(c.messages.size(), 3u);
  EXPECT_EQ(c.text, UnaryReply(marker)) << "deltas, each once, in order";
  const GenerateStreamResponse& first = c.messages.front();
  EXPECT_TRUE(absl::StartsWith(first.id(), "msg_fake_")) << first.id();
  EXPECT_EQ(first.model(), "fake-model");
  EXPECT_EQ(first.provider(), kClaude);
  const GenerateStreamResponse& last = c.messages.back();
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_STOP);
  ExpectUnaryUsage(last.usage());
  for (size_t i = 0; i + 1 < c.messages.size(); ++i) {
    EXPECT_EQ(c.messages[i].finish_reason(), v1::FINISH_REASON_UNSPECIFIED) << i;
  }

  const RecordedRequest sent = SentOnce(marker);
  EXPECT_EQ(sent.path, "/v1/messages");
  EXPECT_EQ(JsonAt(sent.body, "/stream"), "true");
  EXPECT_EQ(sent.headers.count("x-api-key") ? sent.headers.at("x-api-key") : "<none>", kApiKey);
}

TEST(AnthropicIntegrationTest, StreamSurvivesOneByteChunksCrlfAndPings) {
  // Every SSE event split into 1-byte HTTP chunks, \r\n line endings, and a
  // ping between every two events.
  const std::string marker = "marker-chunked";
  GenerateRequest request = UnaryRequest(marker);
  request.set_model("fake-model?cached=3&cache_write=2&chunk=1&crlf=1&comments=1");
  Collected c = Stream(request);
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  EXPECT_EQ(c.text, UnaryReply(marker));
  ASSERT_FALSE(c.messages.empty());
  EXPECT_EQ(c.messages.back().finish_reason(), v1::FINISH_REASON_STOP);
  ExpectUnaryUsage(c.messages.back().usage());
}

struct BrokenStreamCase {
  std::string fault;
  // What the caller has received when the error comes.
  std::string text;
  grpc::StatusCode code;
  std::string reason;
};

class BrokenStreamTest : public ::testing::TestWithParam<BrokenStreamCase> {};

TEST_P(BrokenStreamTest, ErrorAfterTheDeltasItSentNoDuplicate) {
  const BrokenStreamCase& param = GetParam();
  const std::string marker = absl::StrCat("marker-broken-", param.fault);
  Collected c =
      Stream(Prompt(absl::StrCat("fake-model?tokens=5&fault=", param.fault), absl::StrCat(
                                                                               "cut ", marker)));
  CallError error = Decode(c.status);
  EXPECT_EQ(error.code, param.code) << error.message;
  EXPECT_EQ(error.info.reason(), param.reason) << error.message;
  EXPECT_EQ(error.info.metadata().count("provider") ? error.info.metadata().at("provider") : "",
            kClaude);
  std::string expected = param.text;
  if (const size_t at = expected.find("MARKER"); at != std::string::npos) {
    expected.replace(at, 6, marker);
  }
  EXPECT_EQ(c.text, expected);
  for (const GenerateStreamResponse& m : c.messages) {
    EXPECT_EQ(m.finish_reason(), v1::FINISH_REASON_UNSPECIFIED) << "no clean end was reported";
  }
  EXPECT_EQ(Sent(marker).size(), 1u) << "no retry after the first delta";
}

INSTANTIATE_TEST_SUITE_P(
    Faults, BrokenStreamTest,
    ::testing::Values(
        // Everything but message_stop.
        BrokenStreamCase{"nodone", "Echo: cut MARKER lorem ipsum", grpc::StatusCode::UNAVAILABLE,
                         "UPSTREAM_STREAM_BROKEN"},
        // The connection closed after the first step.
        BrokenStreamCase{"drop", "Echo: ", grpc::StatusCode::UNAVAILABLE,
                         "UPSTREAM_STREAM_BROKEN"},
        // event: error (overloaded_error) after the first step.
        BrokenStreamCase{"error_event", "Echo: ", grpc::StatusCode::UNAVAILABLE,
                         "UPSTREAM_STREAM_ERROR"}),
    [](const ::testing::TestParamInfo<BrokenStreamCase>& info) { return info.param.fault; });

TEST(AnthropicIntegrationTest, ErrorEventKeepsTheUpstreamMessage) {
  const std::string marker = "marker-error-event-message";
  Collected c = Stream(Prompt("fake-model?fault=error_event", marker));
  EXPECT_FALSE(c.status.ok());
  EXPECT_TRUE(absl::StrContains(c.status.error_message(), "Overloaded"))
      << c.status.error_message();
}

TEST(AnthropicIntegrationTest, DroppedStreamIsNotRetriedAfterItsFirstDelta) {
  // The alias allows 2 retries; the drop comes after "Echo: " reached the
  // caller, so a retry would duplicate it.
  const std::string marker = "marker-drop-retrying";
  Collected c = Stream(Prompt("claude-drop-retrying", marker));
  CallError error = Decode(c.status);
  EXPECT_EQ(error.code, grpc::StatusCode::UNAVAILABLE) << error.message;
  EXPECT_EQ(error.info.reason(), "UPSTREAM_STREAM_BROKEN");
  EXPECT_EQ(c.text, "Echo: ");
  EXPECT_EQ(Sent(marker).size(), 1u);
}

// --- 3. Tools ----------------------------------------------------------------

TEST(AnthropicIntegrationTest, ToolCallThenToolResultTurnUnary) {
  const std::string marker = "marker-tools";
  const std::string question = absl::StrCat("weather in Paris ", marker);
  GenerateRequest first = Parse(absl::StrCat(R"pb(
    model: "fake-model"
    tool_choice { mode: MODE_REQUIRED function_name: "get_weather" }
  )pb",
                                             kWeatherTool));
  auto* user = first.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text(question);
  GenerateResponse call;
  grpc::Status status = Generate(first, &call);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(call.finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(call.provider(), kClaude);
  ASSERT_EQ(call.message().parts_size(), 1);
  ASSERT_TRUE(call.message().parts(0).has_tool_call());
  const v1::ToolCall tool_call = call.message().parts(0).tool_call();
  EXPECT_EQ(tool_call.id(), absl::StrCat("toolu_fake_", FakeNumber(call.id())));
  EXPECT_EQ(tool_call.name(), "get_weather");
  EXPECT_EQ(tool_call.arguments(), absl::StrCat(R"({"query":")", question, R"("})"));
  EXPECT_EQ(call.text(), "");

  const std::string first_body = SentOnce(marker).body;
  EXPECT_EQ(JsonAt(first_body, "/tools"),
            R"([{"name":"get_weather","description":"Current weather for a city",)"
            R"("input_schema":{"properties":{"query":{"type":"string"}},"type":"object"}}])");
  EXPECT_EQ(JsonAt(first_body, "/tool_choice"), R"({"type":"tool","name":"get_weather"})");

  // Turn 2: the assistant message as it came, then the tool's result.
  const std::string result_marker = "marker-tool-result";
  GenerateRequest second = Parse(absl::StrCat(R"pb(model: "fake-model")pb", kWeatherTool));
  *second.add_messages() = first.messages(0);
  *second.add_messages() = call.message();
  auto* tool = second.add_messages();
  tool->set_role(v1::ROLE_TOOL);
  v1::ToolResult* result = tool->add_parts()->mutable_tool_result();
  result->set_tool_call_id(tool_call.id());
  result->set_name("get_weather");
  result->set_content(absl::StrCat("18C and sunny ", result_marker));
  GenerateResponse answer;
  status = Generate(second, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer.text(), absl::StrCat("Tool result: 18C and sunny ", result_marker));
  EXPECT_EQ(answer.finish_reason(), v1::FINISH_REASON_STOP);

  const std::string second_body = SentOnce(result_marker).body;
  EXPECT_EQ(JsonAt(second_body, "/messages/0"),
            absl::StrCat(R"({"role":"user","content":")", question, R"("})"));
  EXPECT_EQ(JsonAt(second_body, "/messages/1"),
            absl::StrCat(R"({"role":"assistant","content":[{"type":"tool_use","id":")",
                         tool_call.id(), R"(","name":"get_weather","input":{"query":")",
                         question, R"("}}]})"));
  EXPECT_EQ(JsonAt(second_body, "/messages/2"),
            absl::StrCat(R"({"role":"user","content":[{"type":"tool_result","tool_use_id":")",
                         tool_call.id(), R"(","content":"18C and sunny )", result_marker,
                         R"("}]})"))
      << "no is_error when the tool did not fail";
}

TEST(AnthropicIntegrationTest, ParallelToolCallsAndAnErrorResultUnary) {
  const std::string marker = "marker-parallel";
  GenerateRequest first =
      Parse(absl::StrCat(R"pb(model: "fake-model?parallel=2")pb", kWeatherTool));
  auto* user = first.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text(marker);
  GenerateResponse call;
  grpc::Status status = Generate(first, &call);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(call.finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  ASSERT_EQ(call.message().parts_size(), 2);
  const std::string n = FakeNumber(call.id());
  const v1::ToolCall a = call.message().parts(0).tool_call();
  const v1::ToolCall b = call.message().parts(1).tool_call();
  EXPECT_EQ(a.id(), absl::StrCat("toolu_fake_", n, "_0"));
  EXPECT_EQ(b.id(), absl::StrCat("toolu_fake_", n, "_1"));
  EXPECT_EQ(a.arguments(), absl::StrCat(R"({"query":")", marker, R"("})"));
  EXPECT_EQ(b.arguments(), absl::StrCat(R"({"query":")", marker, R"x( (2)"})x"));
  EXPECT_EQ(JsonAt(SentOnce(marker).body, "/tool_choice"), "<missing>")
      << "auto with parallel calls is the default";

  GenerateRequest second = Parse(absl::StrCat(R"pb(model: "fake-model")pb", kWeatherTool));
  *second.add_messages() = first.messages(0);
  *second.add_messages() = call.message();
  auto* tool_a = second.add_messages();
  tool_a->set_role(v1::ROLE_TOOL);
  tool_a->add_parts()->mutable_tool_result()->set_tool_call_id(a.id());
  tool_a->mutable_parts(0)->mutable_tool_result()->set_content("sunny marker-par-result");
  auto* tool_b = second.add_messages();
  tool_b->set_role(v1::ROLE_TOOL);
  tool_b->add_parts()->mutable_tool_result()->set_tool_call_id(b.id());
  tool_b->mutable_parts(0)->mutable_tool_result()->set_content("city unknown");
  tool_b->mutable_parts(0)->mutable_tool_result()->set_is_error(true);
  GenerateResponse answer;
  status = Generate(second, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer.text(), "Tool result: sunny marker-par-result city unknown");
  const std::string body = SentOnce("marker-par-result").body;
  EXPECT_EQ(JsonAt(body, "/messages/1/content/0/id"), Quoted(a.id()));
  EXPECT_EQ(JsonAt(body, "/messages/1/content/1/id"), Quoted(b.id()));
  // Both tool messages make one user turn.
  EXPECT_EQ(JsonAt(body, "/messages/2"),
            absl::StrCat(R"({"role":"user","content":[)",
                         R"({"type":"tool_result","tool_use_id":")", a.id(),
                         R"(","content":"sunny marker-par-result"},)",
                         R"({"type":"tool_result","tool_use_id":")", b.id(),
                         R"(","content":"city unknown","is_error":true}]})"));
  EXPECT_EQ(JsonAt(body, "/messages/3"), "<missing>");
}

// Tool-call fragments of a stream, by index.
struct StreamedCall {
  std::string id;
  std::string name;
  std::string arguments;
  int fragments = 0;
};

std::map<int, StreamedCall> CollectCalls(const Collected& c) {
  std::map<int, StreamedCall> calls;
  for (const GenerateStreamResponse& m : c.messages) {
    for (const v1::ToolCallDelta& d : m.tool_calls()) {
      StreamedCall& call = calls[d.index()];
      if (call.fragments == 0) {
        EXPECT_FALSE(d.id().empty()) << "id in the first fragment of call " << d.index();
        EXPECT_FALSE(d.name().empty()) << "name in the first fragment of call " << d.index();
        call.id = d.id();
        call.name = d.name();
      } else {
        EXPECT_EQ(d.id(), "") << "id only in the first fragment";
        EXPECT_EQ(d.name(), "") << "name only in the first fragment";
      }
      call.arguments += d.arguments();
      ++call.fragments;
    }
  }
  return calls;
}

TEST(AnthropicIntegrationTest, ToolCallStreamsAsFragmentsByIndex) {
  const std::string marker = "marker-tool-stream";
  GenerateRequest request = Parse(absl::StrCat(R"pb(
    model: "fake-model"
    tool_choice { mode: MODE_REQUIRED }
  )pb",
                                               kWeatherTool));
  request.set_prompt(marker);
  Collected c = Stream(request);
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  EXPECT_EQ(c.text, "");
  std::map<int, StreamedCall> calls = CollectCalls(c);
  ASSERT_EQ(calls.size(), 1u);
  ASSERT_EQ(calls.count(0), 1u) << "indexes start at 0";
  EXPECT_EQ(calls[0].id, absl::StrCat("toolu_fake_", FakeNumber(c.messages.front().id())));
  EXPECT_EQ(calls[0].name, "get_weather");
  EXPECT_GT(calls[0].fragments, 2);
  EXPECT_EQ(calls[0].arguments, absl::StrCat(R"({"query":")", marker, R"("})"));
  EXPECT_EQ(JsonAt(calls[0].arguments, "/query"), Quoted(marker)) << "valid JSON";
  EXPECT_EQ(c.messages.back().finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(JsonAt(SentOnce(marker).body, "/tool_choice"), R"({"type":"any"})");
}

TEST(AnthropicIntegrationTest, ParallelToolCallsStreamWithIndexesZeroAndOne) {
  const std::string marker = "marker-par-stream";
  GenerateRequest request =
      Parse(absl::StrCat(R"pb(model: "fake-model?parallel=2")pb", kWeatherTool));
  request.set_prompt(marker);
  Collected c = Stream(request);
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  std::map<int, StreamedCall> calls = CollectCalls(c);
  ASSERT_EQ(calls.size(), 2u);
  ASSERT_EQ(calls.count(0), 1u);
  ASSERT_EQ(calls.count(1), 1u);
  const std::string n = FakeNumber(c.messages.front().id());
  EXPECT_EQ(calls[0].id, absl::StrCat("toolu_fake_", n, "_0"));
  EXPECT_EQ(calls[1].id, absl::StrCat("toolu_fake_", n, "_1"));
  EXPECT_EQ(calls[0].name, "get_weather");
  EXPECT_EQ(calls[1].name, "get_weather");
  EXPECT_EQ(calls[0].arguments, absl::StrCat(R"({"query":")", marker, R"("})"));
  EXPECT_EQ(calls[1].arguments, absl::StrCat(R"({"query":")", marker, R"x( (2)"})x"));
  EXPECT_EQ(c.messages.back().finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
}

// --- 4. Thinking with its signature ------------------------------------------

TEST(AnthropicIntegrationTest, ThinkingAndRedactedThinkingGoBackBeforeTheToolUse) {
  const std::string marker = "marker-thinking-unary";
  GenerateRequest first = Parse(absl::StrCat(R"pb(
    model: "fake-model?reasoning=4&redacted=1"
    config { reasoning { budget_tokens: 1024 } }
  )pb",
                                             kWeatherTool));
  auto* user = first.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text(absl::StrCat("weather ", marker));
  GenerateResponse call;
  grpc::Status status = Generate(first, &call);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string n = FakeNumber(call.id());
  EXPECT_EQ(call.finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  ASSERT_EQ(call.message().parts_size(), 3) << call.message().DebugString();
  ASSERT_TRUE(call.message().parts(0).has_reasoning());
  EXPECT_EQ(call.message().parts(0).reasoning().redacted_data(),
            absl::StrCat("redacted_fake_", n));
  ASSERT_TRUE(call.message().parts(1).has_reasoning());
  EXPECT_EQ(call.message().parts(1).reasoning().text(),
            absl::StrCat("Thinking about: weather ", marker));
  EXPECT_EQ(call.message().parts(1).reasoning().signature(), absl::StrCat("sig_fake_", n));
  ASSERT_TRUE(call.message().parts(2).has_tool_call());
  const v1::ToolCall tool_call = call.message().parts(2).tool_call();

  const std::string first_body = SentOnce(marker).body;
  EXPECT_EQ(JsonAt(first_body, "/thinking"), R"({"type":"enabled","budget_tokens":1024})");
  EXPECT_EQ(JsonAt(first_body, "/max_tokens"), absl::StrCat(kDefaultMaxTokens + 1024))
      << "default_max_tokens plus the thinking budget";

  // Turn 2: the whole assistant message goes back, thinking in place.
  const std::string result_marker = "marker-tresult";
  GenerateRequest second = first;
  *second.add_messages() = call.message();
  auto* tool = second.add_messages();
  tool->set_role(v1::ROLE_TOOL);
  tool->add_parts()->mutable_tool_result()->set_tool_call_id(tool_call.id());
  tool->mutable_parts(0)->mutable_tool_result()->set_content(result_marker);
  GenerateResponse answer;
  status = Generate(second, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer.text(), absl::StrCat("Tool result: ", result_marker));
  EXPECT_EQ(answer.finish_reason(), v1::FINISH_REASON_STOP);

  const std::string second_body = SentOnce(result_marker).body;
  EXPECT_EQ(JsonAt(second_body, "/messages/1/role"), "\"assistant\"");
  EXPECT_EQ(JsonAt(second_body, "/messages/1/content"),
            absl::StrCat(R"([{"type":"redacted_thinking","data":"redacted_fake_)", n, R"("},)",
                         R"({"type":"thinking","thinking":"Thinking about: weather )", marker,
                         R"(","signature":"sig_fake_)", n, R"("},)",
                         R"({"type":"tool_use","id":")", tool_call.id(),
                         R"(","name":"get_weather","input":{"query":"weather )", marker,
                         R"("}}])"));
  EXPECT_EQ(JsonAt(second_body, "/messages/2/content/0/type"), "\"tool_result\"");
  EXPECT_EQ(JsonAt(second_body, "/thinking"), R"({"type":"enabled","budget_tokens":1024})");
}

// A stream with a redacted_thinking block, a thinking block and text.
Collected StreamThinking(const std::string& marker) {
  GenerateRequest request = Parse(R"pb(
    model: "fake-model?reasoning=4&redacted=1&tokens=3"
    config { reasoning { budget_tokens: 1024 } }
  )pb");
  request.set_prompt(absl::StrCat("think ", marker));
  return Stream(request);
}

TEST(AnthropicIntegrationTest, StreamedThinkingTextAndSignatureComeBeforeTheText) {
  const std::string marker = "marker-think-stream";
  Collected c = StreamThinking(marker);
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  const std::string n = FakeNumber(c.messages.front().id());
  std::string reasoning, signature;
  bool text_started = false;
  for (const GenerateStreamResponse& m : c.messages) {
    if (!m.reasoning().text().empty() || !m.reasoning().signature().empty()) {
      EXPECT_FALSE(text_started) << "reasoning after text";
    }
    reasoning += m.reasoning().text();
    signature += m.reasoning().signature();
    if (!m.text().empty()) text_started = true;
  }
  EXPECT_EQ(reasoning, absl::StrCat("Thinking about: think ", marker));
  EXPECT_EQ(signature, absl::StrCat("sig_fake_", n));
  EXPECT_EQ(c.text, absl::StrCat("Echo: think ", marker));
  EXPECT_EQ(c.messages.back().finish_reason(), v1::FINISH_REASON_STOP);
}

// A redacted_thinking block arrives whole, as ReasoningDelta.redacted_data,
// before the thinking text.
TEST(AnthropicIntegrationTest, StreamedRedactedThinkingArrivesAsRedactedData) {
  const std::string marker = "marker-redacted-stream";
  Collected c = StreamThinking(marker);
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  const std::string n = FakeNumber(c.messages.front().id());
  std::string redacted;
  bool thinking_started = false;
  for (const GenerateStreamResponse& m : c.messages) {
    if (!m.reasoning().redacted_data().empty()) {
      EXPECT_FALSE(thinking_started) << "redacted_thinking is the first block";
      EXPECT_TRUE(redacted.empty()) << "redacted_data sent twice";
    }
    redacted += m.reasoning().redacted_data();
    if (!m.reasoning().text().empty()) thinking_started = true;
  }
  EXPECT_EQ(redacted, absl::StrCat("redacted_fake_", n));
}

// --- 5. Media ----------------------------------------------------------------

TEST(AnthropicIntegrationTest, ImagesAndPdfBecomeImageAndDocumentBlocks) {
  const std::string marker = "marker-media";
  GenerateRequest request;
  request.set_model("fake-model");
  auto* user = request.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text(absl::StrCat("what are these? ", marker));
  v1::Media* png = user->add_parts()->mutable_media();
  png->set_mime_type("image/png");
  png->set_data(std::string("\x89PNG\r\n", 6));
  v1::Media* url = user->add_parts()->mutable_media();
  url->set_mime_type("image/jpeg");
  url->set_uri("https://example.com/cat.jpg");
  v1::Media* pdf = user->add_parts()->mutable_media();
  pdf->set_mime_type("application/pdf");
  pdf->set_data("%PDF-1.4");
  GenerateResponse response;
  grpc::Status status = Generate(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(response.text(), absl::StrCat("Echo: what are these? ", marker)))
      << response.text();
  EXPECT_EQ(JsonAt(SentOnce(marker).body, "/messages/0/content"),
            absl::StrCat(
                R"([{"type":"text","text":"what are these? )", marker, R"("},)",
                R"({"type":"image","source":{"type":"base64","media_type":"image/png",)",
                R"("data":"iVBORw0K"}},)",
                R"({"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},)",
                R"({"type":"document","source":{"type":"base64","media_type":"application/pdf",)",
                R"("data":"JVBERi0xLjQ="}}])"));
}

TEST(AnthropicIntegrationTest, UnsupportedMediaTypeIsInvalidArgumentNamingThePart) {
  const std::string marker = "marker-wav";
  GenerateRequest request;
  request.set_model("fake-model");
  auto* user = request.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text(marker);
  v1::Media* wav = user->add_parts()->mutable_media();
  wav->set_mime_type("audio/wav");
  wav->set_data("RIFF");
  GenerateResponse response;
  CallError error = Decode(Generate(request, &response));
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT) << error.message;
  EXPECT_TRUE(absl::StrContains(error.message, "messages[0].parts[1].media.mime_type"))
      << error.message;
  EXPECT_TRUE(absl::StrContains(error.message, "audio/wav")) << error.message;
  EXPECT_TRUE(absl::StrContains(error.message, Quoted(kClaude))) << error.message;
  EXPECT_TRUE(Sent(marker).empty()) << "refused before going upstream";
}

// --- 6. Upstream error statuses ----------------------------------------------

struct ErrorCase {
  int status;
  std::string extra;  // more directives
  grpc::StatusCode code;
  std::string reason;
  int retry_seconds;  // RetryInfo; -1: none expected
};

class UpstreamErrorTest : public ::testing::TestWithParam<ErrorCase> {};

void ExpectMapped(const ErrorCase& param, const CallError& error) {
  EXPECT_EQ(error.code, param.code) << error.message;
  EXPECT_EQ(error.info.reason(), param.reason) << error.message;
  EXPECT_EQ(error.info.domain(), "llmgateway");
  EXPECT_EQ(error.info.metadata().count("provider") ? error.info.metadata().at("provider") : "",
            kClaude);
  EXPECT_EQ(error.info.metadata().count("upstreamStatus")
                ? error.info.metadata().at("upstreamStatus")
                : "",
            absl::StrCat(param.status));
  EXPECT_FALSE(absl::StrContains(error.message, kApiKey)) << error.message;
  EXPECT_TRUE(absl::StrContains(error.message, Quoted(kClaude))) << error.message;
  if (param.retry_seconds >= 0) {
    ASSERT_TRUE(error.has_retry_info) << error.message;
    EXPECT_EQ(error.retry.retry_delay().seconds(), param.retry_seconds);
    EXPECT_EQ(error.retry.retry_delay().nanos(), 0);
  } else {
    EXPECT_FALSE(error.has_retry_info);
  }
}

TEST_P(UpstreamErrorTest, MapsToTheDesignTable) {
  const ErrorCase& param = GetParam();
  const std::string model = absl::StrCat("fake-model?status=", param.status, param.extra);

  const std::string unary_marker = absl::StrCat("marker-status-", param.status, "-unary");
  GenerateResponse response;
  ExpectMapped(param, Decode(Generate(Prompt(model, unary_marker), &response)));
  EXPECT_EQ(Sent(unary_marker).size(), 1u) << "max_retries 0: one attempt";

  const std::string stream_marker = absl::StrCat("marker-status-", param.status, "-stream");
  Collected c = Stream(Prompt(model, stream_marker));
  EXPECT_TRUE(c.messages.empty());
  ExpectMapped(param, Decode(c.status));
  EXPECT_EQ(Sent(stream_marker).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Statuses, UpstreamErrorTest,
    ::testing::Values(
        ErrorCase{400, "", grpc::StatusCode::INVALID_ARGUMENT, "UPSTREAM_INVALID_REQUEST", -1},
        ErrorCase{401, "", grpc::StatusCode::INTERNAL, "UPSTREAM_AUTH_FAILED", -1},
        ErrorCase{403, "", grpc::StatusCode::INTERNAL, "UPSTREAM_AUTH_FAILED", -1},
        ErrorCase{404, "", grpc::StatusCode::NOT_FOUND, "MODEL_NOT_FOUND", -1},
        ErrorCase{429, "&retry_after=7", grpc::StatusCode::RESOURCE_EXHAUSTED, "RATE_LIMITED",
                  7},
        ErrorCase{500, "", grpc::StatusCode::UNAVAILABLE, "UPSTREAM_UNAVAILABLE", -1},
        ErrorCase{529, "", grpc::StatusCode::UNAVAILABLE, "UPSTREAM_UNAVAILABLE", -1}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) {
      return absl::StrCat("Http", info.param.status);
    });

TEST(AnthropicIntegrationTest, MissingApiKeyIsUpstreamAuthFailedWithoutTheUpstreamMessage) {
  // Provider "claude-nokey" has no api_key_env: fakellm (--api_key) refuses
  // the request with 401 "invalid x-api-key".
  const std::string marker = "marker-nokey";
  GenerateResponse response;
  CallError error = Decode(Generate(Prompt("claude-nokey", marker), &response));
  EXPECT_EQ(error.code, grpc::StatusCode::INTERNAL) << error.message;
  EXPECT_EQ(error.info.reason(), "UPSTREAM_AUTH_FAILED");
  EXPECT_EQ(error.info.metadata().at("provider"), "claude-nokey");
  EXPECT_EQ(error.info.metadata().at("upstreamStatus"), "401");
  EXPECT_FALSE(absl::StrContains(error.message, "x-api-key")) << error.message;
  const RecordedRequest sent = SentOnce(marker);
  EXPECT_EQ(sent.headers.count("x-api-key"), 0u);
  EXPECT_EQ(sent.headers.count("authorization"), 0u);
}

// --- 7. Fallback across kinds -------------------------------------------------

constexpr char kFallbackRequest[] = R"pb(
  model: "claude-down"
  provider_options {
    key: "anthropic"
    value {
      fields {
        key: "metadata"
        value {
          struct_value {
            fields {
              key: "user_id"
              value { string_value: "anthropic-only-option" }
            }
          }
        }
      }
    }
  }
  provider_options {
    key: "openai"
    value {
      fields {
        key: "user"
        value { string_value: "openai-only-option" }
      }
    }
  }
)pb";

void ExpectFallbackBodies(const std::string& marker) {
  std::vector<RecordedRequest> sent = Sent(marker);
  ASSERT_EQ(sent.size(), 2u) << "one Anthropic attempt (max_retries 0), then the fallback";
  EXPECT_EQ(sent[0].path, "/v1/messages");
  EXPECT_EQ(JsonAt(sent[0].body, "/model"), "\"fake-model?status=503\"");
  EXPECT_EQ(JsonAt(sent[0].body, "/metadata/user_id"), "\"anthropic-only-option\"");
  EXPECT_FALSE(absl::StrContains(sent[0].body, "openai-only-option")) << sent[0].body;
  EXPECT_EQ(sent[1].path, "/v1/chat/completions");
  EXPECT_EQ(JsonAt(sent[1].body, "/model"), "\"fake-model\"");
  EXPECT_FALSE(absl::StrContains(sent[1].body, "anthropic-only-option")) << sent[1].body;
  EXPECT_EQ(JsonAt(sent[1].body, "/metadata"), "<missing>");
  EXPECT_EQ(JsonAt(sent[1].body, "/user"), "\"openai-only-option\"");
  EXPECT_EQ(sent[1].headers.count("authorization") ? sent[1].headers.at("authorization") : "",
            absl::StrCat("Bearer ", kApiKey));
  EXPECT_EQ(sent[1].headers.count("x-api-key"), 0u);
}

TEST(AnthropicIntegrationTest, FallbackFromAnthropicToOpenAiKeepsProviderOptionsToTheirKind) {
  const std::string marker = "marker-fallback-unary";
  GenerateRequest request = Parse(kFallbackRequest);
  request.set_prompt(absl::StrCat("fall ", marker));
  GenerateResponse response;
  grpc::Status status = Generate(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.provider(), "gpt");
  EXPECT_EQ(response.text().rfind(absl::StrCat("Echo: fall ", marker), 0), 0u) << response.text();
  ExpectFallbackBodies(marker);
}

TEST(AnthropicIntegrationTest, StreamFallsBackFromAnthropicToOpenAiBeforeItsFirstDelta) {
  const std::string marker = "marker-fallback-stream";
  GenerateRequest request = Parse(kFallbackRequest);
  request.set_prompt(absl::StrCat("fall ", marker));
  Collected c = Stream(request);
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  ASSERT_FALSE(c.messages.empty());
  EXPECT_EQ(c.messages.front().provider(), "gpt");
  EXPECT_EQ(c.text.rfind(absl::StrCat("Echo: fall ", marker), 0), 0u) << c.text;
  ExpectFallbackBodies(marker);
}

// --- 8. JSON output through the forced tool ------------------------------------

constexpr char kJsonSchemaRequest[] = R"pb(
  model: "fake-model"
  config {
    response_format {
      json_schema {
        name: "answer"
        schema {
          fields {
            key: "type"
            value { string_value: "object" }
          }
          fields {
            key: "properties"
            value {
              struct_value {
                fields {
                  key: "query"
                  value {
                    struct_value {
                      fields {
                        key: "type"
                        value { string_value: "string" }
                      }
                    }
                  }
                }
              }
            }
          }
          fields {
            key: "required"
            value { list_value { values { string_value: "query" } } }
          }
        }
      }
    }
  }
)pb";

// fakellm answers a forced tool with {"query": <last user text>}; the
// adapter turns the reserved tool's input into the answer's text.
TEST(AnthropicIntegrationTest, JsonSchemaAnswerIsTextNotAToolCall) {
  const std::string marker = "marker-json-unary";
  GenerateRequest request = Parse(kJsonSchemaRequest);
  request.set_prompt(absl::StrCat("json ", marker));
  GenerateResponse response;
  grpc::Status status = Generate(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string expected = absl::StrCat(R"({"query":"json )", marker, R"("})");
  EXPECT_EQ(response.text(), expected);
  EXPECT_EQ(JsonAt(response.text(), "/query"), Quoted(absl::StrCat("json ", marker)));
  EXPECT_EQ(response.finish_reason(), v1::FINISH_REASON_STOP);
  for (const v1::Part& part : response.message().parts()) {
    EXPECT_FALSE(part.has_tool_call()) << response.message().DebugString();
  }
  ASSERT_EQ(response.message().parts_size(), 1);
  EXPECT_EQ(response.message().parts(0).text(), expected);

  const std::string body = SentOnce(marker).body;
  EXPECT_EQ(JsonAt(body, "/response_format"), "<missing>");
  EXPECT_EQ(JsonAt(body, "/tools/0/name"), "\"llmgateway_json_response\"");
  EXPECT_EQ(JsonAt(body, "/tools/0/input_schema"),
            R"({"properties":{"query":{"type":"string"}},"required":["query"],"type":"object"})");
  EXPECT_EQ(JsonAt(body, "/tools/1"), "<missing>");
  EXPECT_EQ(JsonAt(body, "/tool_choice"),
            R"({"type":"tool","name":"llmgateway_json_response","disable_parallel_tool_use":true})");
}

TEST(AnthropicIntegrationTest, JsonSchemaAnswerStreamsAsText) {
  const std::string marker = "marker-json-stream";
  GenerateRequest request = Parse(kJsonSchemaRequest);
  request.set_prompt(absl::StrCat("json ", marker));
  Collected c = Stream(request);
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  EXPECT_EQ(c.text, absl::StrCat(R"({"query":"json )", marker, R"("})"));
  for (const GenerateStreamResponse& m : c.messages) {
    EXPECT_EQ(m.tool_calls_size(), 0) << m.DebugString();
  }
  EXPECT_EQ(c.messages.back().finish_reason(), v1::FINISH_REASON_STOP);
}

}  // namespace
}  // namespace llmgateway
