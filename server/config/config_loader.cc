// Config parsing, overrides, defaults and validation.
#include "server/config/config_loader.h"

#include <fstream>
#include <limits>
#include <utility>
#include <sstream>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "server/tls/pem_files.h"
#include "server/config/limits_config.h"

namespace llmgateway::config {
namespace {

constexpr absl::string_view kDefaultListen = "0.0.0.0:50051";
constexpr int64_t kDefaultTimeoutSeconds = 600;
constexpr int64_t kDefaultConnectTimeoutSeconds = 10;
constexpr int64_t kDefaultDrainTimeoutSeconds = 30;
constexpr int kDefaultAnthropicMaxTokens = 4096;
constexpr int kMaxRetries = 10;
constexpr int kDefaultGenerateConcurrency = 8;
constexpr int kDefaultGenerateMaxConcurrency = 64;
constexpr absl::string_view kDefaultBatchStore = "llm_gateway.db";
constexpr int kDefaultJobConcurrency = 32;
constexpr int kDefaultJobMaxConcurrency = 256;
constexpr int64_t kDefaultBatchRequestBytes = int64_t{256} << 20;
constexpr int kDefaultBatchMaxItems = 50000;
constexpr int64_t kDefaultRetentionSeconds = 7 * 24 * 3600;

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit CollectErrors(absl::string_view source) : source_(source) {}
  void AddError(int line, int column, const std::string& message) override {
    // The parser counts from 0; editors count from 1.
    errors_.push_back(absl::StrCat(source_, ":", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, int column, const std::string& message) override {}
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::string source_;
  std::vector<std::string> errors_;
};

void ApplyBatchDefaults(Batch* batch) {
  auto set_default = [](auto value, auto fallback) { return value == 0 ? fallback : value; };
  batch->set_generate_default_concurrency(
      set_default(batch->generate_default_concurrency(), kDefaultGenerateConcurrency));
  batch->set_generate_max_concurrency(
      set_default(batch->generate_max_concurrency(), kDefaultGenerateMaxConcurrency));
  if (batch->store_path().empty()) batch->set_store_path(std::string(kDefaultBatchStore));
  batch->set_job_default_concurrency(
      set_default(batch->job_default_concurrency(), kDefaultJobConcurrency));
  batch->set_job_max_concurrency(
      set_default(batch->job_max_concurrency(), kDefaultJobMaxConcurrency));
  batch->set_max_request_bytes(
      set_default(batch->max_request_bytes(), kDefaultBatchRequestBytes));
  batch->set_max_items(set_default(batch->max_items(), kDefaultBatchMaxItems));
}

absl::Status FieldError(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("config: ", field, ": ", problem));
}

bool IsHostPort(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  int port = 0;
  return absl::SimpleAtoi(address.substr(colon + 1), &port) && port >= 0 &&
         port <= 65535;
}

bool IsValidEnvName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

// RFC 9110 token: what a header name may hold.
bool IsHeaderName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && !absl::StrContains("!#$%&'*+-.^_`|~", c)) return false;
  }
  return true;
}

// A header value may not end the header early (CR, LF) or smuggle a NUL.
bool IsHeaderValue(absl::string_view value) {
  return value.find_first_of(absl::string_view("\r\n\0", 3)) == absl::string_view::npos;
}

absl::Status ValidateHttpShape(const HttpShape& http, const std::string& field) {
  if (!http.path().empty() && http.path()[0] != '/') {
    return FieldError(field + ".path", "must start with \"/\"");
  }
  for (const auto& [key, value] : http.query()) {
    if (key.empty()) return FieldError(field + ".query", "has an empty key");
  }
  if (!http.auth_header().empty() && !IsHeaderName(http.auth_header())) {
    return FieldError(field + ".auth_header", "is not a header name");
  }
  if (!IsHeaderValue(http.auth_scheme()) || absl::StrContains(http.auth_scheme(), ' ')) {
    return FieldError(field + ".auth_scheme", "must be one word, like \"Bearer\"");
  }
  for (int j = 0; j < http.headers_size(); ++j) {
    const HttpHeader& header = http.headers(j);
    const std::string hfield = absl::StrCat(field, ".headers[", j, "]");
    if (!IsHeaderName(header.name())) return FieldError(hfield + ".name", "is not a header name");
    const std::string lower = absl::AsciiStrToLower(header.name());
    // The gateway's own: a second one would make the request ambiguous.
    if (lower == "content-type" || lower == "accept" || lower == "content-length" ||
        lower == "x-request-id" || lower == absl::AsciiStrToLower(http.auth_header().empty()
                                                                      ? "Authorization"
                                                                      : http.auth_header())) {
      return FieldError(hfield + ".name",
                        absl::StrCat("\"", header.name(), "\" is set by the gateway"));
    }
    if (header.value().empty() == header.value_env().empty()) {
      return FieldError(hfield, "set value or value_env, one of them");
    }
    if (!IsHeaderValue(header.value())) {
      return FieldError(hfield + ".value", "must not hold CR, LF or NUL");
    }
    if (!header.value_env().empty() && !IsValidEnvName(header.value_env())) {
      return FieldError(hfield + ".value_env",
                        "must be the NAME of an environment variable (letters, digits, _)");
    }
  }
  return absl::OkStatus();
}

