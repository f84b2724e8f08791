#include "client/batch_jsonl.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/openai_chat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"

namespace llmgateway::client {
namespace {

namespace v1 = ::llmgateway::v1;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;

const Value* Member(const Struct& object, const std::string& key) {
  auto it = object.fields().find(key);
  return it == object.fields().end() ? nullptr : &it->second;
}

// A JSON value as protobuf prints it (strings escaped, objects compact).
template <typename Message>
std::string Json(const Message& message) {
  std::string out;
  // Printing a valid message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &out);
  return out;
}

std::string JsonString(const std::string& s) {
  Value v;
  v.set_string_value(s);
  return Json(v);
}

}  // namespace

absl::StatusOr<v1::BatchJobItem> ParseBatchInputLine(absl::string_view line) {
  Struct object;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(line.data(), line.size()), &object);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON object: ", parsed.message().as_string()));
  }
  v1::BatchJobItem item;
  const Value* custom_id = Member(object, "custom_id");
  if (custom_id == nullptr || custom_id->kind_case() != Value::kStringValue ||
      custom_id->string_value().empty()) {
    return absl::InvalidArgumentError("custom_id: is required (a non-empty string)");
  }
  item.set_custom_id(custom_id->string_value());
  if (const Value* method = Member(object, "method");
      method != nullptr && method->string_value() != "POST") {
    return absl::InvalidArgumentError("method: must be \"POST\"");
  }
  if (const Value* url = Member(object, "url"); url != nullptr &&
                                                url->string_value() != "/v1/chat/completions" &&
                                                url->string_value() != "/chat/completions") {
    return absl::InvalidArgumentError(
        "url: must be \"/v1/chat/completions\" (the only endpoint the gateway batches)");
  }
  const Value* body = Member(object, "body");
  if (body == nullptr || body->kind_case() != Value::kStructValue) {
    return absl::InvalidArgumentError("body: is required (a chat completions request object)");
  }
  absl::StatusOr<v1::GenerateRequest> request = ChatBodyToRequest(body->struct_value(), "body");
  if (!request.ok()) return request.status();
  *item.mutable_request() = *std::move(request);
  return item;
}

absl::Status ReadBatchInput(std::istream& in, v1::CreateBatchJobRequest* request) {
  absl::flat_hash_map<std::string, int> lines_by_id;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    absl::StatusOr<v1::BatchJobItem> item = ParseBatchInputLine(line);
    if (!item.ok()) {
      return absl::Status(item.status().code(),
                          absl::StrCat("line ", number, ": ", item.status().message()));
    }
    auto [it, inserted] = lines_by_id.emplace(item->custom_id(), number);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, ": custom_id \"",
                                                     absl::CHexEscape(item->custom_id()),
                                                     "\" repeats line ", it->second));
    }
    *request->add_items() = *std::move(item);
  }
  if (in.bad()) return absl::DataLossError("reading the batch file failed");
  return absl::OkStatus();
}

std::string FormatBatchOutputLine(absl::string_view job_id, const v1::BatchJobResult& result) {
  std::string line = absl::StrCat(R"({"id":)", JsonString(absl::StrCat(job_id, "-", result.index())),
                                   R"(,"custom_id":)", JsonString(result.custom_id()));
  if (result.has_response()) {
    absl::StrAppend(&line, R"(,"response":{"status_code":200,"request_id":)",
                    JsonString(result.response().id()), R"(,"body":)",
                    ToOpenAiJson(ResponseToChatCompletion(result.response())), R"(},"error":null})");
    return line;
  }
  const google::rpc::Status& error = result.error();
  std::string code = absl::StatusCodeToString(static_cast<absl::StatusCode>(error.code()));
  for (const auto& detail : error.details()) {
    google::rpc::ErrorInfo info;
    if (detail.UnpackTo(&info) && !info.reason().empty()) code = info.reason();
  }
  absl::StrAppend(&line, R"(,"response":null,"error":{"code":)", JsonString(code),
                  R"(,"message":)", JsonString(error.message()), "}}");
  return line;
}

}  // namespace llmgateway::client
