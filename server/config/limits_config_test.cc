#include "server/config/limits_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "server/config/config_loader.h"

namespace llmgateway::config {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<GatewayConfig> Load(absl::string_view limits) {
  absl::StatusOr<GatewayConfig> config = ParseConfigText(
      absl::StrCat(R"pb(providers { name: "p" kind: "openai" base_url: "http://127.0.0.1:1/v1" }
                        default_provider: "p" )pb",
                   limits),
      "test.textproto");
  if (!config.ok()) return config;
  ApplyDefaults(&*config);
  if (absl::Status status = ValidateConfig(*config); !status.ok()) return status;
  return config;
}

TEST(LimitsConfigTest, UnsetLimitsGetProductionDefaults) {
  absl::StatusOr<GatewayConfig> config = Load("");
  ASSERT_TRUE(config.ok()) << config.status();
  const Limits& limits = config->limits();
  EXPECT_EQ(limits.max_connections(), 0);  // half of RLIMIT_NOFILE, at start
  EXPECT_EQ(limits.handshake_timeout().seconds(), 10);
  EXPECT_EQ(limits.idle_timeout().seconds(), 300);
  EXPECT_EQ(limits.max_connection_age().seconds(), 0);
  EXPECT_EQ(limits.max_receive_message_bytes(), 64 << 20);
  EXPECT_EQ(limits.max_messages_per_request(), 10000);
  EXPECT_EQ(limits.max_media_bytes_per_request(), 50 << 20);
  EXPECT_EQ(limits.max_concurrent_streams(), 4096);
  EXPECT_EQ(limits.max_calls_in_flight(), 20000);
  EXPECT_EQ(limits.max_request_bytes_in_flight(), int64_t{512} << 20);
  EXPECT_EQ(limits.memory_limit_bytes(), int64_t{2} << 30);
}

TEST(LimitsConfigTest, GivenLimitsAreKept) {
  absl::StatusOr<GatewayConfig> config = Load(R"pb(
    limits {
      max_connections: 100
      idle_timeout { seconds: 2 }
      max_calls_in_flight: 7
    }
  )pb");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->limits().max_connections(), 100);
  EXPECT_EQ(config->limits().idle_timeout().seconds(), 2);
  EXPECT_EQ(config->limits().max_calls_in_flight(), 7);
}

TEST(LimitsConfigTest, ErrorsNameTheField) {
  struct Case {
    const char* text;
    const char* expected;
  } cases[] = {
      {"limits { max_connections: -1 }", "limits.max_connections: must not be negative"},
      {"limits { max_calls_in_flight: -5 }", "limits.max_calls_in_flight: must not be negative"},
      {"limits { max_receive_message_bytes: 3000000000 }",
       "limits.max_receive_message_bytes: must be at most 2147483647"},
      {"limits { idle_timeout { seconds: -1 } }", "limits.idle_timeout: must not be negative"},
      {"limits { handshake_timeout { seconds: 99999999 } }",
       "limits.handshake_timeout: must be under"},
      {"limits { memory_limit_bytes: -1 }", "limits.memory_limit_bytes: must not be negative"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<GatewayConfig> config = Load(c.text);
    ASSERT_FALSE(config.ok()) << c.text;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(c.expected)) << c.text;
  }
}

}  // namespace
}  // namespace llmgateway::config
