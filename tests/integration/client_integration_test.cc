// The C++ client library and llmgw, the CLI, against the real gateway in
// front of fakellm: each pattern once end to end, 500 async calls from one
// thread, and a CLI batch round trip (submit, progress, results JSONL).
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "client/gateway_client.h"
#include "client/status.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/subprocess.h"

namespace llmgateway {
namespace {

namespace v1 = ::llmgateway::v1;
using ::llmgateway::testing::RunfilePath;
using ::llmgateway::testing::RunResult;
using ::llmgateway::testing::RunToExit;
using ::llmgateway::testing::TempPath;

testing::Servers* const servers = testing::AddServers("client");

client::GatewayClient Client() {
  client::ClientOptions options;
  options.target = absl::StrCat("127.0.0.1:", servers->gateway->port());
  return client::GatewayClient(options);
}

v1::GenerateRequest Prompt(const std::string& model, const std::string& text) {
  v1::GenerateRequest request;
  request.set_model(model);
  request.set_prompt(text);
  return request;
}

// llmgw with LLM_GATEWAY_ADDR pointing at the test gateway; stderr to `err`
// when given (so progress lines can be read apart from stdout).
RunResult Llmgw(const std::string& args, const std::string& err = "") {
  // In braces: RunToExit sends the group's stderr to stdout, not llmgw's.
  return RunToExit(absl::StrCat("{ LLM_GATEWAY_ADDR=127.0.0.1:", servers->gateway->port(), " ",
                                RunfilePath("client/llmgw"), " ", args,
                                err.empty() ? "" : " 2>" + err, "; }"));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

google::protobuf::Struct ParseJson(const std::string& line) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &s).ok()) << line;
  return s;
}

TEST(ClientIntegrationTest, GenerateStreamAndBatchGenerate) {
  client::GatewayClient client = Client();
  absl::StatusOr<v1::GenerateResponse> response = client.Generate(Prompt("fake-model", "hi there"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->text(), "Echo: hi there lorem ipsum dolor sit amet");

  std::string streamed;
  ASSERT_TRUE(client
                  .GenerateStream(Prompt("fake-model", "hi there"),
                                  [&](const v1::GenerateStreamResponse& chunk) {
                                    streamed += chunk.text();
                                    return true;
                                  })
                  .ok());
  EXPECT_EQ(streamed, "Echo: hi there lorem ipsum dolor sit amet");

  v1::BatchGenerateRequest batch;
  *batch.add_requests() = Prompt("fake-model", "one");
  *batch.add_requests() = Prompt("fake-model?status=400", "two");
  std::map<int, v1::BatchGenerateResponse> items;
  ASSERT_TRUE(client.BatchGenerate(batch, [&](const v1::BatchGenerateResponse& item) {
    items[item.index()] = item;
  }).ok());
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].response().text().rfind("Echo: one", 0), 0u);
  EXPECT_EQ(items[1].error().code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(ClientIntegrationTest, ErrorsKeepTheGatewaysReason) {
  client::GatewayClient client = Client();
  absl::StatusOr<v1::GenerateResponse> response =
      client.Generate(Prompt("fake-model?status=429&code=insufficient_quota", "x"));
  ASSERT_FALSE(response.ok());
  std::optional<google::rpc::ErrorInfo> info = client::ErrorInfoOf(response.status());
  ASSERT_TRUE(info.has_value()) << response.status();
  EXPECT_EQ(info->reason(), "QUOTA_EXHAUSTED");
}

TEST(ClientIntegrationTest, FiveHundredAsyncCallsFromOneThread) {
  constexpr int kCalls = 500;
  // Declared before the client, so they outlive its destructor, which waits
  // for the callbacks to be wholly done.
  absl::Mutex mu;
  int done = 0;
  std::vector<std::string> failures;
  client::GatewayClient client = Client();
  for (int i = 0; i < kCalls; ++i) {
    const std::string word = absl::StrCat("n", i);
    client.GenerateAsync(Prompt("fake-model?delay_ms=200", word),
                         [&, word](absl::StatusOr<v1::GenerateResponse> r) {
                           absl::MutexLock lock(&mu);
                           ++done;
                           if (!r.ok()) {
                             failures.push_back(r.status().ToString());
                           } else if (r->text().rfind("Echo: " + word + " ", 0) != 0) {
                             failures.push_back(word + " got " + r->text());
                           }
                         });
  }
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(+[](int* d) { return *d == kCalls; }, &done));
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
}

