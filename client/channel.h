// How the client library connects: one channel per gateway, with the
// defaults a caller should not have to know about (retry of UNAVAILABLE by
// gRPC's own service-config policy, keepalive, a deadline per call).
#ifndef LLM_GATEWAY_CLIENT_CHANNEL_H_
#define LLM_GATEWAY_CLIENT_CHANNEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace llmgateway::client {

struct ClientOptions {
  // host:port, or any gRPC target ("dns:///gw.internal:443", "unix:/run/gw.sock").
  std::string target = "localhost:50051";
  // Deadline of each unary or streaming call (a batch job's results stream
  // and waits are not bound by it). Infinite: no deadline.
  absl::Duration timeout = absl::Seconds(120);
  // gRPC's retry policy: attempts of a call that failed with UNAVAILABLE
  // before any response arrived (1 turns retries off). The gateway already
  // retries its upstreams; these cover the gateway itself restarting or
  // being unreachable for a moment.
  int max_attempts = 3;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
  // HTTP/2 pings while calls are open, so a dead connection fails the call
  // instead of hanging it. The gateway accepts pings every 10 s or more.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // Null: plaintext (grpc::InsecureChannelCredentials()). For a gateway
  // serving TLS: TlsCredentialsFromFiles below, or grpc::SslCredentials.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // The caller's API key for a gateway with caller auth: sent as
  // `authorization: Bearer KEY` metadata on every call. Empty: none.
  std::string api_key;
};

// TLS credentials from PEM files: `ca_file` holds the CAs that issued the
// gateway's certificate ("": gRPC's default roots, i.e. the system's);
// `cert_file` and `key_file`, both or neither, a client certificate for a
// gateway that asks for one (mTLS). Errors name the file.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsCredentialsFromFiles(
    const std::string& ca_file, const std::string& cert_file, const std::string& key_file);

// The service config (JSON) that carries the retry policy for every
// llmgateway.v1 service.
std::string ServiceConfigJson(const ClientOptions& options);

std::shared_ptr<grpc::Channel> CreateChannel(const ClientOptions& options);

}  // namespace llmgateway::client

#endif  // LLM_GATEWAY_CLIENT_CHANNEL_H_
