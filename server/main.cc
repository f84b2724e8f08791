// llm_gateway: the gRPC front door for LLM providers. Flags alone serve the
// common case; --config serves everything else, and flags override it.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/ascii.h"
#include "server/auth/api_key.h"
#include "absl/synchronization/mutex.h"
#include "server/common/log.h"
#include "server/common/memory_trimmer.h"
#include "server/config/config_loader.h"
#include "server/gateway_server.h"
#include "server/metrics/gateway_metrics.h"

ABSL_FLAG(std::string, config, "", "Path of a textproto config (server/config/config.proto).");
ABSL_FLAG(std::string, listen, "", "gRPC listen address HOST:PORT (default 0.0.0.0:50051).");
ABSL_FLAG(std::string, openai_base_url, "",
          "Base URL of an OpenAI-compatible upstream (e.g. https://api.openai.com/v1); "
          "any model name then passes through to it unchanged.");
ABSL_FLAG(std::string, openai_api_key_env, "OPENAI_API_KEY",
          "Name of the environment variable holding that upstream's API key.");
ABSL_FLAG(std::string, metrics_listen, "",
          "Serve Prometheus metrics on http://HOST:PORT/metrics (IPv4; default: the "
          "config's metrics_listen, else off).");
ABSL_FLAG(std::string, batch_store, "",
          "Path of the batch job store, an SQLite file (default: the config's "
          "batch.store_path, else llm_gateway.db in the working directory).");
ABSL_FLAG(std::string, log_format, "",
          "Log lines on stderr as \"text\" or \"json\" (one JSON object per line; "
          "default: the config's log_format, else text).");
ABSL_FLAG(bool, hash_api_key, false,
          "Read a caller's API key from stdin, print its SHA-256 (config auth.keys.sha256) "
          "and exit.");
ABSL_FLAG(bool, generate_api_key, false,
          "Print a new random caller API key and its config entry, then exit.");
ABSL_FLAG(std::string, tls_cert, "",
          "Serve TLS with this certificate chain (PEM; with --tls_key). SIGHUP re-reads the "
          "TLS files (default: the config's tls.cert_file, else plaintext).");
ABSL_FLAG(std::string, tls_key, "", "The private key of --tls_cert (PEM, unencrypted).");
ABSL_FLAG(std::string, tls_client_ca, "",
          "mTLS: require client certificates issued by these CAs (PEM bundle).");
ABSL_FLAG(std::string, drain_timeout, "",
          "How long SIGTERM lets calls in flight finish before cancelling them, "
          "e.g. 30s (default: the config's drain_timeout, else 30s).");

namespace {

// Every open upstream stream holds a socket (HTTP/1.1 upstreams: one per
// stream), so a gateway serving thousands of streams needs more descriptors
// than the usual soft limit of 1024: take what the hard limit allows.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// --hash_api_key and --generate_api_key: the key never goes on a command
// line (shell history, ps) and never into the gateway's config.
int HashApiKeyFromStdin() {
  std::string key;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), stdin)) > 0) key.append(buffer, n);
  const absl::string_view trimmed = absl::StripAsciiWhitespace(key);
  if (trimmed.empty()) {
    std::fprintf(stderr, "--hash_api_key: no key on stdin\n");
    return 2;
  }
  std::printf("%s\n", llmgateway::auth::Sha256Hex(trimmed).c_str());
  return 0;
}

int GenerateApiKey() {
  const std::string key = llmgateway::auth::GenerateApiKey();
  std::printf(
      "key (give it to the caller; it is not kept anywhere):\n  %s\n"
      "config (in auth { ... }; choose the id):\n"
      "  keys { id: \"NAME\" sha256: \"%s\" }\n",
      key.c_str(), llmgateway::auth::Sha256Hex(key).c_str());
  return 0;
}

std::optional<std::string> IfSet(const absl::Flag<std::string>& flag) {
  std::string value = absl::GetFlag(flag);
  if (value.empty()) return std::nullopt;
  return value;
}