TEST(ClientIntegrationTest, TheReadmeExampleIsTheOneThatRuns) {
  const std::string example = ReadFile(RunfilePath("client/examples/hello.cc"));
  ASSERT_FALSE(example.empty());
  EXPECT_NE(ReadFile(RunfilePath("README.md")).find("```cpp\n" + example + "```"), std::string::npos)
      << "README.md must show client/examples/hello.cc verbatim";
  RunResult run = RunToExit(absl::StrCat(RunfilePath("client/examples/hello"), " 127.0.0.1:",
                                         servers->gateway->port()));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output,
            "Echo: Hello! lorem ipsum dolor sit amet consectetur\n"
            "Echo: Hello! lorem ipsum dolor sit amet consectetur\n"
            "OK\n");
}

TEST(LlmgwTest, GenerateStreamAndModelsPrintTheAnswer) {
  RunResult generate = Llmgw("generate --model=fake-model hi there");
  EXPECT_EQ(generate.exit_code, 0) << generate.output;
  EXPECT_EQ(generate.output, "Echo: hi there lorem ipsum dolor sit amet\n");

  RunResult stream = Llmgw("stream --model=fake-model hi there");
  EXPECT_EQ(stream.exit_code, 0) << stream.output;
  EXPECT_EQ(stream.output, "Echo: hi there lorem ipsum dolor sit amet\n");

  RunResult json = Llmgw("generate --json --model=fake-model hi");
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(ParseJson(json.output).fields().at("text").string_value(),
            "Echo: hi lorem ipsum dolor sit amet consectetur");

  RunResult models = Llmgw("models");
  EXPECT_EQ(models.exit_code, 0) << models.output;
}

TEST(LlmgwTest, ExitStatusIsTheGrpcCode) {
  RunResult bad = Llmgw("generate --model=fake-model?status=400 hi");
  EXPECT_EQ(bad.exit_code, 3) << bad.output;  // INVALID_ARGUMENT
  EXPECT_NE(bad.output.find("error: INVALID_ARGUMENT"), std::string::npos) << bad.output;

  RunResult unknown_job = Llmgw("batch status no-such-job");
  EXPECT_EQ(unknown_job.exit_code, 5) << unknown_job.output;  // NOT_FOUND

  RunResult usage = Llmgw("generate hi");
  EXPECT_EQ(usage.exit_code, 64) << usage.output;
  EXPECT_NE(usage.output.find("--model is required"), std::string::npos);

  RunResult unreachable = RunToExit(absl::StrCat(RunfilePath("client/llmgw"), " --addr=127.0.0.1:",
                                                 testing::UnusedPort(),
                                                 " --max_attempts=1 --timeout=5s models"));
  EXPECT_EQ(unreachable.exit_code, 14) << unreachable.output;  // UNAVAILABLE
}

