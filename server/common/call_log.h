// The one line a generation call logs when it ends (issue 15), in the
// process's format. It holds what identifies and measures the call, never
// prompt text or keys: there is no field for either.
//
// text (unchanged since the first per-call line; key= only with caller auth):
//   <time> INFO rpc=Generate request_id=r1 key=team-a model=m provider=p code=OK ms=12
//   prompt_tokens=5 completion_tokens=4 labels=team:search attempts=1
//   [p/m:OK/200:11ms]
// json (stable field names):
//   {"time":"...","level":"INFO","request_id":"r1","key":"team-a","method":"Generate",
//    "model":"m","provider":"p","code":"OK","latency_ms":12,"attempts":1,
//    "input_tokens":5,"output_tokens":4,"labels":{"team":"search"},
//    "upstream_attempts":[{"provider":"p","model":"m","code":"OK",
//    "http_status":200,"latency_ms":11}]}
#ifndef LLM_GATEWAY_SERVER_COMMON_CALL_LOG_H_
#define LLM_GATEWAY_SERVER_COMMON_CALL_LOG_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/common/log.h"

namespace llmgateway {

// One upstream request of the call.
struct CallLogAttempt {
  absl::string_view provider;
  absl::string_view model;  // the upstream model name sent
  absl::StatusCode code = absl::StatusCode::kOk;
  int http_status = 0;  // 0: no HTTP answer
  int64_t latency_ms = 0;
  // curl's words for a network failure (they name the upstream's address,
  // which only the log may show); "" when none.
  absl::string_view network_error;
};

// Views into the call's own data: valid while the line is formatted.
struct CallLogRecord {
  absl::string_view method;  // "Generate", "GenerateStream"
  absl::string_view request_id;
  absl::string_view key_id;    // the caller's API key's id; "" when auth is off
  absl::string_view model;     // as the caller sent it
  absl::string_view provider;  // the one that answered; "" when none did
  absl::StatusCode code = absl::StatusCode::kOk;
  absl::string_view error;  // the status message when not OK (already scrubbed of keys)
  int64_t latency_ms = 0;
  bool has_usage = false;  // text: token fields only then; json: 0 without
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int messages = -1;  // GenerateStream: messages written; < 0: not a stream
  // Sorted by key (the same labels make the same line).
  std::vector<std::pair<absl::string_view, absl::string_view>> labels;
  std::vector<CallLogAttempt> attempts;
};

// One value of an RpcLogRecord: a number, or our own plain text (ids,
// state names), never caller text.
struct RpcLogField {
  absl::string_view key;
  std::string value;
  bool number = false;
};

// The line of an RPC that is not one generation (BatchGenerate, the
// BatchJobs calls): what it was about in `fields`.
//   text: <time> INFO rpc=CreateBatchJob request_id=r1 items=3 code=OK ms=4 job=b1
//   json: {"time":...,"level":"INFO","request_id":"r1","method":"CreateBatchJob",
//          "code":"OK","latency_ms":4,"items":3,"job":"b1"}
struct RpcLogRecord {
  absl::string_view method;
  absl::string_view request_id;
  absl::string_view key_id;  // "" when auth is off
  absl::StatusCode code = absl::StatusCode::kOk;
  absl::string_view error;  // the status message when not OK
  int64_t latency_ms = 0;
  std::vector<RpcLogField> fields;        // text: before code=
  std::vector<RpcLogField> after_fields;  // text: after ms= (known once the call is done)
};

std::string FormatRpcLogLine(const RpcLogRecord& record, LogFormat format, absl::Time time);
void LogRpc(const RpcLogRecord& record);

// The code's name as absl (and gRPC) spell it: "OK", "UNAVAILABLE", ...
absl::string_view StatusCodeName(absl::StatusCode code);

// The whole line, '\n' included; level INFO when OK, WARN otherwise.
std::string FormatCallLogLine(const CallLogRecord& record, LogFormat format, absl::Time time);

// Formats it in the process's format and writes (or queues) it.
void LogCall(const CallLogRecord& record);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_COMMON_CALL_LOG_H_