// The log writer thread runs from start-up (config read) to exit: lines
// are written off the gRPC and HTTP-loop threads. At exit what is queued is
// written, unless stderr stays blocked for `kLogFlushTimeout`: then the
// process exits without those lines rather than hang.
constexpr absl::Duration kLogFlushTimeout = absl::Seconds(5);

class LogWriterScope {
 public:
  LogWriterScope() {
    llmgateway::StartLogWriter([] { llmgateway::metrics::RecordLogLineDropped(); });
  }
  ~LogWriterScope() {
    if (llmgateway::FlushLogs(kLogFlushTimeout)) llmgateway::StopLogWriter();
  }
};

// Freed heap goes back to the system within seconds of a burst (a flood
// of resets, a batch of huge prompts): glibc would keep it in its arenas.
constexpr absl::Duration kTrimInterval = absl::Seconds(5);
constexpr size_t kTrimThreshold = size_t{64} << 20;

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "llm_gateway --openai_base_url=URL [--listen=HOST:PORT] [--config=FILE]");
  // absl's --help lists only flags defined in a file named after the
  // binary (llm_gateway.cc): "No flags matched". The gateway's are here.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "server/");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
#ifdef NDEBUG
  // Debian's Abseil is built with absl::Mutex's deadlock detector on: every
  // lock records its order in a global graph (GraphCycles), a few percent of
  // the CPU per call. Optimized builds turn it off; fastbuild and the
  // sanitizer builds the tests run keep it, so a lock-order cycle still shows.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  if (absl::GetFlag(FLAGS_hash_api_key)) return HashApiKeyFromStdin();
  if (absl::GetFlag(FLAGS_generate_api_key)) return GenerateApiKey();
  using namespace llmgateway;
  RaiseFileLimit();
  // The flag's format from the first line on (config errors included).
  std::optional<std::string> log_format = IfSet(FLAGS_log_format);
  if (LogFormat format; log_format.has_value()) {
    if (!ParseLogFormat(*log_format, &format)) {
      LogError("--log_format: \"", *log_format, "\" is neither text nor json");
      return 2;
    }
    SetLogFormat(format);
  }

  config::GatewayConfig gateway_config;
  if (const std::string path = absl::GetFlag(FLAGS_config); !path.empty()) {
    absl::StatusOr<config::GatewayConfig> loaded = config::LoadConfigFile(path);
    if (!loaded.ok()) {
      LogError(loaded.status().message());
      return 2;
    }
    gateway_config = *std::move(loaded);
  }
  config::Overrides overrides;
  overrides.listen = IfSet(FLAGS_listen);
  overrides.batch_store = IfSet(FLAGS_batch_store);
  overrides.metrics_listen = IfSet(FLAGS_metrics_listen);
  overrides.log_format = log_format;
  overrides.openai_base_url = IfSet(FLAGS_openai_base_url);
  overrides.tls_cert = IfSet(FLAGS_tls_cert);
  overrides.tls_key = IfSet(FLAGS_tls_key);
  overrides.tls_client_ca = IfSet(FLAGS_tls_client_ca);
  // The key variable's name matters only with a base URL (or a config entry
  // named "openai"); its default must not invent a provider.
  if (overrides.openai_base_url.has_value() ||
      absl::GetFlag(FLAGS_openai_api_key_env) != "OPENAI_API_KEY") {
    overrides.openai_api_key_env = absl::GetFlag(FLAGS_openai_api_key_env);
  }
  if (const std::string drain = absl::GetFlag(FLAGS_drain_timeout); !drain.empty()) {
    absl::Duration timeout;
    if (!absl::ParseDuration(drain, &timeout) || timeout < absl::ZeroDuration()) {
      LogError("--drain_timeout: \"", drain, "\" is not a duration like 30s");
      return 2;
    }
    gateway_config.mutable_drain_timeout()->set_seconds(absl::ToInt64Seconds(timeout));
    gateway_config.mutable_drain_timeout()->set_nanos(static_cast<int32_t>(
        absl::ToInt64Nanoseconds(timeout - absl::Seconds(absl::ToInt64Seconds(timeout)))));
  }
  config::ApplyOverrides(overrides, &gateway_config);
  config::ApplyDefaults(&gateway_config);
  if (absl::Status valid = config::ValidateConfig(gateway_config); !valid.ok()) {
    LogError(valid.message());
    return 2;
  }
  if (LogFormat format; ParseLogFormat(gateway_config.log_format(), &format)) {
    SetLogFormat(format);
  }

  // Block SIGINT/SIGTERM in every thread (threads inherit the mask) and take
  // them with sigwait below: shutting gRPC down from a signal handler would
  // not be async-signal-safe. With TLS, SIGHUP too (it re-reads the
  // certificates); without, SIGHUP keeps its default (it ends the process).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t wait_signals = stop_signals;
  if (!gateway_config.tls().cert_file().empty()) sigaddset(&wait_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &wait_signals, nullptr);

  // After the mask: the writer thread must not take the stop signals.
  LogWriterScope log_writer;
  MemoryTrimmer trimmer(kTrimInterval, kTrimThreshold);
  absl::StatusOr<std::unique_ptr<GatewayServer>> server = GatewayServer::Start(gateway_config);
  if (!server.ok()) {
    LogError(server.status().message());
    return 1;
  }
  const std::string host = gateway_config.listen().substr(0, gateway_config.listen().rfind(':'));
  // Tests and scripts read this line to learn the port (--listen=HOST:0).
  std::printf("llm-gateway listening on %s:%d\n", host.c_str(), (*server)->port());
  std::fflush(stdout);
  LogInfo("serving ", gateway_config.providers_size(), " provider(s), ",
          gateway_config.models_size(), " model alias(es)",
          gateway_config.default_provider().empty()
              ? std::string()
              : ", pass-through to \"" + gateway_config.default_provider() + "\"");
  if ((*server)->metrics_port() != 0) {
    const std::string& metrics = gateway_config.metrics_listen();
    LogInfo("metrics on http://", metrics.substr(0, metrics.rfind(':')), ":",
            (*server)->metrics_port(), "/metrics");
  }

  if ((*server)->tls_enabled()) {
    LogInfo("TLS on the gRPC port: ", (*server)->tls_summary(),
            gateway_config.tls().client_ca_file().empty()
                ? std::string()
                : gateway_config.tls().client_cert_optional()
                      ? "; client certificates checked when presented"
                      : "; client certificates required");
  }

  int signal_number = 0;
  while (true) {
    sigwait(&wait_signals, &signal_number);
    if (signal_number != SIGHUP) break;
    absl::StatusOr<std::string> reloaded = (*server)->ReloadTls();
    if (reloaded.ok()) {
      LogInfo("SIGHUP: TLS certificates reloaded (", *reloaded,
              "); new connections get them within ", tls::kRefreshIntervalSeconds, " s");
    } else {
      LogError("SIGHUP: TLS reload failed, still serving the previous certificates: ",
               reloaded.status().message());
    }
  }
  const absl::Duration drain_timeout =
      absl::Seconds(gateway_config.drain_timeout().seconds()) +
      absl::Nanoseconds(gateway_config.drain_timeout().nanos());
  LogInfo("signal ", signal_number, ": draining (up to ",
          absl::FormatDuration(drain_timeout), "; a second signal exits at once)");
  // The signals stay blocked everywhere: this thread alone takes the second one.
  std::thread([stop_signals] {
    int second = 0;
    sigwait(&stop_signals, &second);
    LogWarning("signal ", second, " during drain: exiting now");
    // Briefly: "at once" wins over the last lines if stderr is stuck.
    FlushLogs(absl::Seconds(1));
    std::_Exit(1);
  }).detach();
  const int cancelled = (*server)->Drain(drain_timeout);
  if (cancelled > 0) LogWarning("drain timeout: cancelled ", cancelled, " call(s) still running");
  // Room for the last line: with the queue still full of call lines (a slow
  // stderr) it would be dropped, and it is the one operators wait for.
  FlushLogs(absl::Seconds(5));
  LogInfo("drained; exiting");
  server->reset();
  return 0;
}