TEST(LlmgwTest, BatchRoundTripFromOpenAiJsonlToOpenAiJsonl) {
  const std::string input = TempPath("batch-input.jsonl");
  {
    std::ofstream out(input);
    out << R"({"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "fake-model", "messages": [{"role": "user", "content": "alpha"}]}})"
        << "\n"
        << R"({"custom_id": "b", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "fake-model?status=400", "messages": [{"role": "user", "content": "beta"}]}})"
        << "\n\n"
        << R"({"custom_id": "c", "body": {"model": "fake-model?delay_ms=300", "messages": [{"role": "user", "content": "gamma"}], "max_tokens": 2}})"
        << "\n";
  }
  RunResult submit = Llmgw("batch submit " + input);
  ASSERT_EQ(submit.exit_code, 0) << submit.output;
  const std::string id(absl::StripTrailingAsciiWhitespace(submit.output));
  ASSERT_FALSE(id.empty());

  const std::string progress = TempPath("batch-progress.txt");
  RunResult status = Llmgw("batch status --wait --poll_interval=50ms " + id, progress);
  EXPECT_EQ(status.exit_code, 0) << status.output << ReadFile(progress);
  EXPECT_NE(status.output.find("SUCCEEDED, 3 of 3 done (2 succeeded, 1 failed)"), std::string::npos)
      << status.output;
  // Off a terminal: plain progress lines, the last one the job's end.
  std::vector<std::string> lines = absl::StrSplit(ReadFile(progress), '\n', absl::SkipEmpty());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), absl::StrCat("job ", id, ": SUCCEEDED, 3 of 3 done (2 succeeded, 1 failed)"));
  EXPECT_EQ(ReadFile(progress).find('\r'), std::string::npos);

  const std::string output = TempPath("batch-output.jsonl");
  RunResult results = Llmgw("batch results --output=" + output + " " + id);
  ASSERT_EQ(results.exit_code, 0) << results.output;
  std::vector<std::string> out_lines = absl::StrSplit(ReadFile(output), '\n', absl::SkipEmpty());
  ASSERT_EQ(out_lines.size(), 3u);
  google::protobuf::Struct a = ParseJson(out_lines[0]);
  EXPECT_EQ(a.fields().at("custom_id").string_value(), "a");
  EXPECT_EQ(a.fields().at("response").struct_value().fields().at("status_code").number_value(), 200);
  const auto& choice = a.fields().at("response").struct_value().fields().at("body").struct_value()
                           .fields().at("choices").list_value().values(0).struct_value().fields();
  EXPECT_EQ(choice.at("message").struct_value().fields().at("content").string_value(),
            "Echo: alpha lorem ipsum dolor sit amet consectetur");
  google::protobuf::Struct b = ParseJson(out_lines[1]);
  EXPECT_EQ(b.fields().at("custom_id").string_value(), "b");
  EXPECT_EQ(b.fields().at("response").kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_FALSE(b.fields().at("error").struct_value().fields().at("code").string_value().empty());
  google::protobuf::Struct c = ParseJson(out_lines[2]);
  EXPECT_EQ(c.fields().at("custom_id").string_value(), "c");
  const auto& c_choice = c.fields().at("response").struct_value().fields().at("body").struct_value()
                             .fields().at("choices").list_value().values(0).struct_value().fields();
  EXPECT_EQ(c_choice.at("finish_reason").string_value(), "length");

  // Resuming from an index gives the rest, appended to the same file.
  RunResult resumed = Llmgw("batch results --start_index=2 --output=" + output + " " + id);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  std::vector<std::string> after = absl::StrSplit(ReadFile(output), '\n', absl::SkipEmpty());
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after[3], out_lines[2]);

  RunResult listed = Llmgw("batch list");
  EXPECT_NE(listed.output.find(id), std::string::npos) << listed.output;
}

TEST(LlmgwTest, ABadBatchFileNamesTheLineAndField) {
  const std::string input = TempPath("bad-input.jsonl");
  {
    std::ofstream out(input);
    out << R"({"custom_id": "a", "body": {"model": "fake-model", "messages": [{"role": "user", "content": "x"}]}})"
        << "\n"
        << R"({"custom_id": "b", "body": {"model": "fake-model", "messages": [{"role": "robot", "content": "x"}]}})"
        << "\n";
  }
  RunResult submit = Llmgw("batch submit " + input);
  EXPECT_EQ(submit.exit_code, 3) << submit.output;
  EXPECT_NE(submit.output.find("line 2: body.messages[0].role: \"robot\" is not one of"),
            std::string::npos)
      << submit.output;
}

}  // namespace
}  // namespace llmgateway