void SetKindDefaults(Provider* provider) {
  if (provider->has_capabilities()) return;
  Capabilities* capabilities = provider->mutable_capabilities();
  if (provider->kind() == "openai") {
    capabilities->add_unsupported_fields("config.top_k");
    for (const char* type : {"image/png", "image/jpeg", "image/webp", "image/gif",
                             "audio/wav", "audio/x-wav", "audio/mpeg", "audio/mp3",
                             "application/pdf"}) {
      capabilities->add_media_types(type);
    }
  } else if (provider->kind() == "anthropic") {
    // The Messages API has no seed and no penalties; it reads images and PDFs.
    for (const char* field :
         {"config.seed", "config.presence_penalty", "config.frequency_penalty"}) {
      capabilities->add_unsupported_fields(field);
    }
    for (const char* type :
         {"image/png", "image/jpeg", "image/webp", "image/gif", "application/pdf"}) {
      capabilities->add_media_types(type);
    }
  } else if (provider->kind() == "gemini") {
    // Every v1 field has a Gemini one (end_user_id aside, refused by the
    // adapter whatever the config says); Gemini reads all of these media.
    for (const char* type :
         {"image/*", "audio/*", "video/*", "application/pdf", "text/plain"}) {
      capabilities->add_media_types(type);
    }
  }
}

bool IsFieldPath(absl::string_view path) {
  if (path.empty() || path.front() == '.' || path.back() == '.') return false;
  for (char c : path) {
    if (!absl::ascii_islower(c) && c != '_' && c != '.') return false;
  }
  return true;
}

void SetDefaultDuration(google::protobuf::Duration* duration, int64_t seconds) {
  if (duration->seconds() == 0 && duration->nanos() == 0) duration->set_seconds(seconds);
}

bool IsNegative(const google::protobuf::Duration& d) { return d.seconds() < 0 || d.nanos() < 0; }

absl::Status ValidateRetry(const RetryPolicy& retry, const std::string& field) {
  if (retry.has_max_retries() && (retry.max_retries() < 0 || retry.max_retries() > kMaxRetries)) {
    return FieldError(field + ".max_retries", absl::StrCat("must be between 0 and ", kMaxRetries));
  }
  if (IsNegative(retry.initial_backoff())) {
    return FieldError(field + ".initial_backoff", "must not be negative");
  }
  if (IsNegative(retry.max_backoff())) {
    return FieldError(field + ".max_backoff", "must not be negative");
  }
  return absl::OkStatus();
}

absl::Status ValidateBatch(const Batch& batch) {
  const std::pair<absl::string_view, int64_t> positive[] = {
      {"generate_default_concurrency", batch.generate_default_concurrency()},
      {"generate_max_concurrency", batch.generate_max_concurrency()},
      {"job_default_concurrency", batch.job_default_concurrency()},
      {"job_max_concurrency", batch.job_max_concurrency()},
      {"max_request_bytes", batch.max_request_bytes()},
      {"max_items", batch.max_items()},
  };
  for (const auto& [name, value] : positive) {
    if (value < 0) return FieldError(absl::StrCat("batch.", name), "must not be negative");
  }
  // gRPC takes an int for its message size limit.
  if (batch.max_request_bytes() > std::numeric_limits<int>::max()) {
    return FieldError("batch.max_request_bytes",
                      absl::StrCat("must be at most ", std::numeric_limits<int>::max()));
  }
  if (IsNegative(batch.retention())) {
    return FieldError("batch.retention", "must not be negative");
  }
  return absl::OkStatus();
}

bool IsKeyId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

