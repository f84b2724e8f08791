// The gateway's own metrics (DESIGN.md, "Start-up"), one set per process,
// served on --metrics_listen. Label values are bounded: method and code
// names, provider names from config, model names as callers send them but
// capped per family (metrics.h), label text never a prompt or a key.
#ifndef LLM_GATEWAY_SERVER_METRICS_GATEWAY_METRICS_H_
#define LLM_GATEWAY_SERVER_METRICS_GATEWAY_METRICS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/metrics/metrics.h"

namespace llmgateway::metrics {

struct GatewayMetrics {
  GatewayMetrics();

  Registry registry;
  // {method, model, provider, code}: every RPC, when it ends.
  Counter* requests;
  // {method}: whole RPC, seconds.
  Histogram* request_duration;
  // GenerateStream: from the RPC's start to its first delta, seconds.
  Histogram* time_to_first_token;
  // {model, provider, type}: type "prompt" or "completion".
  Counter* tokens;
  // {provider, outcome}: every upstream request; outcome is the attempt's
  // status code name (OK, UNAVAILABLE, ...).
  Counter* upstream_attempts;
  // GenerateStream calls open now.
  Gauge* open_streams;
  // {state}: batch items (BatchGenerate and jobs) as they finish:
  // "succeeded" or "failed".
  Counter* batch_items;
  // With caller auth: {key, code} every model call of a key (each
  // BatchGenerate item, each CreateBatchJob), and {key, type} its tokens.
  Counter* key_requests;
  Counter* key_tokens;
  // {reason}: calls refused before any key was known (API_KEY_MISSING,
  // API_KEY_INVALID).
  Counter* auth_failures;
  // Log lines dropped because the log writer's queue was full (stderr
  // slower than the gateway logs).
  Counter* log_lines_dropped;
  // {reason}: caller connections closed at accept (server/listener):
  // "max_connections" (the cap) or "descriptors" (few descriptors left).
  Counter* connections_rejected;
  // Caller connections counted open at the last accept (closed ones are
  // noticed when the count reaches the cap).
  Gauge* connections_open;
  // {limit}: generation calls refused at once because the gateway was
  // full: "calls_in_flight" or "request_bytes_in_flight".
  Counter* calls_rejected;
};

// The process's metrics (created on first use, never destroyed).
GatewayMetrics& Metrics();

// One finished RPC: llmgateway_requests_total and the duration histogram.
// `provider` is "" when no upstream answered.
void RecordRpc(absl::string_view method, absl::string_view model, absl::string_view provider,
               absl::StatusCode code, absl::Duration elapsed);
// Tokens of one answer.
void RecordTokens(absl::string_view model, absl::string_view provider, int64_t prompt,
                  int64_t completion);
// One upstream request.
void RecordAttempt(absl::string_view provider, absl::StatusCode outcome);
// One batch item (BatchGenerate or a job's) with its final outcome.
void RecordBatchItem(bool succeeded);
// A key's model call, and its tokens when it ends.
void RecordKeyRequest(absl::string_view key_id, absl::StatusCode code);
void RecordKeyTokens(absl::string_view key_id, int64_t prompt, int64_t completion);
// A call refused for want of a valid key.
void RecordAuthFailure(absl::string_view reason);
// One log line dropped (the log writer's on_drop hook).
void RecordLogLineDropped();
// One caller connection closed at accept; `reason` as in connections_rejected.
void RecordConnectionRejected(absl::string_view reason);
// The caller connections counted open now.
void SetConnectionsOpen(int64_t open);
// One generation call refused by a gateway-wide limit (calls_rejected).
void RecordCallRejected(absl::string_view limit);

}  // namespace llmgateway::metrics

#endif  // LLM_GATEWAY_SERVER_METRICS_GATEWAY_METRICS_H_
