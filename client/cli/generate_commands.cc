// llmgw generate, stream and models: one request from the command line.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <map>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/cli.h"

namespace llmgateway::cli {
namespace {

namespace v1 = ::llmgateway::v1;

// The prompt is the arguments joined by spaces, or stdin when there are
// none or the only one is "-".
std::string Prompt(const std::vector<std::string>& args) {
  if (args.empty() || (args.size() == 1 && args[0] == "-")) {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  return absl::StrJoin(args, " ");
}

// The request the flags and arguments describe, or a usage error.
bool BuildRequest(Command& command, v1::GenerateRequest* request) {
  const CliFlags& f = command.flags;
  if (f.model.empty()) {
    absl::FPrintF(command.err, "error: --model is required\n");
    return false;
  }
  request->set_model(f.model);
  if (!f.system.empty()) {
    v1::Message* system = request->add_messages();
    system->set_role(v1::ROLE_SYSTEM);
    system->add_parts()->set_text(f.system);
  }
  v1::Message* user = request->add_messages();
  user->set_role(v1::ROLE_USER);
  user->add_parts()->set_text(Prompt(command.args));
  if (f.max_tokens > 0) request->mutable_config()->set_max_output_tokens(f.max_tokens);
  if (f.temperature >= 0) request->mutable_config()->set_temperature(f.temperature);
  request->mutable_labels()->insert(f.labels.begin(), f.labels.end());
  return true;
}

void PrintToolCall(FILE* out, const std::string& id, const std::string& name,
                   const std::string& arguments) {
  absl::FPrintF(out, "tool call %s: %s(%s)\n", id, name, arguments);
}

}  // namespace

int RunGenerate(Command& command) {
  v1::GenerateRequest request;
  if (!BuildRequest(command, &request)) return kUsageExit;
  absl::StatusOr<v1::GenerateResponse> response = command.client.Generate(request);
  if (!response.ok()) return ReportError(command.err, response.status());
  if (command.flags.json) {
    absl::FPrintF(command.out, "%s\n", ToJson(*response));
    return 0;
  }
  if (!response->text().empty()) absl::FPrintF(command.out, "%s\n", response->text());
  for (const v1::Part& part : response->message().parts()) {
    if (part.has_tool_call()) {
      PrintToolCall(command.out, part.tool_call().id(), part.tool_call().name(),
                    part.tool_call().arguments());
    }
  }
  return 0;
}

int RunStream(Command& command) {
  v1::GenerateRequest request;
  if (!BuildRequest(command, &request)) return kUsageExit;
  // Tool calls arrive in pieces by index: printed whole at the end.
  struct Call {
    std::string id, name, arguments;
  };
  std::map<int, Call> calls;
  bool wrote_text = false;
  absl::Status status = command.client.GenerateStream(request, [&](const v1::GenerateStreamResponse& chunk) {
    if (command.flags.json) {
      absl::FPrintF(command.out, "%s\n", ToJson(chunk));
    } else {
      if (!chunk.text().empty()) {
        std::fwrite(chunk.text().data(), 1, chunk.text().size(), command.out);
        wrote_text = true;
      }
      for (const v1::ToolCallDelta& delta : chunk.tool_calls()) {
        Call& call = calls[delta.index()];
        call.id += delta.id();
        call.name += delta.name();
        call.arguments += delta.arguments();
      }
    }
    // Tokens as they arrive, not when a buffer fills.
    std::fflush(command.out);
    return true;
  });
  if (wrote_text) absl::FPrintF(command.out, "\n");
  for (const auto& [index, call] : calls) PrintToolCall(command.out, call.id, call.name, call.arguments);
  if (!status.ok()) return ReportError(command.err, status);
  return 0;
}

int RunModels(Command& command) {
  absl::StatusOr<std::vector<v1::Model>> models = command.client.ListModels();
  if (!models.ok()) return ReportError(command.err, models.status());
  for (const v1::Model& model : *models) {
    if (command.flags.json) {
      absl::FPrintF(command.out, "%s\n", ToJson(model));
    } else {
      absl::FPrintF(command.out, "%s\t%s\t%s%s\n", model.name(), model.provider(),
                    model.upstream_model(),
                    model.fallbacks().empty()
                        ? ""
                        : absl::StrCat("\tfallbacks: ", absl::StrJoin(model.fallbacks(), ",")));
    }
  }
  return 0;
}

}  // namespace llmgateway::cli
