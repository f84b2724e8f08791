#include "server/config/config_loader.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tls/test_certs.h"

namespace llmgateway::config {
namespace {

using ::testing::HasSubstr;

constexpr absl::string_view kGood = R"pb(
  listen: "127.0.0.1:0"
  providers {
    name: "local"
    kind: "openai"
    base_url: "http://127.0.0.1:8000/v1/"
    api_key_env: "LOCAL_KEY"
    timeout { seconds: 30 }
  }
  models { name: "fast" provider: "local" upstream_model: "llama-3-8b" }
  models { name: "smart" provider: "local" fallbacks: "fast" }
)pb";

absl::StatusOr<GatewayConfig> Load(absl::string_view text) {
  absl::StatusOr<GatewayConfig> config = ParseConfigText(text, "test.textproto");
  if (!config.ok()) return config;
  ApplyDefaults(&*config);
  if (absl::Status status = ValidateConfig(*config); !status.ok()) return status;
  return config;
}

TEST(ConfigLoaderTest, GoodConfigGetsDefaults) {
  absl::StatusOr<GatewayConfig> config = Load(kGood);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->providers(0).base_url(), "http://127.0.0.1:8000/v1");
  EXPECT_EQ(config->providers(0).timeout().seconds(), 30);
  EXPECT_EQ(config->providers(0).connect_timeout().seconds(), 10);
  EXPECT_EQ(config->models(1).upstream_model(), "smart");
}

TEST(ConfigLoaderTest, CapabilitiesDefaultByKindUnlessGiven) {
  absl::StatusOr<GatewayConfig> config = Load(kGood);
  ASSERT_TRUE(config.ok()) << config.status();
  const Capabilities& defaults = config->providers(0).capabilities();
  ASSERT_EQ(defaults.unsupported_fields_size(), 1);
  EXPECT_EQ(defaults.unsupported_fields(0), "config.top_k");
  EXPECT_EQ(defaults.max_tokens_field(), "max_tokens");
  EXPECT_GT(defaults.media_types_size(), 0);

  config = Load(R"pb(
    providers {
      name: "vllm" kind: "openai" base_url: "http://x"
      capabilities { max_tokens_field: "max_completion_tokens" }
    }
  )pb");
  ASSERT_TRUE(config.ok()) << config.status();
  const Capabilities& given = config->providers(0).capabilities();
  EXPECT_EQ(given.unsupported_fields_size(), 0);  // top_k allowed
  EXPECT_EQ(given.media_types_size(), 0);         // any
  EXPECT_EQ(given.max_tokens_field(), "max_completion_tokens");
}

TEST(ConfigLoaderTest, GeminiKindAndItsDefaults) {
  absl::StatusOr<GatewayConfig> config = Load(R"pb(
    providers {
      name: "google" kind: "gemini"
      base_url: "https://generativelanguage.googleapis.com/v1beta/"
      api_key_env: "GEMINI_API_KEY"
    }
  )pb");
  ASSERT_TRUE(config.ok()) << config.status();
  const auto& provider = config->providers(0);
  EXPECT_EQ(provider.base_url(), "https://generativelanguage.googleapis.com/v1beta");
  EXPECT_EQ(provider.capabilities().unsupported_fields_size(), 0);
  EXPECT_THAT(std::vector<std::string>(provider.capabilities().media_types().begin(),
                                       provider.capabilities().media_types().end()),
              ::testing::ElementsAre("image/*", "audio/*", "video/*", "application/pdf",
                                     "text/plain"));
}

TEST(ConfigLoaderTest, SyntaxErrorNamesLineAndColumn) {
  absl::StatusOr<GatewayConfig> config =
      ParseConfigText("listen: \"x:1\"\nproviders { nme: \"a\" }\n", "gw.textproto");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("gw.textproto:2:"));
  EXPECT_THAT(config.status().message(), HasSubstr("nme"));
}

struct BadCase {
  std::string text;
  std::string field;
};

class BadConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, NamesTheField) {
  absl::StatusOr<GatewayConfig> config = Load(GetParam().text);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr(GetParam().field + ":"));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, BadConfigTest,
    ::testing::Values(
        BadCase{"listen: \"nope\" providers { name: \"p\" kind: \"openai\" "
                "base_url: \"http://x\" }",
                "listen"},
        BadCase{"providers { name: \"p\" kind: \"soap\" base_url: \"http://x\" }",
                "providers[0].kind"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"ftp://x\" }",
                "providers[0].base_url"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" "
                "api_key_env: \"sk-live-123\" }",
                "providers[0].api_key_env"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" }"
                "providers { name: \"p\" kind: \"openai\" base_url: \"http://y\" }",
                "providers[1].name"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" }"
                "models { name: \"m\" provider: \"q\" }",
                "models[0].provider"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" }"
                "models { name: \"m\" provider: \"p\" fallbacks: \"zz\" }",
                "models[0].fallbacks[0]"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" }"
                "default_provider: \"q\"",
                "default_provider"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" "
                "capabilities { max_tokens_field: \"max_len\" } }",
                "providers[0].capabilities.max_tokens_field"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" "
                "capabilities { unsupported_fields: \"Config.TopK\" } }",
                "providers[0].capabilities.unsupported_fields[0]"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" "
                "capabilities { media_types: \"png\" } }",
                "providers[0].capabilities.media_types[0]"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" }"
                "batch { job_max_concurrency: -1 }",
                "batch.job_max_concurrency"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" }"
                "batch { max_request_bytes: 4294967296 }",
                "batch.max_request_bytes"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" }"
                "batch { retention { seconds: -1 } }",
                "batch.retention"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" }"
                "metrics_listen: \"9090\"",
                "metrics_listen"},
        BadCase{"providers { name: \"p\" kind: \"anthropic\" base_url: \"http://x\" "
                "http { path: \"/v1\" } }",
                "providers[0].http"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" "
                "http { path: \"chat\" } }",
                "providers[0].http.path"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" "
                "http { auth_header: \"api key\" } }",
                "providers[0].http.auth_header"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" "
                "http { headers { name: \"X-A\" value: \"a\\r\\nX-Evil: 1\" } } }",
                "providers[0].http.headers[0].value"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" "
                "http { headers { name: \"Content-Type\" value: \"text/plain\" } } }",
                "providers[0].http.headers[0].name"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" "
                "http { auth_header: \"api-key\" headers { name: \"API-Key\" value: \"k\" } } }",
                "providers[0].http.headers[0].name"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" "
                "http { headers { name: \"X-A\" value: \"a\" value_env: \"A\" } } }",
                "providers[0].http.headers[0]"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" "
                "http { headers { name: \"X-A\" value_env: \"secret-value\" } } }",
                "providers[0].http.headers[0].value_env"},
        BadCase{"providers { name: \"p\" kind: \"openai\" base_url: \"http://x\" }"
                "log_format: \"JSON\"",
                "log_format"},
        BadCase{"listen: \"127.0.0.1:1\"", "providers"}));

TEST(ConfigLoaderTest, BatchDefaults) {
  absl::StatusOr<GatewayConfig> config = Load(kGood);
  ASSERT_TRUE(config.ok()) << config.status();
  const Batch& batch = config->batch();
  EXPECT_EQ(batch.generate_default_concurrency(), 8);
  EXPECT_EQ(batch.generate_max_concurrency(), 64);
  EXPECT_EQ(batch.store_path(), "llm_gateway.db");
  EXPECT_EQ(batch.job_default_concurrency(), 32);
  EXPECT_EQ(batch.job_max_concurrency(), 256);
  EXPECT_EQ(batch.max_request_bytes(), 256 << 20);
  EXPECT_EQ(batch.max_items(), 50000);
  EXPECT_EQ(batch.retention().seconds(), 7 * 24 * 3600);
}

TEST(ConfigLoaderTest, BatchStoreFlagOverridesTheFile) {
  absl::StatusOr<GatewayConfig> config =
      ParseConfigText(std::string(kGood) + "batch { store_path: \"a.db\" }", "t");
  ASSERT_TRUE(config.ok()) << config.status();
  Overrides overrides;
  overrides.batch_store = "/var/lib/gw/jobs.db";
  ApplyOverrides(overrides, &*config);
  ApplyDefaults(&*config);
  EXPECT_EQ(config->batch().store_path(), "/var/lib/gw/jobs.db");
}

