// The Gemini provider (`kind: "gemini"`) through the real llm_gateway binary
// against fakellm's Gemini mode: unary and streamed text with usage (cached
// content), what goes upstream (the model as a path segment, alt=sse,
// x-goog-api-key, systemInstruction, generationConfig), broken streams (no
// finishReason before EOF, a drop, an error chunk, a malformed chunk), the
// tool round trip with the gateway's call ids mapped back to names, the
// thought signature sent back in place, media parts, every upstream error
// status (RetryInfo from Google's body), the keys Google refuses (a 400 among
// them), a blocked prompt, a fallback from an OpenAI-kind model to a Gemini
// one, and JSON output.
//
// One fakellm (with --api_key, so x-goog-api-key is checked) and one gateway
// for the whole binary. The gateway's config makes "gemini" (kind gemini)
// the default provider, so a model string with fakellm directives passes
// through to it unchanged; `retry { max_retries: 0 }` so failures are final
// at once. Every test tags its prompt with a marker of its own and finds
// what was sent upstream by it.
#include <stdlib.h>

#include <chrono>
#include <fstream>
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
// A key fakellm refuses, for the provider that sends it.
constexpr const char* kWrongKey = "AIza-WRONG-gemini-key-987654321";
// The Gemini provider's config name (not its kind: responses and errors
// name the provider as configured).
constexpr const char* kGemini = "gemini";

// fakellm with the key check on, and a gateway whose default provider is
// the Gemini one.
class GeminiServers : public ::testing::Environment {
 public:
  void SetUp() override {
    fakellm = std::make_unique<Subprocess>(
        std::vector<std::string>{testing::Python(),
                                 testing::RunfilePath("tests/fakellm/fakellm.py"), "--listen",
                                 "127.0.0.1:0", "--api_key", kApiKey},
        std::vector<std::string>{}, TempPath("gemini-fakellm.log"));
    const std::string port = absl::StrCat(fakellm->port());
    const std::string gemini_url = absl::StrCat("http://127.0.0.1:", port, "/v1beta");
    const std::string openai_url = testing::FakeLlmBaseUrl(*fakellm);
    const std::string config = absl::StrCat(
        "default_provider: \"gemini\"\n",
        "retry { max_retries: 0 }\n",
        // Failures never take a target out of rotation here.
        "cooldown { failures: 1000000 }\n",
        "providers { name: \"gemini\" kind: \"gemini\" base_url: \"", gemini_url,
        "\" api_key_env: \"OPENAI_API_KEY\" }\n",
        // No api_key_env: no key at all, which fakellm refuses (403).
        "providers { name: \"gemini-nokey\" kind: \"gemini\" base_url: \"", gemini_url, "\" }\n",
        // A key fakellm does not know (400 API_KEY_INVALID).
        "providers { name: \"gemini-badkey\" kind: \"gemini\" base_url: \"", gemini_url,
        "\" api_key_env: \"GEMINI_WRONG_KEY\" }\n",
        "providers { name: \"gpt\" kind: \"openai\" base_url: \"", openai_url,
        "\" api_key_env: \"OPENAI_API_KEY\" }\n",
        "models { name: \"gpt-down\" provider: \"gpt\" ",
        "upstream_model: \"fake-model?status=503\" fallbacks: \"gemini-up\" }\n",
        "models { name: \"gemini-up\" provider: \"gemini\" upstream_model: \"fake-model\" }\n",
        "models { name: \"gemini-nokey\" provider: \"gemini-nokey\" upstream_model: \"fake-model\" }\n",
        "models { name: \"gemini-badkey\" provider: \"gemini-badkey\" ",
        "upstream_model: \"fake-model\" }\n",
        // Retries allowed: neither a blocked prompt nor a stream broken after
        // its first delta may be retried.
        "models { name: \"gemini-blocked-retrying\" provider: \"gemini\" ",
        "upstream_model: \"fake-model?blocked=SAFETY\" ",
        "retry { max_retries: 2 initial_backoff { nanos: 10000000 } } }\n",
        "models { name: \"gemini-drop-retrying\" provider: \"gemini\" ",
        "upstream_model: \"fake-model?fault=drop&tokens=5\" ",
        "retry { max_retries: 2 initial_backoff { nanos: 10000000 } } }\n");
    const std::string path = TempPath("gemini.textproto");
    {
      std::ofstream file(path);
      file << config;
    }
    // Inherited by the gateway (Subprocess adds to the environment).
    setenv("GEMINI_WRONG_KEY", kWrongKey, 1);
    gateway = testing::StartGateway(openai_url, {"--config=" + path}, "gemini-gateway.log");
    channel = testing::ChannelTo(*gateway);
  }

