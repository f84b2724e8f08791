// Serves a metrics registry as Prometheus text on GET /metrics
// (--metrics_listen), on libmicrohttpd's own thread: a scrape never waits
// for the gateway's gRPC or HTTP-loop threads, nor they for it.
#ifndef LLM_GATEWAY_SERVER_METRICS_METRICS_HTTP_H_
#define LLM_GATEWAY_SERVER_METRICS_METRICS_HTTP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/metrics/metrics.h"

struct MHD_Daemon;

namespace llmgateway::metrics {

class MetricsHttpServer {
 public:
  // `listen` is IPV4:PORT (PORT 0 picks one); `registry` outlives the server.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& listen,
                                                                  const Registry* registry);
  ~MetricsHttpServer();

  int port() const { return port_; }

 private:
  MetricsHttpServer() = default;

  const Registry* registry_ = nullptr;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
};

}  // namespace llmgateway::metrics

#endif  // LLM_GATEWAY_SERVER_METRICS_METRICS_HTTP_H_
