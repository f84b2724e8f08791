#include "server/auth/authorizer.h"

#include "gtest/gtest.h"
#include "server/auth/api_key.h"
#include "server/common/status_details.h"

namespace llmgateway::auth {
namespace {

config::Auth TwoKeys() {
  config::Auth auth;
  config::ApiKey* a = auth.add_keys();
  a->set_id("team-a");
  a->set_sha256(Sha256Hex("key-of-a"));
  config::ApiKey* b = auth.add_keys();
  b->set_id("team-b");
  b->set_sha256(Sha256Hex("key-of-b"));
  return auth;
}

TEST(AuthorizerTest, WithoutKeysEveryoneIsNobody) {
  Authorizer authorizer{config::Auth()};
  EXPECT_FALSE(authorizer.enabled());
  absl::StatusOr<Caller*> caller = authorizer.Authenticate(absl::nullopt);
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(*caller, nullptr);
  EXPECT_EQ(*authorizer.Authenticate(absl::string_view("Bearer anything")), nullptr);
}

TEST(AuthorizerTest, FindsEachKeyByItsHash) {
  Authorizer authorizer(TwoKeys());
  EXPECT_TRUE(authorizer.enabled());
  EXPECT_EQ((*authorizer.Authenticate(absl::string_view("Bearer key-of-a")))->id(), "team-a");
  EXPECT_EQ((*authorizer.Authenticate(absl::string_view("Bearer key-of-b")))->id(), "team-b");
  // The same key, the same state.
  EXPECT_EQ(*authorizer.Authenticate(absl::string_view("Bearer key-of-a")),
            *authorizer.Authenticate(absl::string_view("bearer key-of-a")));
}

TEST(AuthorizerTest, MissingMalformedAndUnknownKeysAreUnauthenticated) {
  Authorizer authorizer(TwoKeys());
  const std::string hash_sized = "Bearer " + std::string(64, 'a');
  const std::pair<absl::optional<absl::string_view>, std::string> cases[] = {
      {absl::nullopt, "API_KEY_MISSING"},
      {absl::string_view("key-of-a"), "API_KEY_INVALID"},
      {absl::string_view("Bearer key-of-c"), "API_KEY_INVALID"},
      {absl::string_view(hash_sized), "API_KEY_INVALID"},
  };
  for (const auto& [metadata, reason] : cases) {
    absl::StatusOr<Caller*> caller = authorizer.Authenticate(metadata);
    ASSERT_FALSE(caller.ok()) << reason;
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(GetErrorInfo(caller.status())->reason(), reason);
  }
}

TEST(AuthorizerTest, TheHashItselfIsNotAKey) {
  Authorizer authorizer(TwoKeys());
  EXPECT_FALSE(authorizer.Authenticate("Bearer " + Sha256Hex("key-of-a")).ok());
}

}  // namespace
}  // namespace llmgateway::auth