  void TearDown() override {
    // After every call above: the keys went upstream, never into the log.
    const std::string log = gateway->ReadStderr();
    EXPECT_FALSE(absl::StrContains(log, kApiKey));
    EXPECT_FALSE(absl::StrContains(log, kWrongKey));
    channel.reset();
    gateway.reset();
    fakellm.reset();
  }

  std::unique_ptr<Subprocess> fakellm;
  std::unique_ptr<Subprocess> gateway;
  std::shared_ptr<grpc::Channel> channel;
};

GeminiServers* const servers =
    static_cast<GeminiServers*>(::testing::AddGlobalTestEnvironment(new GeminiServers()));

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

std::string Header(const RecordedRequest& r, const std::string& name) {
  return r.headers.count(name) ? r.headers.at(name) : "<none>";
}

// "resp_fake_12" -> "12": fakellm numbers every id and signature of one
// answer alike.
std::string FakeNumber(const std::string& id) { return testing::FakeNumber(id, "resp_fake_"); }

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }


// --- 1. Unary Generate -----------------------------------------------------

// System and developer messages (one after the user's), sampling settings,
// and cached content from fakellm's cached= directive.
constexpr char kUnaryRequest[] = R"pb(
  model: "fake-model?cached=3"
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
  config { temperature: 0.25 top_p: 0.5 top_k: 7 stop_sequences: "NEVER-STOP" seed: 11 }
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

// Words: system 2 + developer 2 + user 5 = 9, of which 3 were cached
// content (part of Gemini's promptTokenCount, as of v1's prompt_tokens).
void ExpectUnaryUsage(const v1::Usage& usage) {
  EXPECT_EQ(usage.prompt_tokens(), 9);
  EXPECT_EQ(usage.cached_prompt_tokens(), 3);
  EXPECT_EQ(usage.completion_tokens(), 8);
  EXPECT_EQ(usage.total_tokens(), 17);
  EXPECT_EQ(usage.reasoning_tokens(), 0);
}

TEST(GeminiIntegrationTest, UnaryTextUsageAndWhatWentUpstream) {
  const std::string marker = "marker-unary";
  GenerateResponse response;
  grpc::Status status = Generate(UnaryRequest(marker), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.text(), UnaryReply(marker));
  EXPECT_EQ(response.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(response.provider(), kGemini);
  EXPECT_EQ(response.model(), "fake-model");
  FakeNumber(response.id());
  EXPECT_EQ(response.message().role(), v1::ROLE_ASSISTANT);
  ASSERT_EQ(response.message().parts_size(), 1);
  EXPECT_EQ(response.message().parts(0).text(), UnaryReply(marker));
  ExpectUnaryUsage(response.usage());

  const RecordedRequest sent = SentOnce(marker);
  EXPECT_EQ(sent.path, "/v1beta/models/fake-model%3Fcached%3D3:generateContent");
  EXPECT_EQ(Header(sent, "x-goog-api-key"), kApiKey);
  EXPECT_EQ(Header(sent, "authorization"), "<none>") << "the key goes in x-goog-api-key only";
  EXPECT_EQ(JsonAt(sent.body, "/contents"),
            absl::StrCat(R"([{"role":"user","parts":[{"text":"hello )", marker,
                         R"( alpha beta gamma"}]}])"));
  EXPECT_EQ(JsonAt(sent.body, "/systemInstruction"),
            R"({"parts":[{"text":"Be brief"},{"text":"Dev note"}]})");
  EXPECT_EQ(JsonAt(sent.body, "/generationConfig"),
            R"({"temperature":0.25,"topP":0.5,"topK":7,"stopSequences":["NEVER-STOP"],"seed":11})");
  EXPECT_EQ(JsonAt(sent.body, "/model"), "<missing>") << "the model is in the path";
}

