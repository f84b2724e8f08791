// Batch files in OpenAI's JSONL shapes, so files made for OpenAI's Batch API
// run through the gateway unchanged: input lines into BatchJobItems, and
// BatchJobResults into output lines.
#ifndef LLM_GATEWAY_CLIENT_BATCH_JSONL_H_
#define LLM_GATEWAY_CLIENT_BATCH_JSONL_H_

#include <istream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/batch_jobs.pb.h"

namespace llmgateway::client {

// {"custom_id": "...", "method": "POST", "url": "/v1/chat/completions",
//  "body": {chat completions request}}. custom_id and body are required;
// method and url, when given, must be those. Errors name the field.
absl::StatusOr<llmgateway::v1::BatchJobItem> ParseBatchInputLine(absl::string_view line);

// Every non-blank line of `in` into `request->items`. custom_ids must be
// unique. Errors start with "line N: ".
absl::Status ReadBatchInput(std::istream& in, llmgateway::v1::CreateBatchJobRequest* request);

// {"id": "<job>-<index>", "custom_id": "...",
//  "response": {"status_code": 200, "request_id": "...", "body": {chat.completion}},
//  "error": null}
// or, for an item that failed, "response": null and
// "error": {"code": "<ErrorInfo reason, else gRPC code name>", "message": "..."}.
// No trailing newline.
std::string FormatBatchOutputLine(absl::string_view job_id,
                                  const llmgateway::v1::BatchJobResult& result);

}  // namespace llmgateway::client

#endif  // LLM_GATEWAY_CLIENT_BATCH_JSONL_H_
