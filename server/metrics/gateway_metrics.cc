// The gateway's metric families and their buckets.
#include "server/metrics/gateway_metrics.h"

namespace llmgateway::metrics {

GatewayMetrics::GatewayMetrics()
    : requests(registry.AddCounter("llmgateway_requests_total",
                                   "RPCs by method, model, answering provider and status code.",
                                   {"method", "model", "provider", "code"})),
      request_duration(registry.AddHistogram(
          "llmgateway_request_duration_seconds", "Whole RPC time, seconds.", {"method"},
          {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300})),
      time_to_first_token(registry.AddHistogram(
          "llmgateway_time_to_first_token_seconds",
          "GenerateStream: from the call's start to its first delta, seconds.", {},
          {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})),
      tokens(registry.AddCounter("llmgateway_tokens_total",
                                 "Tokens by model, provider and type (prompt, completion).",
                                 {"model", "provider", "type"})),
      upstream_attempts(registry.AddCounter(
          "llmgateway_upstream_attempts_total",
          "Upstream requests (retries and fallbacks included) by provider and outcome.",
          {"provider", "outcome"})),
      open_streams(registry.AddGauge("llmgateway_open_streams", "GenerateStream calls open now.",
                                     {})),
      batch_items(registry.AddCounter("llmgateway_batch_items_total",
                                      "Batch items (BatchGenerate and jobs) by outcome.",
                                      {"state"})),
      key_requests(registry.AddCounter("llmgateway_key_requests_total",
                                       "Model calls by caller API key id and status code.",
                                       {"key", "code"})),
      key_tokens(registry.AddCounter("llmgateway_key_tokens_total",
                                     "Tokens by caller API key id and type (prompt, completion).",
                                     {"key", "type"})),
      auth_failures(registry.AddCounter("llmgateway_auth_failures_total",
                                        "Calls refused for want of a valid API key, by reason.",
                                        {"reason"})),
      log_lines_dropped(registry.AddCounter(
          "llmgateway_log_lines_dropped_total",
          "Log lines dropped because stderr could not keep up (the log queue was full).",
          {})),
      connections_rejected(registry.AddCounter(
          "llmgateway_connections_rejected_total",
          "Caller connections closed at accept, by reason (max_connections, descriptors).",
          {"reason"})),
      connections_open(registry.AddGauge(
          "llmgateway_connections_open",
          "Caller connections counted open at the last accept.", {})),
      calls_rejected(registry.AddCounter(
          "llmgateway_calls_rejected_total",
          "Generation calls refused at once by a gateway-wide limit, by limit.", {"limit"})) {
  // Present from the first scrape, at 0.
  open_streams->Add({}, 0);
  batch_items->Add({"succeeded"}, 0);
  batch_items->Add({"failed"}, 0);
  log_lines_dropped->Add({}, 0);
  connections_rejected->Add({"max_connections"}, 0);
  connections_rejected->Add({"descriptors"}, 0);
  connections_open->Add({}, 0);
  calls_rejected->Add({"calls_in_flight"}, 0);
  calls_rejected->Add({"request_bytes_in_flight"}, 0);
}

GatewayMetrics& Metrics() {
  static GatewayMetrics* const metrics = new GatewayMetrics();
  return *metrics;
}

void RecordRpc(absl::string_view method, absl::string_view model, absl::string_view provider,
               absl::StatusCode code, absl::Duration elapsed) {
  GatewayMetrics& m = Metrics();
  m.requests->Add({std::string(method), std::string(model), std::string(provider),
                   absl::StatusCodeToString(code)});
  m.request_duration->Observe({std::string(method)}, absl::ToDoubleSeconds(elapsed));
}

void RecordTokens(absl::string_view model, absl::string_view provider, int64_t prompt,
                  int64_t completion) {
  GatewayMetrics& m = Metrics();
  m.tokens->Add({std::string(model), std::string(provider), "prompt"},
                static_cast<double>(prompt));
  m.tokens->Add({std::string(model), std::string(provider), "completion"},
                static_cast<double>(completion));
}

void RecordAttempt(absl::string_view provider, absl::StatusCode outcome) {
  Metrics().upstream_attempts->Add({std::string(provider), absl::StatusCodeToString(outcome)});
}

void RecordBatchItem(bool succeeded) {
  Metrics().batch_items->Add({succeeded ? "succeeded" : "failed"});
}

void RecordKeyRequest(absl::string_view key_id, absl::StatusCode code) {
  Metrics().key_requests->Add({std::string(key_id), absl::StatusCodeToString(code)});
}

void RecordKeyTokens(absl::string_view key_id, int64_t prompt, int64_t completion) {
  GatewayMetrics& m = Metrics();
  m.key_tokens->Add({std::string(key_id), "prompt"}, static_cast<double>(prompt));
  m.key_tokens->Add({std::string(key_id), "completion"}, static_cast<double>(completion));
}

void RecordAuthFailure(absl::string_view reason) {
  Metrics().auth_failures->Add({std::string(reason)});
}

void RecordLogLineDropped() { Metrics().log_lines_dropped->Add({}); }

void RecordConnectionRejected(absl::string_view reason) {
  Metrics().connections_rejected->Add({std::string(reason)});
}

void SetConnectionsOpen(int64_t open) { Metrics().connections_open->Set({}, open); }

void RecordCallRejected(absl::string_view limit) {
  Metrics().calls_rejected->Add({std::string(limit)});
}

}  // namespace llmgateway::metrics