TEST(GeminiIntegrationTest, MaxOutputTokensCutsWithLength) {
  const std::string marker = "marker-maxtok";
  GenerateRequest request = Prompt("fake-model", absl::StrCat("cut ", marker, " here"));
  request.mutable_config()->set_max_output_tokens(3);
  GenerateResponse response;
  grpc::Status status = Generate(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.text(), absl::StrCat("Echo: cut ", marker, " "));
  EXPECT_EQ(response.finish_reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(response.usage().completion_tokens(), 3);
  EXPECT_EQ(JsonAt(SentOnce(marker).body, "/generationConfig"), R"({"maxOutputTokens":3})");
}

TEST(GeminiIntegrationTest, EndUserIdIsInvalidArgumentNamingFieldAndProvider) {
  const std::string marker = "marker-end-user";
  GenerateRequest request = Prompt("fake-model", marker);
  request.set_end_user_id("user-1");
  GenerateResponse response;
  CallError error = Decode(Generate(request, &response));
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT) << error.message;
  EXPECT_TRUE(absl::StrContains(error.message, "end_user_id")) << error.message;
  EXPECT_TRUE(absl::StrContains(error.message, Quoted(kGemini))) << error.message;
  EXPECT_EQ(error.info.reason(), "UNSUPPORTED_FIELD");
  EXPECT_EQ(error.info.metadata().at("provider"), kGemini);
  EXPECT_TRUE(Sent(marker).empty()) << "refused before going upstream";
}

// --- 2. GenerateStream -------------------------------------------------------

TEST(GeminiIntegrationTest, StreamReassemblesTheUnaryAnswer) {
  const std::string marker = "marker-stream";
  Collected c = Stream(UnaryRequest(marker));
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  ASSERT_GE(c.messages.size(), 3u);
  EXPECT_EQ(c.text, UnaryReply(marker)) << "deltas, each once, in order";
  const GenerateStreamResponse& first = c.messages.front();
  FakeNumber(first.id());
  EXPECT_EQ(first.model(), "fake-model");
  EXPECT_EQ(first.provider(), kGemini);
  const GenerateStreamResponse& last = c.messages.back();
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(last.id(), first.id());
  ExpectUnaryUsage(last.usage());
  for (size_t i = 0; i + 1 < c.messages.size(); ++i) {
    EXPECT_EQ(c.messages[i].finish_reason(), v1::FINISH_REASON_UNSPECIFIED) << i;
  }

  const RecordedRequest sent = SentOnce(marker);
  EXPECT_EQ(sent.path,
            "/v1beta/models/fake-model%3Fcached%3D3:streamGenerateContent?alt=sse");
  EXPECT_EQ(Header(sent, "x-goog-api-key"), kApiKey);
  EXPECT_EQ(JsonAt(sent.body, "/stream"), "<missing>");
}

TEST(GeminiIntegrationTest, StreamSurvivesOneByteChunksCrlfAndComments) {
  const std::string marker = "marker-chunked";
  GenerateRequest request = UnaryRequest(marker);
  request.set_model("fake-model?cached=3&chunk=1&crlf=1&comments=1");
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
  Collected c = Stream(Prompt(absl::StrCat("fake-model?tokens=5&fault=", param.fault),
                              absl::StrCat("cut ", marker)));
  CallError error = Decode(c.status);
  EXPECT_EQ(error.code, param.code) << error.message;
  EXPECT_EQ(error.info.reason(), param.reason) << error.message;
  EXPECT_EQ(error.info.metadata().count("provider") ? error.info.metadata().at("provider") : "",
            kGemini);
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
        // Every chunk but the one with the finishReason, then EOF: Gemini
        // has no end marker, and a stream without a finishReason is cut.
        BrokenStreamCase{"nodone", "Echo: cut MARKER lorem ipsum", grpc::StatusCode::UNAVAILABLE,
                         "UPSTREAM_STREAM_BROKEN"},
        // The connection closed after the first chunk.
        BrokenStreamCase{"drop", "Echo: ", grpc::StatusCode::UNAVAILABLE,
                         "UPSTREAM_STREAM_BROKEN"},
        // data: {"error": {... "status": "INTERNAL"}} after the first chunk.
        BrokenStreamCase{"error_event", "Echo: ", grpc::StatusCode::UNAVAILABLE,
                         "UPSTREAM_STREAM_ERROR"},
        // data: {"candidates": [ after the first chunk.
        BrokenStreamCase{"malformed", "Echo: ", grpc::StatusCode::UNAVAILABLE,
                         "UPSTREAM_BAD_RESPONSE"}),
    [](const ::testing::TestParamInfo<BrokenStreamCase>& info) { return info.param.fault; });