bool IsSha256Hex(absl::string_view hex) {
  if (hex.size() != 64) return false;
  for (char c : hex) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

absl::Status ValidateAuth(const Auth& auth) {
  absl::flat_hash_set<std::string> ids;
  absl::flat_hash_set<std::string> hashes;
  for (int i = 0; i < auth.keys_size(); ++i) {
    const ApiKey& key = auth.keys(i);
    const std::string field = absl::StrCat("auth.keys[", i, "]");
    if (!IsKeyId(key.id())) {
      return FieldError(field + ".id",
                        "must be 1-64 letters, digits, '_', '-' or '.' (it names the key in "
                        "logs and metrics)");
    }
    if (!ids.insert(key.id()).second) {
      return FieldError(field + ".id", absl::StrCat("\"", key.id(), "\" is used twice"));
    }
    if (!IsSha256Hex(key.sha256())) {
      return FieldError(field + ".sha256",
                        "must be the key's SHA-256 in lowercase hex (64 characters; "
                        "`llm_gateway --hash_api_key` prints it)");
    }
    if (!hashes.insert(key.sha256()).second) {
      return FieldError(field + ".sha256", "is another key's too");
    }
    for (int j = 0; j < key.models_size(); ++j) {
      const std::string& model = key.models(j);
      const size_t star = model.find('*');
      if (model.empty() || (star != std::string::npos && star != model.size() - 1)) {
        return FieldError(absl::StrCat(field, ".models[", j, "]"),
                          "must be a model name, or a prefix ending in '*'");
      }
    }
    const std::pair<absl::string_view, int64_t> limits[] = {
        {"requests_per_minute", key.requests_per_minute()},
        {"tokens_per_minute", key.tokens_per_minute()},
        {"token_budget", key.token_budget()},
        {"max_concurrent_streams", key.max_concurrent_streams()},
    };
    for (const auto& [name, value] : limits) {
      if (value < 0) return FieldError(absl::StrCat(field, ".", name), "must not be negative");
    }
  }
  return absl::OkStatus();
}

// A PEM file's problem with "config: " before it (it names field and path).
absl::Status PemError(const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("config: ", status.message()));
}

absl::Status ValidateServerTls(const ServerTls& tls) {
  if (tls.cert_file().empty() && tls.key_file().empty() && tls.client_ca_file().empty() &&
      !tls.client_cert_optional()) {
    return absl::OkStatus();  // plaintext
  }
  if (tls.cert_file().empty()) return FieldError("tls.cert_file", "is required to serve TLS");
  if (tls.key_file().empty()) {
    return FieldError("tls.key_file", "is required with tls.cert_file");
  }
  if (tls.client_cert_optional() && tls.client_ca_file().empty()) {
    return FieldError("tls.client_cert_optional",
                      "needs tls.client_ca_file (the CA client certificates are checked against)");
  }
  if (absl::StatusOr<tls::Identity> identity =
          tls::LoadIdentity({"tls.cert_file", tls.cert_file()}, {"tls.key_file", tls.key_file()});
      !identity.ok()) {
    return PemError(identity.status());
  }
  if (!tls.client_ca_file().empty()) {
    if (absl::StatusOr<std::string> bundle =
            tls::LoadCaBundle({"tls.client_ca_file", tls.client_ca_file()});
        !bundle.ok()) {
      return PemError(bundle.status());
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GatewayConfig> ParseConfigText(absl::string_view text,
                                              absl::string_view source) {
  GatewayConfig config;
  CollectErrors errors(source);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &config)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", absl::StrJoin(errors.errors(), "; ")));
  }
  return config;
}

absl::StatusOr<GatewayConfig> LoadConfigFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("config: cannot read ", path));
  std::stringstream text;
  text << file.rdbuf();
  return ParseConfigText(text.str(), path);
}

void ApplyOverrides(const Overrides& overrides, GatewayConfig* config) {
  if (overrides.listen.has_value()) config->set_listen(*overrides.listen);
  if (overrides.metrics_listen.has_value()) config->set_metrics_listen(*overrides.metrics_listen);
  if (overrides.log_format.has_value()) config->set_log_format(*overrides.log_format);
  if (overrides.batch_store.has_value()) {
    config->mutable_batch()->set_store_path(*overrides.batch_store);
  }
  if (overrides.tls_cert.has_value()) config->mutable_tls()->set_cert_file(*overrides.tls_cert);
  if (overrides.tls_key.has_value()) config->mutable_tls()->set_key_file(*overrides.tls_key);
  if (overrides.tls_client_ca.has_value()) {
    config->mutable_tls()->set_client_ca_file(*overrides.tls_client_ca);
  }
  if (!overrides.openai_base_url.has_value() && !overrides.openai_api_key_env.has_value()) {
    return;
  }
  Provider* openai = nullptr;
  for (Provider& provider : *config->mutable_providers()) {
    if (provider.name() == "openai") openai = &provider;
  }
  if (openai == nullptr) {
    openai = config->add_providers();
    openai->set_name("openai");
    openai->set_kind("openai");
    openai->set_api_key_env("OPENAI_API_KEY");
  }
  if (overrides.openai_base_url.has_value()) {
    openai->set_base_url(*overrides.openai_base_url);
    if (config->default_provider().empty()) config->set_default_provider("openai");
  }
  if (overrides.openai_api_key_env.has_value()) {
    openai->set_api_key_env(*overrides.openai_api_key_env);
  }
}

