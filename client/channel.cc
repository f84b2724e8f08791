#include "client/channel.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace llmgateway::client {
namespace {

// Durations in a service config are decimal seconds with an "s".
std::string ConfigSeconds(absl::Duration d) {
  return absl::StrFormat("%.3fs", absl::ToDoubleSeconds(std::max(d, absl::Milliseconds(1))));
}

absl::StatusOr<std::string> ReadPem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a PEM file"));
  }
  return text.str();
}

int ClampToInt(absl::Duration d) {
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d), INT32_MAX));
}

}  // namespace

std::string ServiceConfigJson(const ClientOptions& options) {
  // gRPC refuses a retry policy with fewer than 2 attempts: no policy then.
  if (options.max_attempts < 2) return "{}";
  return absl::StrCat(
      R"({"methodConfig":[{"name":[{"service":"llmgateway.v1.Generation"},)",
      R"({"service":"llmgateway.v1.BatchJobs"},{"service":"llmgateway.v1.Models"}],)",
      R"("retryPolicy":{"maxAttempts":)", options.max_attempts,
      R"(,"initialBackoff":")", ConfigSeconds(options.initial_backoff),
      R"(","maxBackoff":")", ConfigSeconds(options.max_backoff),
      R"(","backoffMultiplier":2,"retryableStatusCodes":["UNAVAILABLE"]}}]})");
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentialsFromFiles(
    const std::string& ca_file, const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError("a client certificate needs both its file and its key");
  }
  grpc::SslCredentialsOptions options;
  for (auto [path, pem] : {std::pair{&ca_file, &options.pem_root_certs},
                           std::pair{&cert_file, &options.pem_cert_chain},
                           std::pair{&key_file, &options.pem_private_key}}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> text = ReadPem(*path);
    if (!text.ok()) return text.status();
    *pem = *std::move(text);
  }
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::Channel> CreateChannel(const ClientOptions& options) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(ServiceConfigJson(options));
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, options.max_attempts >= 2 ? 1 : 0);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, ClampToInt(options.keepalive_time));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ClampToInt(options.keepalive_timeout));
  // Pings only while calls are open: an idle client costs the gateway nothing.
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  // Results of a big BatchGenerate or a job can exceed gRPC's 4 MiB default.
  args.SetMaxReceiveMessageSize(-1);
  auto credentials = options.credentials ? options.credentials : grpc::InsecureChannelCredentials();
  return grpc::CreateCustomChannel(options.target, credentials, args);
}

}  // namespace llmgateway::client