TEST(GeminiIntegrationTest, DroppedStreamIsNotRetriedAfterItsFirstDelta) {
  const std::string marker = "marker-drop-retrying";
  Collected c = Stream(Prompt("gemini-drop-retrying", marker));
  CallError error = Decode(c.status);
  EXPECT_EQ(error.code, grpc::StatusCode::UNAVAILABLE) << error.message;
  EXPECT_EQ(error.info.reason(), "UPSTREAM_STREAM_BROKEN");
  EXPECT_EQ(c.text, "Echo: ");
  EXPECT_EQ(Sent(marker).size(), 1u);
}

// --- 3. Tools ----------------------------------------------------------------

TEST(GeminiIntegrationTest, ToolCallThenResultMapsTheGatewaysIdBackToTheName) {
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
  ASSERT_EQ(call.message().parts_size(), 1);
  ASSERT_TRUE(call.message().parts(0).has_tool_call());
  const v1::ToolCall tool_call = call.message().parts(0).tool_call();
  // Gemini sends no call id: the gateway's is the response id and ordinal.
  EXPECT_EQ(tool_call.id(), absl::StrCat("call_resp_fake_", FakeNumber(call.id()), "_0"));
  EXPECT_EQ(tool_call.name(), "get_weather");
  EXPECT_EQ(tool_call.arguments(), absl::StrCat(R"({"query":")", question, R"("})"));

  const std::string first_body = SentOnce(marker).body;
  EXPECT_EQ(JsonAt(first_body, "/tools"),
            R"([{"functionDeclarations":[{"name":"get_weather","description":"Current weather )"
            R"(for a city","parametersJsonSchema":{"properties":{"query":{"type":"string"}},)"
            R"("type":"object"}}]}])");
  EXPECT_EQ(JsonAt(first_body, "/toolConfig"),
            R"({"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}})");

  // Turn 2: the assistant message as it came, then the result by id only.
  const std::string result_marker = "marker-tool-result";
  GenerateRequest second = Parse(absl::StrCat(R"pb(model: "fake-model")pb", kWeatherTool));
  *second.add_messages() = first.messages(0);
  *second.add_messages() = call.message();
  auto* tool = second.add_messages();
  tool->set_role(v1::ROLE_TOOL);
  v1::ToolResult* result = tool->add_parts()->mutable_tool_result();
  result->set_tool_call_id(tool_call.id());
  result->set_content(absl::StrCat("18C and sunny ", result_marker));
  GenerateResponse answer;
  status = Generate(second, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer.text(), absl::StrCat("Tool result: 18C and sunny ", result_marker));
  EXPECT_EQ(answer.finish_reason(), v1::FINISH_REASON_STOP);

  const std::string second_body = SentOnce(result_marker).body;
  EXPECT_EQ(JsonAt(second_body, "/contents/1"),
            absl::StrCat(R"({"role":"model","parts":[{"functionCall":{"name":"get_weather",)",
                         R"("args":{"query":")", question, R"("}}}]})"));
  EXPECT_EQ(JsonAt(second_body, "/contents/2"),
            absl::StrCat(R"({"role":"user","parts":[{"functionResponse":{"name":"get_weather",)",
                         R"("response":{"result":"18C and sunny )", result_marker, R"("}}}]})"));
}

TEST(GeminiIntegrationTest, ToolResultWhoseCallIsUnknownNamesTheField) {
  const std::string marker = "marker-orphan-result";
  GenerateRequest request = Parse(R"pb(model: "fake-model")pb");
  auto* user = request.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text(marker);
  auto* tool = request.add_messages();
  tool->set_role(v1::ROLE_TOOL);
  tool->add_parts()->mutable_tool_result()->set_tool_call_id("call_nowhere");
  GenerateResponse response;
  CallError error = Decode(Generate(request, &response));
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT) << error.message;
  EXPECT_TRUE(absl::StartsWith(error.message, "messages[1].parts[0].tool_result.name: "))
      << error.message;
  EXPECT_TRUE(absl::StrContains(error.message, "call_nowhere")) << error.message;
  EXPECT_TRUE(Sent(marker).empty());
}

