#include "server/routing/router.h"

#include "gtest/gtest.h"
#include "server/common/status_details.h"
#include "server/routing/fake_adapter.h"

namespace llmgateway::routing {
namespace {

using ::llmgateway::routing::testing::FakeAdapter;

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

class RouterTest : public ::testing::Test {
 protected:
  Router Make(const config::GatewayConfig& config) {
    return Router(config, {{"a", &a_}, {"b", &b_}});
  }
  static absl::StatusOr<Plan> PlanFor(Router& router, const std::string& model,
                                      std::vector<std::string> fallbacks = {}) {
    v1::GenerateRequest request;
    request.set_model(model);
    for (const auto& f : fallbacks) request.mutable_routing()->add_fallback_models(f);
    return router.MakePlan(request);
  }
  FakeAdapter a_{"a"}, b_{"b"};
};

TEST_F(RouterTest, AnAliasPlansItsTargetThenItsFallbacks) {
  Router router = Make(TwoProviders());
  absl::StatusOr<Plan> plan = PlanFor(router, "alpha");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->groups.size(), 2u);
  EXPECT_EQ(plan->groups[0].model, "alpha");
  EXPECT_EQ(plan->groups[0].targets[0]->provider->adapter, &a_);
  EXPECT_EQ(plan->groups[0].targets[0]->upstream_model, "alpha-upstream");
  EXPECT_EQ(plan->groups[1].targets[0]->upstream_model, "zeta-upstream");
}

TEST_F(RouterTest, RequestFallbacksComeLastAndRepeatsAreDropped) {
  config::GatewayConfig config = TwoProviders();
  config.set_default_provider("a");
  Router router = Make(config);
  absl::StatusOr<Plan> plan = PlanFor(router, "alpha", {"zeta", "gpt-x", "alpha"});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->groups.size(), 3u);
  EXPECT_EQ(plan->groups[2].model, "gpt-x");
  EXPECT_EQ(plan->groups[2].targets[0]->upstream_model, "gpt-x");
  EXPECT_EQ(plan->groups[2].targets[0]->health, nullptr) << "pass-through has no breaker";
}

TEST_F(RouterTest, UnknownModelIsNotFoundWithoutDefaultProvider) {
  Router router = Make(TwoProviders());
  absl::StatusOr<Plan> plan = PlanFor(router, "gpt-9");
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(GetErrorInfo(plan.status()).has_value());
  EXPECT_EQ(GetErrorInfo(plan.status())->reason(), "MODEL_NOT_FOUND");
  EXPECT_EQ(GetErrorInfo(plan.status())->metadata().at("model"), "gpt-9");

  plan = PlanFor(router, "alpha", {"nope"});
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetErrorInfo(plan.status())->metadata().at("field"), "routing.fallback_models[0]");
}

TEST_F(RouterTest, UnknownModelPassesThroughToDefaultProvider) {
  config::GatewayConfig config = TwoProviders();
  config.set_default_provider("a");
  Router router = Make(config);
  absl::StatusOr<Plan> plan = PlanFor(router, "gpt-9");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->groups[0].targets[0]->provider->adapter, &a_);
  EXPECT_EQ(plan->groups[0].targets[0]->upstream_model, "gpt-9");
}

TEST_F(RouterTest, DeploymentsBecomeWeightedTargetsWithTheirOwnHealth) {
  config::GatewayConfig config = TwoProviders();
  auto* multi = config.add_models();
  multi->set_name("multi");
  multi->set_upstream_model("shared-name");
  auto* d1 = multi->add_deployments();
  d1->set_provider("a");
  auto* d2 = multi->add_deployments();
  d2->set_provider("b");
  d2->set_upstream_model("own-name");
  d2->set_weight(3);
  multi->mutable_retry()->set_max_retries(5);
  Router router = Make(config);
  absl::StatusOr<Plan> plan = PlanFor(router, "multi");
  ASSERT_TRUE(plan.ok());
  const TargetGroup& group = plan->groups[0];
  ASSERT_EQ(group.targets.size(), 2u);
  EXPECT_EQ(group.targets[0]->upstream_model, "shared-name");
  EXPECT_EQ(group.targets[0]->weight, 1);
  EXPECT_EQ(group.targets[1]->upstream_model, "own-name");
  EXPECT_EQ(group.targets[1]->weight, 3);
  EXPECT_NE(group.targets[0]->health, nullptr);
  EXPECT_EQ(group.retry.max_retries, 5);
  // The same targets (and health) for every call.
  absl::StatusOr<Plan> again = PlanFor(router, "multi");
  EXPECT_EQ(again->groups[0].targets[1], group.targets[1]);
}

TEST_F(RouterTest, ModelsAreSortedByName) {
  Router router = Make(TwoProviders());
  ASSERT_EQ(router.models().size(), 2u);
  EXPECT_EQ(router.models()[0].name(), "alpha");
  EXPECT_EQ(router.models()[0].fallbacks(0), "zeta");
  EXPECT_EQ(router.models()[1].name(), "zeta");
}

}  // namespace
}  // namespace llmgateway::routing
