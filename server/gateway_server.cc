// Server assembly and shutdown order.
#include "server/gateway_server.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/providers/provider_factory.h"

namespace llmgateway {
namespace {

// Media parts travel inline; the default 4 MiB is too small for a PDF.
constexpr int kMaxMessageBytes = 64 << 20;

}  // namespace

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(
    const config::GatewayConfig& config) {
  std::unique_ptr<GatewayServer> gateway(new GatewayServer());
  gateway->http_ = std::make_unique<http::HttpClient>();
  absl::flat_hash_map<std::string, Provider*> by_name;
  for (const config::Provider& provider_config : config.providers()) {
    absl::StatusOr<std::unique_ptr<Provider>> provider =
        MakeProvider(provider_config, gateway->http_.get());
    if (!provider.ok()) return provider.status();
    by_name[provider_config.name()] = provider->get();
    gateway->providers_.push_back(*std::move(provider));
  }
  gateway->router_ = std::make_unique<Router>(config, std::move(by_name));
  gateway->generation_ = std::make_unique<GenerationService>(gateway->router_.get());
  gateway->models_ = std::make_unique<ModelsService>(gateway->router_.get());
  gateway->batch_jobs_ = std::make_unique<llmgateway::v1::BatchJobs::CallbackService>();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen(), grpc::InsecureServerCredentials(),
                           &gateway->port_);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(gateway->generation_.get());
  builder.RegisterService(gateway->models_.get());
  builder.RegisterService(gateway->batch_jobs_.get());
  gateway->server_ = builder.BuildAndStart();
  if (gateway->server_ == nullptr || gateway->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen(), " (address in use?)"));
  }
  return gateway;
}

void GatewayServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // Calls still running after the grace period are cancelled; their
  // reactors cancel the upstream transfers, which the HTTP loop completes.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  // Completes anything left with CANCELLED while providers still exist.
  http_.reset();
}

GatewayServer::~GatewayServer() {
  if (server_ != nullptr) Shutdown();
}

}  // namespace llmgateway