TEST(GeminiIntegrationTest, StreamedParallelToolCallsComeWholeWithDistinctIds) {
  const std::string marker = "marker-parallel-stream";
  GenerateRequest request =
      Parse(absl::StrCat(R"pb(model: "fake-model?parallel=2")pb", kWeatherTool));
  request.set_prompt(marker);
  Collected c = Stream(request);
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  std::vector<v1::ToolCallDelta> calls;
  for (const GenerateStreamResponse& m : c.messages) {
    for (const v1::ToolCallDelta& d : m.tool_calls()) calls.push_back(d);
  }
  ASSERT_EQ(calls.size(), 2u);
  const std::string n = FakeNumber(c.messages.front().id());
  EXPECT_EQ(calls[0].index(), 0);
  EXPECT_EQ(calls[0].id(), absl::StrCat("call_resp_fake_", n, "_0"));
  EXPECT_EQ(calls[1].index(), 1);
  EXPECT_EQ(calls[1].id(), absl::StrCat("call_resp_fake_", n, "_1"));
  EXPECT_EQ(calls[1].arguments(), absl::StrCat(R"({"query":")", marker, R"x( (2)"})x"));
  EXPECT_EQ(c.messages.back().finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
}

// --- 4. Thinking and its signature -----------------------------------------

// Thoughts shown (include_reasoning), then a call that carries the signature.
GenerateRequest ThinkingRequest(const std::string& marker) {
  GenerateRequest request = Parse(absl::StrCat(R"pb(
    model: "fake-model?reasoning=3"
    config { reasoning { include_reasoning: true budget_tokens: 1024 } }
  )pb",
                                               kWeatherTool));
  auto* user = request.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text(absl::StrCat("weather ", marker));
  return request;
}

TEST(GeminiIntegrationTest, ThoughtSignatureGoesBackOnTheCallItCameWith) {
  const std::string marker = "marker-think-unary";
  GenerateRequest first = ThinkingRequest(marker);
  GenerateResponse call;
  grpc::Status status = Generate(first, &call);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string n = FakeNumber(call.id());
  ASSERT_EQ(call.message().parts_size(), 3) << call.message().DebugString();
  EXPECT_EQ(call.message().parts(0).reasoning().text(), "Thinking about: weather");
  EXPECT_TRUE(call.message().parts(0).reasoning().signature().empty());
  EXPECT_EQ(call.message().parts(1).reasoning().signature(), absl::StrCat("sig_fake_", n));
  EXPECT_TRUE(call.message().parts(1).reasoning().text().empty());
  ASSERT_TRUE(call.message().parts(2).has_tool_call());
  EXPECT_EQ(call.usage().reasoning_tokens(), 3);
  EXPECT_EQ(call.finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(JsonAt(SentOnce(marker).body, "/generationConfig"),
            R"({"thinkingConfig":{"thinkingBudget":1024,"includeThoughts":true}})");

  const std::string result_marker = "marker-think-result";
  GenerateRequest second = Parse(absl::StrCat(R"pb(model: "fake-model")pb", kWeatherTool));
  *second.add_messages() = first.messages(0);
  *second.add_messages() = call.message();
  auto* tool = second.add_messages();
  tool->set_role(v1::ROLE_TOOL);
  v1::ToolResult* result = tool->add_parts()->mutable_tool_result();
  result->set_tool_call_id(call.message().parts(2).tool_call().id());
  result->set_content(absl::StrCat(R"({"temp":18,"note":")", result_marker, R"("})"));
  GenerateResponse answer;
  status = Generate(second, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer.text(),
            absl::StrCat(R"(Tool result: {"temp":18,"note":")", result_marker, R"("})"));

  const std::string second_body = SentOnce(result_marker).body;
  EXPECT_EQ(JsonAt(second_body, "/contents/1"),
            absl::StrCat(R"({"role":"model","parts":[)",
                         R"({"text":"Thinking about: weather","thought":true},)",
                         R"({"functionCall":{"name":"get_weather","args":{"query":"weather )",
                         marker, R"("}},"thoughtSignature":"sig_fake_)", n, R"("}]})"));
  EXPECT_EQ(JsonAt(second_body, "/contents/2/parts/0/functionResponse/response"),
            absl::StrCat(R"({"temp":18,"note":")", result_marker, R"("})"));
}

