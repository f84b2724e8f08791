// Wires the gateway together: HTTP loop, adapters, router, call engine and
// the gRPC services (plus health and reflection), and owns their shutdown
// order, graceful (Drain) or not.
#ifndef LLM_GATEWAY_SERVER_GATEWAY_SERVER_H_
#define LLM_GATEWAY_SERVER_GATEWAY_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "server/api/batch_jobs_service.h"
#include "server/api/call_tracker.h"
#include "server/api/generation_service.h"
#include "server/api/models_service.h"
#include "server/auth/authorizer.h"
#include "server/batch/job_runner.h"
#include "server/metrics/metrics_http.h"
#include "server/config/config.pb.h"
#include "server/http/http_client.h"
#include "server/listener/connection_limits.h"
#include "server/providers/adapter.h"
#include "server/routing/call_engine.h"
#include "server/routing/router.h"
#include "server/tls/server_tls.h"

namespace llmgateway {

class GatewayServer {
 public:
  // Builds and starts serving. `config` has passed ValidateConfig.
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Start(
      const config::GatewayConfig& config);

  // Shutdown() if not done yet.
  ~GatewayServer();

  // The bound port (useful with port 0).
  int port() const { return port_; }
  // Whether the gRPC port serves TLS (config tls), and its certificate's
  // summary for the log.
  bool tls_enabled() const { return tls_ != nullptr; }
  std::string tls_summary() const { return tls_ != nullptr ? tls_->summary() : std::string(); }
  // SIGHUP: re-reads and checks the TLS files; new connections get them
  // within tls::kRefreshIntervalSeconds. Not OK (nothing changed): TLS is
  // off, or a file is missing or wrong (the status names it).
  absl::StatusOr<std::string> ReloadTls();

  // The metrics port (0: metrics off).
  int metrics_port() const { return metrics_http_ != nullptr ? metrics_http_->port() : 0; }

  // Graceful: health turns NOT_SERVING and new generation calls are refused
  // (UNAVAILABLE, DRAINING) at once; calls in flight may finish for up to
  // `timeout`, and so may batch job items in flight (no new ones start);
  // then Shutdown() cancels whatever is left. Returns how many calls and
  // items were still running when the timeout struck.
  int Drain(absl::Duration timeout);

  // Stops accepting calls, cancels those in flight (their upstream transfers
  // are aborted), stops the batch job runner (items in flight run again at
  // the next start), then tears down the HTTP loop.
  void Shutdown();

 private:
  GatewayServer() = default;

  std::unique_ptr<http::HttpClient> http_;
  std::vector<std::unique_ptr<Adapter>> adapters_;
  std::unique_ptr<routing::Router> router_;
  std::unique_ptr<routing::CallEngine> engine_;
  std::unique_ptr<batch::JobRunner> batch_runner_;
  CallTracker tracker_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<GenerationService> generation_;
  std::unique_ptr<ModelsService> models_;
  std::unique_ptr<BatchJobsService> batch_jobs_;
  // Outlives server_: gRPC reads its files while serving.
  std::unique_ptr<tls::ServerTls> tls_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<metrics::MetricsHttpServer> metrics_http_;
  std::shared_ptr<listener::ConnectionLimits> connection_limits_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_GATEWAY_SERVER_H_
