// llmgw: the gateway from a shell. Flags and the environment become a
// GatewayClient and CliFlags; each command lives in its own file.
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/cli/cli.h"
#include "client/gateway_client.h"

ABSL_FLAG(std::string, addr, "",
          "gateway address (host:port or any gRPC target); default $LLM_GATEWAY_ADDR, "
          "else localhost:50051");
ABSL_FLAG(std::string, api_key_env, "LLM_GATEWAY_API_KEY",
          "environment variable holding the API key for a gateway with caller auth "
          "(sent as `authorization: Bearer KEY`; unset or empty: none)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(120),
          "deadline of each call (generate, stream, each poll); 0 for none");
ABSL_FLAG(int, max_attempts, 3, "attempts of a call that fails with UNAVAILABLE (1: no retry)");
ABSL_FLAG(bool, tls, false, "connect with TLS, trusting the system's CAs (see --tls_ca)");
ABSL_FLAG(std::string, tls_ca, "", "connect with TLS, trusting the CAs in this PEM file");
ABSL_FLAG(std::string, tls_cert, "",
          "mTLS: present this client certificate (PEM; with --tls_key; implies TLS)");
ABSL_FLAG(std::string, tls_key, "", "mTLS: the private key of --tls_cert (PEM)");
ABSL_FLAG(bool, json, false, "print results as JSON lines (grpcurl's field names)");
ABSL_FLAG(std::string, model, "", "generate, stream: the model (as ListModels names it)");
ABSL_FLAG(std::string, system, "", "generate, stream: a system message before the prompt");
ABSL_FLAG(int, max_tokens, 0, "generate, stream: output token limit (0: the model's default)");
ABSL_FLAG(double, temperature, -1, "generate, stream: sampling temperature (<0: the model's default)");
ABSL_FLAG(std::vector<std::string>, labels, {},
          "key=value,... labels of the call or job (for logs and metrics)");
ABSL_FLAG(std::string, display_name, "", "batch submit: the job's name (default: the file's)");
ABSL_FLAG(int, max_concurrency, 0, "batch submit: items in flight at once (0: the gateway's default)");
ABSL_FLAG(std::string, request_id, "",
          "batch submit: idempotency key (the same id never creates a second job)");
ABSL_FLAG(bool, wait, false, "batch submit, status, results: wait for the job to end, showing progress");
ABSL_FLAG(absl::Duration, poll_interval, absl::Seconds(1), "batch --wait: time between polls");
ABSL_FLAG(std::string, output, "", "batch results: write JSONL here instead of stdout");
ABSL_FLAG(int, start_index, 0, "batch results: first item index to fetch (resume a read)");

namespace {

constexpr char kUsage[] =
    "call an llm-gateway from the shell.\n"
    "\n"
    "  llmgw generate --model=M [--system=S] PROMPT...   (PROMPT - or none: stdin)\n"
    "  llmgw stream   --model=M PROMPT...                tokens as they arrive\n"
    "  llmgw models\n"
    "  llmgw batch submit FILE.jsonl [--wait]            OpenAI batch input lines\n"
    "  llmgw batch status ID [--wait]\n"
    "  llmgw batch results ID [--wait] [--output=F] [--start_index=N]   OpenAI batch output lines\n"
    "  llmgw batch cancel ID\n"
    "  llmgw batch list\n"
    "\n"
    "Exit status: 0, the gRPC code of a failed call (1-16), 64 for a bad command line.";

}  // namespace

int main(int argc, char** argv) {
  using namespace llmgateway;
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  if (args.empty()) {
    absl::FPrintF(stderr, "llmgw: %s\n", kUsage);
    return cli::kUsageExit;
  }

  client::ClientOptions options;
  options.target = absl::GetFlag(FLAGS_addr);
  if (options.target.empty()) {
    const char* env = std::getenv("LLM_GATEWAY_ADDR");
    options.target = env != nullptr && *env != '\0' ? env : "localhost:50051";
  }
  // A key on the command line would show in `ps` and shell history.
  if (const char* key = std::getenv(absl::GetFlag(FLAGS_api_key_env).c_str()); key != nullptr) {
    options.api_key = key;
  }
  options.timeout = absl::GetFlag(FLAGS_timeout);
  if (options.timeout <= absl::ZeroDuration()) options.timeout = absl::InfiniteDuration();
  options.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  const std::string tls_ca = absl::GetFlag(FLAGS_tls_ca);
  const std::string tls_cert = absl::GetFlag(FLAGS_tls_cert);
  const std::string tls_key = absl::GetFlag(FLAGS_tls_key);
  if (absl::GetFlag(FLAGS_tls) || !tls_ca.empty() || !tls_cert.empty() || !tls_key.empty()) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        client::TlsCredentialsFromFiles(tls_ca, tls_cert, tls_key);
    if (!credentials.ok()) {
      absl::FPrintF(stderr, "error: --tls_ca/--tls_cert/--tls_key: %s\n",
                    credentials.status().message());
      return cli::kUsageExit;
    }
    options.credentials = *std::move(credentials);
  }

  cli::CliFlags flags;
  flags.json = absl::GetFlag(FLAGS_json);
  flags.model = absl::GetFlag(FLAGS_model);
  flags.system = absl::GetFlag(FLAGS_system);
  flags.max_tokens = absl::GetFlag(FLAGS_max_tokens);
  flags.temperature = absl::GetFlag(FLAGS_temperature);
  for (const std::string& label : absl::GetFlag(FLAGS_labels)) {
    std::pair<std::string, std::string> kv = absl::StrSplit(label, absl::MaxSplits('=', 1));
    if (kv.first.empty() || label.find('=') == std::string::npos) {
      absl::FPrintF(stderr, "error: --labels: \"%s\" is not key=value\n", label);
      return cli::kUsageExit;
    }
    flags.labels[kv.first] = kv.second;
  }
  flags.display_name = absl::GetFlag(FLAGS_display_name);
  flags.max_concurrency = absl::GetFlag(FLAGS_max_concurrency);
  flags.request_id = absl::GetFlag(FLAGS_request_id);
  flags.wait = absl::GetFlag(FLAGS_wait);
  flags.poll_interval = absl::GetFlag(FLAGS_poll_interval);
  flags.output = absl::GetFlag(FLAGS_output);
  flags.start_index = absl::GetFlag(FLAGS_start_index);
  flags.progress_tty = isatty(STDERR_FILENO) != 0;

  client::GatewayClient client(options);
  const std::string name = args[0];
  cli::Command command{client, flags, std::vector<std::string>(args.begin() + 1, args.end())};
  if (name == "generate") return cli::RunGenerate(command);
  if (name == "stream") return cli::RunStream(command);
  if (name == "models") return cli::RunModels(command);
  if (name == "batch") return cli::RunBatch(command);
  absl::FPrintF(stderr, "error: unknown command \"%s\"\n\n%s\n", name, kUsage);
  return cli::kUsageExit;
}