TEST(GeminiIntegrationTest, StreamedThoughtsThenTheSignatureWithTheCall) {
  const std::string marker = "marker-think-stream";
  Collected c = Stream(ThinkingRequest(marker));
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  const std::string n = FakeNumber(c.messages.front().id());
  std::string reasoning;
  bool call_seen = false;
  for (const GenerateStreamResponse& m : c.messages) {
    if (!m.reasoning().text().empty()) {
      EXPECT_FALSE(call_seen) << "thoughts after the call";
    }
    reasoning += m.reasoning().text();
    if (m.tool_calls_size() > 0) {
      call_seen = true;
      // The signature travels with the part it signs.
      EXPECT_EQ(m.reasoning().signature(), absl::StrCat("sig_fake_", n));
      EXPECT_EQ(m.tool_calls(0).name(), "get_weather");
    } else {
      EXPECT_TRUE(m.reasoning().signature().empty());
    }
  }
  EXPECT_TRUE(call_seen);
  EXPECT_EQ(reasoning, "Thinking about: weather");
  EXPECT_EQ(c.messages.back().finish_reason(), v1::FINISH_REASON_TOOL_CALLS);
  EXPECT_EQ(c.messages.back().usage().reasoning_tokens(), 3);
}

// --- 5. Media ----------------------------------------------------------------

TEST(GeminiIntegrationTest, MediaBecomesInlineAndFileData) {
  const std::string marker = "marker-media";
  GenerateRequest request;
  request.set_model("fake-model");
  auto* user = request.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text(absl::StrCat("what are these? ", marker));
  v1::Media* png = user->add_parts()->mutable_media();
  png->set_mime_type("image/png");
  png->set_data(std::string("\x89PNG\r\n", 6));
  v1::Media* file = user->add_parts()->mutable_media();
  file->set_mime_type("image/jpeg");
  file->set_uri("gs://bucket/cat.jpg");
  v1::Media* wav = user->add_parts()->mutable_media();
  wav->set_mime_type("audio/wav");
  wav->set_uri("data:audio/wav;base64,UklGRg==");
  v1::Media* pdf = user->add_parts()->mutable_media();
  pdf->set_mime_type("application/pdf");
  pdf->set_data("%PDF-1.4");
  GenerateResponse response;
  grpc::Status status = Generate(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(absl::StartsWith(response.text(), absl::StrCat("Echo: what are these? ", marker)))
      << response.text();
  EXPECT_EQ(JsonAt(SentOnce(marker).body, "/contents/0/parts"),
            absl::StrCat(R"([{"text":"what are these? )", marker, R"("},)",
                         R"({"inline_data":{"mime_type":"image/png","data":"iVBORw0K"}},)",
                         R"({"file_data":{"mime_type":"image/jpeg","file_uri":"gs://bucket/cat.jpg"}},)",
                         R"({"inline_data":{"mime_type":"audio/wav","data":"UklGRg=="}},)",
                         R"({"inline_data":{"mime_type":"application/pdf","data":"JVBERi0xLjQ="}}])"));
}

TEST(GeminiIntegrationTest, UnsupportedMediaTypeIsInvalidArgumentNamingThePart) {
  const std::string marker = "marker-zip";
  GenerateRequest request;
  request.set_model("fake-model");
  auto* user = request.add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text(marker);
  v1::Media* zip = user->add_parts()->mutable_media();
  zip->set_mime_type("application/zip");
  zip->set_data("PK");
  GenerateResponse response;
  CallError error = Decode(Generate(request, &response));
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT) << error.message;
  EXPECT_TRUE(absl::StrContains(error.message, "messages[0].parts[1].media.mime_type"))
      << error.message;
  EXPECT_TRUE(absl::StrContains(error.message, Quoted(kGemini))) << error.message;
  EXPECT_TRUE(Sent(marker).empty()) << "refused before going upstream";
}

// --- 6. Upstream errors --------------------------------------------------------

struct ErrorCase {
  int status;
  std::string extra;  // more directives
  grpc::StatusCode code;
  std::string reason;
  int retry_seconds;  // RetryInfo; -1: none expected
};

class UpstreamErrorTest : public ::testing::TestWithParam<ErrorCase> {};

