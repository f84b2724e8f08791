#include "server/auth/api_key.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/status_details.h"

namespace llmgateway::auth {
namespace {

TEST(ApiKeyTest, Sha256HexMatchesKnownVectors) {
  // FIPS 180-2 examples.
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ApiKeyTest, GeneratedKeysAreLongRandomAndUrlSafe) {
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string key = GenerateApiKey();
    ASSERT_TRUE(absl::StartsWith(key, "lgw-")) << key;
    EXPECT_EQ(key.size(), 4 + 43) << key;
    for (char c : key.substr(4)) {
      EXPECT_TRUE(absl::ascii_isalnum(c) || c == '-' || c == '_') << key;
    }
    EXPECT_TRUE(seen.insert(key).second) << "repeated " << key;
  }
}

TEST(ApiKeyTest, BearerKeyTakesAnySchemeCaseAndTrims) {
  EXPECT_EQ(*BearerKey("Bearer k1"), "k1");
  EXPECT_EQ(*BearerKey("bearer  k2 "), "k2");
  EXPECT_EQ(*BearerKey("BEARER k3"), "k3");
}

TEST(ApiKeyTest, OtherShapesAreUnauthenticatedAndNotEchoed) {
  for (absl::string_view bad : {"", "Bearer", "Bearer ", "Bearer    ", "Basic c2VjcmV0",
                                "secret-key-123", "Bearersecret-key-123"}) {
    absl::StatusOr<absl::string_view> key = BearerKey(bad);
    ASSERT_FALSE(key.ok()) << bad;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(std::string(key.status().message()), ::testing::Not(::testing::HasSubstr("secret")));
    EXPECT_EQ(GetErrorInfo(key.status())->reason(), "API_KEY_INVALID");
  }
}

}  // namespace
}  // namespace llmgateway::auth