void ApplyDefaults(GatewayConfig* config) {
  if (config->listen().empty()) config->set_listen(std::string(kDefaultListen));
  if (config->log_format().empty()) config->set_log_format("text");
  SetDefaultDuration(config->mutable_drain_timeout(), kDefaultDrainTimeoutSeconds);
  ApplyBatchDefaults(config->mutable_batch());
  SetDefaultDuration(config->mutable_batch()->mutable_retention(), kDefaultRetentionSeconds);
  ApplyLimitsDefaults(config->mutable_limits());
  for (Provider& provider : *config->mutable_providers()) {
    SetDefaultDuration(provider.mutable_timeout(), kDefaultTimeoutSeconds);
    SetDefaultDuration(provider.mutable_connect_timeout(), kDefaultConnectTimeoutSeconds);
    SetKindDefaults(&provider);
    if (provider.kind() == "anthropic" && provider.default_max_tokens() == 0) {
      provider.set_default_max_tokens(kDefaultAnthropicMaxTokens);
    }
    if (provider.capabilities().max_tokens_field().empty()) {
      provider.mutable_capabilities()->set_max_tokens_field("max_tokens");
    }
    while (absl::EndsWith(provider.base_url(), "/")) {
      provider.mutable_base_url()->pop_back();
    }
  }
  for (ModelAlias& model : *config->mutable_models()) {
    if (model.upstream_model().empty()) model.set_upstream_model(model.name());
  }
}