void ExpectMapped(const ErrorCase& param, const CallError& error,
                  const std::string& provider = kGemini) {
  EXPECT_EQ(error.code, param.code) << error.message;
  EXPECT_EQ(error.info.reason(), param.reason) << error.message;
  EXPECT_EQ(error.info.domain(), "llmgateway");
  EXPECT_EQ(error.info.metadata().count("provider") ? error.info.metadata().at("provider") : "",
            provider);
  EXPECT_EQ(error.info.metadata().count("upstreamStatus")
                ? error.info.metadata().at("upstreamStatus")
                : "",
            absl::StrCat(param.status));
  EXPECT_FALSE(absl::StrContains(error.message, kApiKey)) << error.message;
  EXPECT_FALSE(absl::StrContains(error.message, kWrongKey)) << error.message;
  EXPECT_TRUE(absl::StrContains(error.message, Quoted(provider))) << error.message;
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
  const std::string name =
      absl::StrCat("marker-status-", param.status, param.extra.empty() ? "" : "-retry");

  const std::string unary_marker = absl::StrCat(name, "-unary");
  GenerateResponse response;
  ExpectMapped(param, Decode(Generate(Prompt(model, unary_marker), &response)));
  EXPECT_EQ(Sent(unary_marker).size(), 1u) << "max_retries 0: one attempt";

  const std::string stream_marker = absl::StrCat(name, "-stream");
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
        // Google says when in the body: a RetryInfo detail, "7s".
        ErrorCase{429, "&retry_after=7", grpc::StatusCode::RESOURCE_EXHAUSTED, "RATE_LIMITED",
                  7},
        ErrorCase{429, "", grpc::StatusCode::RESOURCE_EXHAUSTED, "RATE_LIMITED", -1},
        ErrorCase{500, "", grpc::StatusCode::UNAVAILABLE, "UPSTREAM_UNAVAILABLE", -1},
        ErrorCase{503, "&retry_after=2", grpc::StatusCode::UNAVAILABLE, "UPSTREAM_UNAVAILABLE",
                  2},
        ErrorCase{504, "", grpc::StatusCode::UNAVAILABLE, "UPSTREAM_UNAVAILABLE", -1}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) {
      return absl::StrCat("Http", info.param.status, info.param.extra.empty() ? "" : "Retry");
    });

TEST(GeminiIntegrationTest, MissingKeyIsUpstreamAuthFailed) {
  // No key at all: Google's 403 PERMISSION_DENIED.
  const std::string marker = "marker-nokey";
  GenerateResponse response;
  CallError error = Decode(Generate(Prompt("gemini-nokey", marker), &response));
  ExpectMapped(ErrorCase{403, "", grpc::StatusCode::INTERNAL, "UPSTREAM_AUTH_FAILED", -1}, error,
               "gemini-nokey");
  const RecordedRequest sent = SentOnce(marker);
  EXPECT_EQ(Header(sent, "x-goog-api-key"), "<none>");
}

TEST(GeminiIntegrationTest, WrongKeyIsA400ButUpstreamAuthFailed) {
  // Google answers a bad key with 400 INVALID_ARGUMENT, ErrorInfo reason
  // API_KEY_INVALID: the gateway's own key, not the caller's bad request.
  const std::string marker = "marker-badkey";
  GenerateResponse response;
  CallError error = Decode(Generate(Prompt("gemini-badkey", marker), &response));
  ExpectMapped(ErrorCase{400, "", grpc::StatusCode::INTERNAL, "UPSTREAM_AUTH_FAILED", -1}, error,
               "gemini-badkey");
  EXPECT_FALSE(absl::StrContains(error.message, "API key not valid")) << error.message;
  EXPECT_EQ(Header(SentOnce(marker), "x-goog-api-key"), kWrongKey);
}

TEST(GeminiIntegrationTest, BlockedPromptIsContentFilteredAndNotRetried) {
  const std::string unary_marker = "marker-blocked-unary";
  GenerateResponse response;
  CallError error = Decode(Generate(Prompt("gemini-blocked-retrying", unary_marker), &response));
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT) << error.message;
  EXPECT_EQ(error.info.reason(), "CONTENT_FILTERED");
  EXPECT_EQ(error.info.metadata().at("provider"), kGemini);
  EXPECT_EQ(error.info.metadata().at("blockReason"), "SAFETY");
  EXPECT_TRUE(absl::StrContains(error.message, "blocked the prompt")) << error.message;
  EXPECT_EQ(Sent(unary_marker).size(), 1u) << "retries allowed, but a blocked prompt is final";

  const std::string stream_marker = "marker-blocked-stream";
  Collected c = Stream(Prompt("gemini-blocked-retrying", stream_marker));
  EXPECT_TRUE(c.messages.empty());
  error = Decode(c.status);
  EXPECT_EQ(error.code, grpc::StatusCode::INVALID_ARGUMENT) << error.message;
  EXPECT_EQ(error.info.reason(), "CONTENT_FILTERED");
  EXPECT_EQ(Sent(stream_marker).size(), 1u);
}