TEST(ConfigLoaderTest, LogFormatDefaultsToTextAndTheFlagWins) {
  absl::StatusOr<GatewayConfig> config = Load(kGood);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->log_format(), "text");

  config = ParseConfigText(std::string(kGood) + "log_format: \"json\"", "t");
  ASSERT_TRUE(config.ok()) << config.status();
  ApplyDefaults(&*config);
  EXPECT_EQ(config->log_format(), "json");
  Overrides overrides;
  overrides.log_format = "text";
  ApplyOverrides(overrides, &*config);
  EXPECT_EQ(config->log_format(), "text");
  EXPECT_TRUE(ValidateConfig(*config).ok());
}

TEST(ConfigLoaderTest, FlagsAloneMakeAPassThroughProvider) {
  GatewayConfig config;
  Overrides overrides;
  overrides.listen = "127.0.0.1:7000";
  overrides.openai_base_url = "http://127.0.0.1:8000/v1";
  ApplyOverrides(overrides, &config);
  ApplyDefaults(&config);
  ASSERT_TRUE(ValidateConfig(config).ok()) << ValidateConfig(config);
  EXPECT_EQ(config.listen(), "127.0.0.1:7000");
  ASSERT_EQ(config.providers_size(), 1);
  EXPECT_EQ(config.providers(0).name(), "openai");
  EXPECT_EQ(config.providers(0).api_key_env(), "OPENAI_API_KEY");
  EXPECT_EQ(config.default_provider(), "openai");
}

TEST(ConfigLoaderTest, FlagsOverrideTheFile) {
  absl::StatusOr<GatewayConfig> config = ParseConfigText(
      "providers { name: \"openai\" kind: \"openai\" base_url: \"http://a/v1\" "
      "api_key_env: \"A\" }",
      "f");
  ASSERT_TRUE(config.ok());
  Overrides overrides;
  overrides.openai_base_url = "http://b/v1";
  overrides.openai_api_key_env = "B";
  ApplyOverrides(overrides, &*config);
  ASSERT_EQ(config->providers_size(), 1);
  EXPECT_EQ(config->providers(0).base_url(), "http://b/v1");
  EXPECT_EQ(config->providers(0).api_key_env(), "B");
}

TEST(ConfigLoaderTest, AuthKeysAreCheckedFieldByField) {
  const std::string hash(64, 'a');
  const std::string good = absl::StrCat(kGood, "auth { keys { id: \"team-a\" sha256: \"", hash,
                                        "\" models: \"fast\" models: \"gpt-4o*\" } }");
  ASSERT_TRUE(Load(good).ok()) << Load(good).status();

  const std::pair<std::string, std::string> bad[] = {
      {"keys { id: \"\" sha256: \"" + hash + "\" }", "auth.keys[0].id"},
      {"keys { id: \"a b\" sha256: \"" + hash + "\" }", "auth.keys[0].id"},
      {"keys { id: \"a\" sha256: \"ABC\" }", "auth.keys[0].sha256: must be"},
      {"keys { id: \"a\" sha256: \"" + std::string(64, 'A') + "\" }", "auth.keys[0].sha256"},
      {"keys { id: \"a\" sha256: \"" + hash + "\" } keys { id: \"a\" sha256: \"" +
           std::string(64, 'b') + "\" }",
       "auth.keys[1].id: \"a\" is used twice"},
      {"keys { id: \"a\" sha256: \"" + hash + "\" } keys { id: \"b\" sha256: \"" + hash +
           "\" }",
       "auth.keys[1].sha256: is another key's too"},
      {"keys { id: \"a\" sha256: \"" + hash + "\" models: \"g*pt\" }", "auth.keys[0].models[0]"},
      {"keys { id: \"a\" sha256: \"" + hash + "\" requests_per_minute: -1 }",
       "auth.keys[0].requests_per_minute: must not be negative"},
  };
  for (const auto& [auth, expected] : bad) {
    absl::StatusOr<GatewayConfig> config = Load(absl::StrCat(kGood, "auth { ", auth, " }"));
    ASSERT_FALSE(config.ok()) << auth;
    EXPECT_THAT(config.status().message(), HasSubstr(expected)) << auth;
  }
}

const llmgateway::testing::TestCerts& Certs() {
  static const auto* certs = new llmgateway::testing::TestCerts("config_loader_test");
  return *certs;
}

// kGood plus `extra` (textproto) with $DIR standing for the certificates' folder.
absl::Status LoadWith(absl::string_view extra) {
  std::string text = std::string(extra);
  for (size_t at; (at = text.find("$DIR")) != std::string::npos;) {
    text.replace(at, 4, Certs().Path(""));
  }
  return Load(std::string(kGood) + text).status();
}

