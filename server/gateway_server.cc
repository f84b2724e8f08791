// Server assembly and shutdown order.
#include "server/gateway_server.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/api/malformed_request.h"
#include "server/api/request_validation.h"
#include "server/listener/connection_limits.h"
#include "server/metrics/gateway_metrics.h"
#include "server/providers/adapter_factory.h"
#include "server/routing/retry_policy.h"

namespace llmgateway {
namespace {

// Answers carry text; a large delta is split before it gets here.
constexpr int kMaxSendMessageBytes = 64 << 20;

// What grpc.health.v1 reports on besides the whole server ("").
constexpr absl::string_view kServiceNames[] = {
    "llmgateway.v1.Generation", "llmgateway.v1.BatchJobs", "llmgateway.v1.Models"};

batch::RunnerOptions RunnerOptionsFromConfig(const config::Batch& batch) {
  batch::RunnerOptions options;
  options.default_concurrency = batch.job_default_concurrency();
  options.max_concurrency = batch.job_max_concurrency();
  options.retention = routing::FromProto(batch.retention());
  return options;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(
    const config::GatewayConfig& config) {
  std::unique_ptr<GatewayServer> gateway(new GatewayServer());
  gateway->http_ = std::make_unique<http::HttpClient>();
  absl::flat_hash_map<std::string, const Adapter*> by_name;
  for (const config::Provider& provider_config : config.providers()) {
    absl::StatusOr<std::unique_ptr<Adapter>> adapter = MakeAdapter(provider_config);
    if (!adapter.ok()) return adapter.status();
    by_name[provider_config.name()] = adapter->get();
    gateway->adapters_.push_back(*std::move(adapter));
  }
  gateway->router_ = std::make_unique<routing::Router>(config, std::move(by_name));
  gateway->engine_ =
      std::make_unique<routing::CallEngine>(gateway->router_.get(), gateway->http_.get());
  gateway->authorizer_ = std::make_unique<auth::Authorizer>(config.auth());
  gateway->generation_ = std::make_unique<GenerationService>(GenerationDeps{
      gateway->engine_.get(), &gateway->tracker_, gateway->authorizer_.get(),
      config.batch().generate_default_concurrency(), config.batch().generate_max_concurrency()});
  gateway->models_ =
      std::make_unique<ModelsService>(gateway->router_.get(), gateway->authorizer_.get());
  const config::Limits& limits = config.limits();
  gateway->tracker_.SetLimits(limits.max_calls_in_flight(), limits.max_request_bytes_in_flight());
  SetRequestLimits(
      RequestLimits{limits.max_messages_per_request(), limits.max_media_bytes_per_request()});

  if (!config.metrics_listen().empty()) {
    absl::StatusOr<std::unique_ptr<metrics::MetricsHttpServer>> metrics_http =
        metrics::MetricsHttpServer::Start(config.metrics_listen(),
                                          &metrics::Metrics().registry);
    if (!metrics_http.ok()) return metrics_http.status();
    gateway->metrics_http_ = *std::move(metrics_http);
  }

  // The job store opens before the port does: a store that cannot be
  // written stops start-up, naming its path.
  absl::StatusOr<std::unique_ptr<batch::JobStore>> store =
      batch::JobStore::Open(config.batch().store_path());
  if (!store.ok()) return store.status();
  routing::CallEngine* engine = gateway->engine_.get();
  absl::StatusOr<std::unique_ptr<batch::JobRunner>> runner = batch::JobRunner::Start(
      *std::move(store),
      [engine](const llmgateway::v1::GenerateRequest* request, routing::CallOptions options,
               routing::CallObserver* observer) {
        return engine->Start(request, std::move(options), observer);
      },
      RunnerOptionsFromConfig(config.batch()));
  if (!runner.ok()) return runner.status();
  gateway->batch_runner_ = *std::move(runner);
  gateway->batch_jobs_ = std::make_unique<BatchJobsService>(BatchJobsDeps{
      gateway->batch_runner_.get(), &gateway->tracker_, gateway->authorizer_.get(),
      config.batch().max_items(),
      config.batch().max_request_bytes()});

  grpc::EnableDefaultHealthCheckService(true);
  // Registers grpc.health.v1's descriptors (a static link drops an object
  // nothing references): reflection can then describe the health service,
  // so `buf curl --list-methods` and grpcurl's `list` work for every service.
  grpc::health::v1::HealthCheckRequest::descriptor();
  // Must be called before the builder exists to take effect; off when
  // config says so (health stays: probes carry no key).
  if (!config.has_reflection() || config.reflection()) {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  }
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!config.tls().cert_file().empty()) {
    absl::StatusOr<std::unique_ptr<tls::ServerTls>> tls = tls::ServerTls::Create(config.tls());
    if (!tls.ok()) return tls.status();
    gateway->tls_ = *std::move(tls);
    credentials = gateway->tls_->credentials();
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen(), credentials, &gateway->port_);
  // Media parts travel inline; gRPC's default 4 MiB is too small for a
  // PDF. (gRPC's limit is per server: a larger batch.max_request_bytes
  // raises it for every service.)
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::max(limits.max_receive_message_bytes(), config.batch().max_request_bytes())));
  builder.SetMaxSendMessageSize(kMaxSendMessageBytes);
  // Connection cap, handshake/idle/age timeouts, streams per connection.
  gateway->connection_limits_ = listener::ConnectionLimits::Apply(limits, &builder);
  // gRPC's own memory (read buffers, call arenas): under pressure it
  // shrinks buffers and drops new connections instead of growing.
  grpc::ResourceQuota quota("llm-gateway");
  quota.Resize(static_cast<size_t>(limits.memory_limit_bytes()));
  builder.SetResourceQuota(quota);
  // Clients ping open calls (llmgw and the C++ client every 30 s) so a dead
  // connection fails a long stream instead of hanging it. gRPC's default
  // answers pings closer than 5 minutes apart, on a call still waiting for
  // its first token, with GOAWAY (too_many_pings).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  // Undecodable requests: INVALID_ARGUMENT saying why, not gRPC's bare
  // UNIMPLEMENTED.
  InstallProtobufLogHandler();
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(MalformedRequestInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(gateway->generation_.get());
  builder.RegisterService(gateway->models_.get());
  builder.RegisterService(gateway->batch_jobs_.get());
  gateway->server_ = builder.BuildAndStart();
  if (gateway->server_ == nullptr || gateway->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen(), " (address in use?)"));
  }
  gateway->connection_limits_->AfterStart();
  // Health answers for each service by name, not only for "" (the server).
  for (absl::string_view service : kServiceNames) {
    gateway->server_->GetHealthCheckService()->SetServingStatus(std::string(service), true);
  }
  return gateway;
}

