#include "server/routing/router.h"

#include "gtest/gtest.h"
#include "server/common/status_details.h"

namespace llmgateway {
namespace {

class NamedProvider final : public Provider {
 public:
  explicit NamedProvider(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  CallId Generate(const llmgateway::v1::GenerateRequest&, const UpstreamCallOptions&,
                  llmgateway::v1::GenerateResponse*, Done done) override {
    done(absl::UnimplementedError("not used by these tests"));
    return 0;
  }
  CallId GenerateStream(const llmgateway::v1::GenerateRequest&, const UpstreamCallOptions&,
                        StreamObserver* observer) override {
    observer->OnComplete(absl::UnimplementedError("not used by these tests"));
    return 0;
  }
  void Cancel(CallId) override {}
  void Resume(CallId) override {}

 private:
  std::string name_;
};

config::GatewayConfig TwoProviders() {
  config::GatewayConfig config;
  config.add_providers()->set_name("a");
  config.add_providers()->set_name("b");
  auto* zeta = config.add_models();
  zeta->set_name("zeta");
  zeta->set_provider("b");
  zeta->set_upstream_model("zeta-upstream");
  auto* alpha = config.add_models();
  alpha->set_name("alpha");
  alpha->set_provider("a");
  alpha->set_upstream_model("alpha-upstream");
  alpha->add_fallbacks("zeta");
  return config;
}

TEST(RouterTest, AliasesResolveToTheirProviderAndUpstreamName) {
  NamedProvider a("a"), b("b");
  Router router(TwoProviders(), {{"a", &a}, {"b", &b}});
  absl::StatusOr<Route> route = router.Resolve("zeta");
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->provider, &b);
  EXPECT_EQ(route->upstream_model, "zeta-upstream");
}

TEST(RouterTest, UnknownModelIsNotFoundWithoutDefaultProvider) {
  NamedProvider a("a"), b("b");
  Router router(TwoProviders(), {{"a", &a}, {"b", &b}});
  absl::StatusOr<Route> route = router.Resolve("gpt-9");
  EXPECT_EQ(route.status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(GetErrorInfo(route.status()).has_value());
  EXPECT_EQ(GetErrorInfo(route.status())->reason(), "MODEL_NOT_FOUND");
  EXPECT_EQ(GetErrorInfo(route.status())->metadata().at("model"), "gpt-9");
}

TEST(RouterTest, UnknownModelPassesThroughToDefaultProvider) {
  NamedProvider a("a"), b("b");
  config::GatewayConfig config = TwoProviders();
  config.set_default_provider("a");
  Router router(config, {{"a", &a}, {"b", &b}});
  absl::StatusOr<Route> route = router.Resolve("gpt-9");
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->provider, &a);
  EXPECT_EQ(route->upstream_model, "gpt-9");
}

TEST(RouterTest, ModelsAreSortedByName) {
  NamedProvider a("a"), b("b");
  Router router(TwoProviders(), {{"a", &a}, {"b", &b}});
  ASSERT_EQ(router.models().size(), 2u);
  EXPECT_EQ(router.models()[0].name(), "alpha");
  EXPECT_EQ(router.models()[0].fallbacks(0), "zeta");
  EXPECT_EQ(router.models()[1].name(), "zeta");
}

}  // namespace
}  // namespace llmgateway