// --- 7. Fallback across kinds -------------------------------------------------

constexpr char kFallbackRequest[] = R"pb(
  model: "gpt-down"
  provider_options {
    key: "gemini"
    value {
      fields {
        key: "labels"
        value {
          struct_value {
            fields {
              key: "team"
              value { string_value: "gemini-only-option" }
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

void ExpectFallbackBodies(const std::string& marker, bool stream) {
  std::vector<RecordedRequest> sent = Sent(marker);
  ASSERT_EQ(sent.size(), 2u) << "one OpenAI attempt (max_retries 0), then the fallback";
  EXPECT_EQ(sent[0].path, "/v1/chat/completions");
  EXPECT_EQ(JsonAt(sent[0].body, "/model"), "\"fake-model?status=503\"");
  EXPECT_EQ(JsonAt(sent[0].body, "/user"), "\"openai-only-option\"");
  EXPECT_FALSE(absl::StrContains(sent[0].body, "gemini-only-option")) << sent[0].body;
  EXPECT_EQ(Header(sent[0], "x-goog-api-key"), "<none>");
  EXPECT_EQ(sent[1].path, stream ? "/v1beta/models/fake-model:streamGenerateContent?alt=sse"
                                 : "/v1beta/models/fake-model:generateContent");
  EXPECT_FALSE(absl::StrContains(sent[1].body, "openai-only-option")) << sent[1].body;
  EXPECT_EQ(JsonAt(sent[1].body, "/labels"), R"({"team":"gemini-only-option"})");
  EXPECT_EQ(Header(sent[1], "x-goog-api-key"), kApiKey);
  EXPECT_EQ(Header(sent[1], "authorization"), "<none>");
}

TEST(GeminiIntegrationTest, FallbackFromOpenAiToGeminiKeepsProviderOptionsToTheirKind) {
  const std::string marker = "marker-fallback-unary";
  GenerateRequest request = Parse(kFallbackRequest);
  request.set_prompt(absl::StrCat("fall ", marker));
  GenerateResponse response;
  grpc::Status status = Generate(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.provider(), kGemini);
  EXPECT_EQ(response.model(), "fake-model");
  EXPECT_TRUE(absl::StartsWith(response.text(), absl::StrCat("Echo: fall ", marker)))
      << response.text();
  ExpectFallbackBodies(marker, /*stream=*/false);
}

TEST(GeminiIntegrationTest, StreamFallsBackFromOpenAiToGeminiBeforeItsFirstDelta) {
  const std::string marker = "marker-fallback-stream";
  GenerateRequest request = Parse(kFallbackRequest);
  request.set_prompt(absl::StrCat("fall ", marker));
  Collected c = Stream(request);
  ASSERT_TRUE(c.status.ok()) << c.status.error_message();
  ASSERT_FALSE(c.messages.empty());
  EXPECT_EQ(c.messages.front().provider(), kGemini);
  EXPECT_TRUE(absl::StartsWith(c.text, absl::StrCat("Echo: fall ", marker))) << c.text;
  ExpectFallbackBodies(marker, /*stream=*/true);
}

// --- 8. JSON output -------------------------------------------------------------

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
        }
      }
    }
  }
)pb";

TEST(GeminiIntegrationTest, JsonSchemaGoesAsResponseJsonSchema) {
  const std::string marker = "marker-json";
  GenerateRequest request = Parse(kJsonSchemaRequest);
  request.set_prompt(absl::StrCat("json ", marker));
  GenerateResponse response;
  grpc::Status status = Generate(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.text(), absl::StrCat(R"({"query":"json )", marker, R"("})"));
  EXPECT_EQ(response.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(JsonAt(SentOnce(marker).body, "/generationConfig"),
            R"({"responseMimeType":"application/json","responseJsonSchema":)"
            R"({"properties":{"query":{"type":"string"}},"type":"object"}})");
}

}  // namespace
}  // namespace llmgateway