absl::StatusOr<std::string> GatewayServer::ReloadTls() {
  if (tls_ == nullptr) return absl::FailedPreconditionError("TLS is not configured");
  return tls_->Reload();
}

int GatewayServer::Drain(absl::Duration timeout) {
  // Load balancers polling health stop sending first; callers that still
  // arrive get a clear UNAVAILABLE they can retry elsewhere.
  server_->GetHealthCheckService()->SetServingStatus(false);
  tracker_.StartDraining();
  // Batch job items in flight may finish too (a result recorded now is not
  // paid for twice); the job resumes at the next start.
  batch_runner_->StopStarting();
  const absl::Time deadline = absl::Now() + timeout;
  int left = tracker_.WaitIdle(timeout) ? 0 : tracker_.in_flight();
  while (batch_runner_->in_flight() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  left += batch_runner_->in_flight();
  Shutdown();
  return left;
}

void GatewayServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // Calls still running are cancelled now; their reactors cancel their
  // engine calls, whose transfers the HTTP loop aborts and completes.
  server_->Shutdown(std::chrono::system_clock::now());
  // Items in flight are aborted (no result: they run again at the next
  // start) while the HTTP loop still runs to complete them.
  if (batch_runner_ != nullptr) batch_runner_->Stop();
  // Completes anything left with CANCELLED (pending timers run early) while
  // the engine, router and adapters still exist.
  http_.reset();
}

GatewayServer::~GatewayServer() {
  if (server_ != nullptr) Shutdown();
}

}  // namespace llmgateway
