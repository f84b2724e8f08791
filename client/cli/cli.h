// llmgw, the command-line client: what every command gets (the client, the
// parsed flags) and the commands themselves. main.cc parses flags; the
// commands never read flags directly.
#ifndef LLM_GATEWAY_CLIENT_CLI_CLI_H_
#define LLM_GATEWAY_CLIENT_CLI_CLI_H_

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/gateway_client.h"

namespace llmgateway::cli {

// Exit status for a bad command line: above every gRPC code (0-16), which
// are the exit statuses of failed calls.
inline constexpr int kUsageExit = 64;

struct CliFlags {
  bool json = false;
  // generate / stream
  std::string model;
  std::string system;
  int max_tokens = 0;          // 0: the model's default
  double temperature = -1;     // < 0: the model's default
  std::map<std::string, std::string> labels;
  // batch
  std::string display_name;
  int max_concurrency = 0;
  std::string request_id;
  bool wait = false;
  absl::Duration poll_interval = absl::Seconds(1);
  std::string output;          // results file; empty: stdout
  int start_index = 0;
  // Progress: a redrawn bar on a terminal, plain lines otherwise.
  bool progress_tty = false;
};

struct Command {
  client::GatewayClient& client;
  const CliFlags& flags;
  std::vector<std::string> args;  // after the command's own name(s)
  FILE* out = stdout;
  FILE* err = stderr;
};

// Each returns the process's exit status.
int RunGenerate(Command& command);
int RunStream(Command& command);
int RunModels(Command& command);
int RunBatch(Command& command);  // args[0]: submit, status, results, cancel, list

// The exit status for a call's result: its gRPC code (0 for OK).
int ExitCode(const absl::Status& status);

// Prints "error: CODE (REASON): message" on `err` and returns ExitCode.
int ReportError(FILE* err, const absl::Status& status);

// A protobuf message as one line of JSON (grpcurl's field names).
std::string ToJson(const google::protobuf::Message& message);

}  // namespace llmgateway::cli

#endif  // LLM_GATEWAY_CLIENT_CLI_CLI_H_