TEST(ConfigLoaderTest, TlsNeedsCertAndKeyThatMatch) {
  EXPECT_TRUE(LoadWith("").ok());  // no tls: plaintext
  absl::Status ok = LoadWith(
      R"(tls { cert_file: "$DIR/server.pem" key_file: "$DIR/server.key"
               client_ca_file: "$DIR/ca.pem" client_cert_optional: true })");
  EXPECT_TRUE(ok.ok()) << ok;

  EXPECT_THAT(LoadWith(R"(tls { cert_file: "$DIR/server.pem" })").message(),
              HasSubstr("config: tls.key_file: is required with tls.cert_file"));
  EXPECT_THAT(LoadWith(R"(tls { key_file: "$DIR/server.key" })").message(),
              HasSubstr("config: tls.cert_file: is required"));
  EXPECT_THAT(LoadWith(R"(tls { cert_file: "$DIR/server.pem" key_file: "$DIR/server.key"
                                client_cert_optional: true })")
                  .message(),
              HasSubstr("config: tls.client_cert_optional: needs tls.client_ca_file"));
  EXPECT_THAT(LoadWith(R"(tls { cert_file: "$DIR/server.pem" key_file: "$DIR/server2.key" })")
                  .message(),
              HasSubstr("config: tls.key_file: the private key in "));
}

TEST(ConfigLoaderTest, UnreadableTlsFilesNameFieldAndPath) {
  absl::Status status =
      LoadWith(R"(tls { cert_file: "$DIR/gone.pem" key_file: "$DIR/server.key" })");
  EXPECT_THAT(status.message(),
              HasSubstr("config: tls.cert_file: cannot read " + Certs().Path("/gone.pem")));
  status = LoadWith(R"(tls { cert_file: "$DIR/server.pem" key_file: "$DIR/server.key"
                             client_ca_file: "$DIR/nope.pem" })");
  EXPECT_THAT(status.message(),
              HasSubstr("config: tls.client_ca_file: cannot read " + Certs().Path("/nope.pem")));
}

TEST(ConfigLoaderTest, TlsFlagsOverrideTheFile) {
  absl::StatusOr<GatewayConfig> config =
      ParseConfigText(std::string(kGood) + R"(tls { cert_file: "a.pem" key_file: "a.key" })", "t");
  ASSERT_TRUE(config.ok()) << config.status();
  Overrides overrides;
  overrides.tls_cert = Certs().Path("server.pem");
  overrides.tls_key = Certs().Path("server.key");
  overrides.tls_client_ca = Certs().Path("ca.pem");
  ApplyOverrides(overrides, &*config);
  ApplyDefaults(&*config);
  EXPECT_EQ(config->tls().cert_file(), Certs().Path("server.pem"));
  EXPECT_EQ(config->tls().key_file(), Certs().Path("server.key"));
  EXPECT_EQ(config->tls().client_ca_file(), Certs().Path("ca.pem"));
  EXPECT_TRUE(ValidateConfig(*config).ok()) << ValidateConfig(*config);
}

TEST(ConfigLoaderTest, ProviderCaFileMustHoldCertificates) {
  absl::StatusOr<GatewayConfig> config = ParseConfigText(
      absl::StrCat("providers { name: \"p\" kind: \"openai\" base_url: \"https://a/v1\" ",
                   "ca_file: \"", Certs().Path("ca.pem"), "\" }"),
      "t");
  ASSERT_TRUE(config.ok()) << config.status();
  ApplyDefaults(&*config);
  EXPECT_TRUE(ValidateConfig(*config).ok()) << ValidateConfig(*config);
  config->mutable_providers(0)->set_ca_file(Certs().Path("ca.key"));
  EXPECT_THAT(ValidateConfig(*config).message(),
              HasSubstr("config: providers[0].ca_file: " + Certs().Path("ca.key") +
                        " holds no PEM certificate"));
  config->mutable_providers(0)->set_ca_file(Certs().Path("missing.pem"));
  EXPECT_THAT(ValidateConfig(*config).message(),
              HasSubstr("config: providers[0].ca_file: cannot read "));
}

}  // namespace
}  // namespace llmgateway::config