absl::Status ValidateConfig(const GatewayConfig& config) {
  if (!IsHostPort(config.listen())) {
    return FieldError("listen", absl::StrCat("\"", config.listen(),
                                             "\" is not HOST:PORT"));
  }
  absl::flat_hash_set<std::string> providers;
  for (int i = 0; i < config.providers_size(); ++i) {
    const Provider& provider = config.providers(i);
    const std::string field = absl::StrCat("providers[", i, "]");
    if (provider.name().empty()) return FieldError(field + ".name", "is required");
    if (!providers.insert(provider.name()).second) {
      return FieldError(field + ".name",
                        absl::StrCat("\"", provider.name(), "\" is used twice"));
    }
    if (provider.kind() != "openai" && provider.kind() != "anthropic" &&
        provider.kind() != "gemini") {
      return FieldError(field + ".kind",
                        absl::StrCat("\"", provider.kind(),
                                     "\" is not a known kind (known: \"openai\", "
                                     "\"anthropic\", \"gemini\")"));
    }
    if (provider.default_max_tokens() < 0) {
      return FieldError(field + ".default_max_tokens", "must not be negative");
    }
    if (!absl::StartsWith(provider.base_url(), "http://") &&
        !absl::StartsWith(provider.base_url(), "https://")) {
      return FieldError(field + ".base_url", "must be an http:// or https:// URL");
    }
    if (!provider.api_key_env().empty() && !IsValidEnvName(provider.api_key_env())) {
      return FieldError(field + ".api_key_env",
                        "must be the NAME of an environment variable (letters, "
                        "digits, _), not the key itself");
    }
    if (provider.timeout().seconds() < 0 || provider.connect_timeout().seconds() < 0) {
      return FieldError(field + ".timeout", "must not be negative");
    }
    if (provider.max_connections() < 0) {
      return FieldError(field + ".max_connections", "must not be negative");
    }
    if (provider.has_http()) {
      if (provider.kind() != "openai") {
        return FieldError(field + ".http", "is for kind \"openai\" only");
      }
      if (absl::Status s = ValidateHttpShape(provider.http(), field + ".http"); !s.ok()) {
        return s;
      }
    }
    if (!provider.ca_file().empty()) {
      if (absl::StatusOr<std::string> bundle =
              tls::LoadCaBundle({field + ".ca_file", provider.ca_file()});
          !bundle.ok()) {
        return PemError(bundle.status());
      }
    }
    const Capabilities& capabilities = provider.capabilities();
    if (capabilities.max_tokens_field() != "max_tokens" &&
        capabilities.max_tokens_field() != "max_completion_tokens") {
      return FieldError(field + ".capabilities.max_tokens_field",
                        "must be \"max_tokens\" or \"max_completion_tokens\"");
    }
    for (int j = 0; j < capabilities.unsupported_fields_size(); ++j) {
      if (!IsFieldPath(capabilities.unsupported_fields(j))) {
        return FieldError(absl::StrCat(field, ".capabilities.unsupported_fields[", j, "]"),
                          "must be a GenerateRequest field path like \"config.top_k\"");
      }
    }
    for (int j = 0; j < capabilities.media_types_size(); ++j) {
      if (capabilities.media_types(j).find('/') == std::string::npos) {
        return FieldError(absl::StrCat(field, ".capabilities.media_types[", j, "]"),
                          "must be a MIME type like \"image/png\" or \"image/*\"");
      }
    }
  }
  absl::flat_hash_set<std::string> aliases;
  for (int i = 0; i < config.models_size(); ++i) {
    const ModelAlias& model = config.models(i);
    const std::string field = absl::StrCat("models[", i, "]");
    if (model.name().empty()) return FieldError(field + ".name", "is required");
    if (!aliases.insert(model.name()).second) {
      return FieldError(field + ".name",
                        absl::StrCat("\"", model.name(), "\" is used twice"));
    }
    if (model.deployments().empty()) {
      if (!providers.contains(model.provider())) {
        return FieldError(field + ".provider",
                          absl::StrCat("\"", model.provider(), "\" is not a provider"));
      }
    } else if (!model.provider().empty()) {
      return FieldError(field + ".provider", "set provider or deployments, not both");
    }
    for (int j = 0; j < model.deployments_size(); ++j) {
      const Deployment& deployment = model.deployments(j);
      const std::string dfield = absl::StrCat(field, ".deployments[", j, "]");
      if (!providers.contains(deployment.provider())) {
        return FieldError(dfield + ".provider",
                          absl::StrCat("\"", deployment.provider(), "\" is not a provider"));
      }
      if (deployment.weight() < 0) return FieldError(dfield + ".weight", "must not be negative");
    }
    if (absl::Status s = ValidateRetry(model.retry(), field + ".retry"); !s.ok()) return s;
  }
  if (absl::Status s = ValidateRetry(config.retry(), "retry"); !s.ok()) return s;
  if (config.cooldown().failures() < 0) {
    return FieldError("cooldown.failures", "must not be negative");
  }
  if (IsNegative(config.cooldown().period())) {
    return FieldError("cooldown.period", "must not be negative");
  }
  if (config.max_queued_requests() < 0) {
    return FieldError("max_queued_requests", "must not be negative");
  }
  if (absl::Status s = ValidateBatch(config.batch()); !s.ok()) return s;
  if (absl::Status s = ValidateAuth(config.auth()); !s.ok()) return s;
  if (absl::Status s = ValidateLimits(config.limits()); !s.ok()) return s;
  if (!config.metrics_listen().empty() && !IsHostPort(config.metrics_listen())) {
    return FieldError("metrics_listen", "must be HOST:PORT");
  }
  if (absl::Status s = ValidateServerTls(config.tls()); !s.ok()) return s;
  if (!config.log_format().empty() && config.log_format() != "text" &&
      config.log_format() != "json") {
    return FieldError("log_format", "must be \"text\" or \"json\"");
  }
  for (int i = 0; i < config.models_size(); ++i) {
    for (int j = 0; j < config.models(i).fallbacks_size(); ++j) {
      const std::string& fallback = config.models(i).fallbacks(j);
      if (!aliases.contains(fallback)) {
        return FieldError(absl::StrCat("models[", i, "].fallbacks[", j, "]"),
                          absl::StrCat("\"", fallback, "\" is not a model alias"));
      }
    }
  }
  if (!config.default_provider().empty() &&
      !providers.contains(config.default_provider())) {
    return FieldError("default_provider",
                      absl::StrCat("\"", config.default_provider(), "\" is not a provider"));
  }
  if (config.providers().empty()) {
    return FieldError("providers",
                      "no provider configured (give --openai_base_url or a "
                      "providers entry in --config)");
  }
  return absl::OkStatus();
}

}  // namespace llmgateway::config
