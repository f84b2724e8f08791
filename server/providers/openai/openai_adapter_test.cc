// OpenAiAdapter's error mapping: the upstream's words bounded, the key never
// passed on. (Requests, answers and streams: chat_*_test.)
#include "server/providers/openai/openai_adapter.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/common/status_details.h"
#include "server/config/config.pb.h"

namespace llmgateway::openai {
namespace {

constexpr char kKey[] = "sk-proj-SECRET-0123456789abcdef";

absl::Status MapError(long status, const std::string& body) {
  config::Provider config;
  config.set_name("openai");
  config.set_kind("openai");
  config.set_base_url("https://api.openai.com/v1");
  OpenAiAdapter adapter(config, kKey);
  HttpErrorResponse response;
  response.status = status;
  response.body = body;
  return adapter.MapHttpError(response);
}

std::string ErrorJson(const std::string& message) {
  return absl::StrCat(R"({"error":{"message":")", message,
                      R"(","type":"invalid_request_error","code":null}})");
}

TEST(OpenAiAdapterTest, ALongUpstreamMessageIsBounded) {
  // Status messages travel in a trailer: a few KiB of upstream text would
  // break the caller's connection.
  const absl::Status status = MapError(400, ErrorJson(std::string(20000, 'w')));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(status.message().size(), 1200u);
  EXPECT_TRUE(absl::EndsWith(status.message(), "www...")) << status.message().substr(0, 80);
  EXPECT_EQ(GetErrorInfo(status)->reason(), "UPSTREAM_INVALID_REQUEST");
}

TEST(OpenAiAdapterTest, TheKeyIsNeverPassedOnEvenCutAtTheBound) {
  // The key quoted whole, then cut by the 1 KiB bound right inside it.
  const std::string before_cut(1024 - 12, 'x');
  for (const std::string& message :
       {absl::StrCat("Incorrect API key provided: ", kKey),
        absl::StrCat(before_cut, " ", kKey, " more text after the key")}) {
    const absl::Status status = MapError(400, ErrorJson(message));
    EXPECT_FALSE(absl::StrContains(status.message(), "SECRET")) << status.message();
    EXPECT_FALSE(absl::StrContains(status.message(), "sk-proj-S")) << status.message();
  }
}

}  // namespace
}  // namespace llmgateway::openai
