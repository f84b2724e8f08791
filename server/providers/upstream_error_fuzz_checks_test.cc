// The error-body fuzzers are only as good as their checks: each broken
// invariant must abort, and a well-formed mapped error must pass.
#include "server/providers/upstream_error_fuzz_checks.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/status_details.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::fuzz {
namespace {

absl::Status Mapped(std::string message) {
  return WithErrorInfo(absl::InvalidArgumentError(std::move(message)), "UPSTREAM_INVALID_REQUEST",
                       {{kMetaProvider, "fuzz"}});
}

TEST(UpstreamErrorFuzzChecksTest, AWellFormedErrorPasses) {
  UpstreamHttpFailure failure;
  failure.provider = "fuzz";
  failure.http_status = 429;
  failure.message = "slow down";
  failure.retry_after = absl::Seconds(30);
  CheckMappedHttpError(UpstreamHttpError(failure));
  CheckMappedHttpError(Mapped("caf\xC3\xA9"));
}

TEST(UpstreamErrorFuzzChecksDeathTest, EachBrokenInvariantAborts) {
  EXPECT_DEATH(CheckMappedHttpError(absl::OkStatus()), "OK for an HTTP error");
  EXPECT_DEATH(CheckMappedHttpError(Mapped(std::string(5000, 'x'))), "bytes \\(bound");
  EXPECT_DEATH(CheckMappedHttpError(Mapped(absl::StrCat("bad key ", kFuzzKey))), "the key");
  EXPECT_DEATH(CheckMappedHttpError(Mapped("cut \xE4\xB8")), "not UTF-8");
  EXPECT_DEATH(CheckMappedHttpError(absl::InvalidArgumentError("no details")), "no ErrorInfo");
  // A Duration no caller's stub can turn into a timedelta.
  absl::Status bad_retry = Mapped("x");
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(-1);
  bad_retry.SetPayload("type.googleapis.com/google.rpc.RetryInfo",
                       absl::Cord(retry.SerializeAsString()));
  EXPECT_DEATH(CheckMappedHttpError(bad_retry), "retry_delay");
}

TEST(UpstreamErrorFuzzChecksTest, SameStatusComparesDetailsAsMessages) {
  EXPECT_TRUE(SameStatus(Mapped("a"), Mapped("a")));
  EXPECT_FALSE(SameStatus(Mapped("a"), Mapped("b")));
  EXPECT_FALSE(SameStatus(Mapped("a"), absl::InvalidArgumentError("a")));
  EXPECT_FALSE(SameStatus(Mapped("a"), WithRetryInfo(Mapped("a"), absl::Seconds(1))));
}

}  // namespace
}  // namespace llmgateway::fuzz
