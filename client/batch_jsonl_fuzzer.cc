// libFuzzer entry point for batch files: a whole OpenAI-style JSONL input
// file through ReadBatchInput, and each item's custom_id back out through
// FormatBatchOutputLine. Checks: errors say which line; an accepted file has
// one item per non-blank line with unique custom_ids, each wire-safe; and an
// output line is one line of JSON that gives the custom_id back, whatever
// it holds (a newline in it must not split the JSONL file).
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "client/batch_jsonl.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "llmgateway/v1/batch_jobs.pb.h"
#include "tests/fuzz/fuzz_checks.h"

using llmgateway::fuzz::Fail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string file(reinterpret_cast<const char*>(data), size);
  std::istringstream in(file);
  llmgateway::v1::CreateBatchJobRequest request;
  const absl::Status status = llmgateway::client::ReadBatchInput(in, &request);
  if (!status.ok()) {
    if (!absl::StartsWith(status.message(), "line ")) Fail("ReadBatchInput", status.ToString());
    return 0;
  }
  size_t lines = 0;
  for (absl::string_view line : absl::StrSplit(file, '\n')) {
    lines += !absl::StripAsciiWhitespace(line).empty();
  }
  if (static_cast<size_t>(request.items_size()) != lines) {
    Fail("ReadBatchInput", "not one item per non-blank line");
  }
  absl::flat_hash_set<std::string> ids;
  for (int i = 0; i < request.items_size(); ++i) {
    const auto& item = request.items(i);
    if (!ids.insert(item.custom_id()).second) Fail("ReadBatchInput", "custom_id repeats");
    llmgateway::fuzz::CheckWireSafe(item, "BatchJobItem");

    llmgateway::v1::BatchJobResult result;
    result.set_index(i);
    result.set_custom_id(item.custom_id());
    result.mutable_error()->set_code(3);
    result.mutable_error()->set_message(item.custom_id());
    const std::string out = llmgateway::client::FormatBatchOutputLine("batch_fuzz", result);
    if (out.find('\n') != std::string::npos) Fail("FormatBatchOutputLine", "not one line");
    google::protobuf::Struct back;
    if (!google::protobuf::util::JsonStringToMessage(out, &back).ok()) {
      Fail("FormatBatchOutputLine", "not JSON: " + out);
    }
    const auto it = back.fields().find("custom_id");
    if (it == back.fields().end() || it->second.string_value() != item.custom_id()) {
      Fail("FormatBatchOutputLine", "custom_id does not read back");
    }
  }
  return 0;
}
