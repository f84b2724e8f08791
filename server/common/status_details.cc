// google.rpc details as absl::Status payloads.
#include "server/common/status_details.h"

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/duration.pb.h"

namespace llmgateway {
namespace {

constexpr absl::string_view kTypePrefix = "type.googleapis.com/";

template <typename Message>
std::string TypeUrl() {
  return absl::StrCat(kTypePrefix, Message::descriptor()->full_name());
}

template <typename Message>
void SetDetail(absl::Status& status, const Message& detail) {
  status.SetPayload(TypeUrl<Message>(), absl::Cord(detail.SerializeAsString()));
}

template <typename Message>
std::optional<Message> GetDetail(const absl::Status& status) {
  auto payload = status.GetPayload(TypeUrl<Message>());
  if (!payload.has_value()) return std::nullopt;
  Message detail;
  if (!detail.ParseFromString(std::string(*payload))) return std::nullopt;
  return detail;
}

}  // namespace

absl::Status WithErrorInfo(absl::Status status, absl::string_view reason,
                           Metadata metadata) {
  if (status.ok()) return status;
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kErrorDomain));
  for (const auto& [key, value] : metadata) {
    if (!value.empty()) (*info.mutable_metadata())[std::string(key)] = std::string(value);
  }
  SetDetail(status, info);
  return status;
}

absl::Status WithErrorMetadata(absl::Status status, absl::string_view key,
                               absl::string_view value) {
  if (status.ok() || value.empty()) return status;
  google::rpc::ErrorInfo info = GetDetail<google::rpc::ErrorInfo>(status).value_or(
      google::rpc::ErrorInfo());
  if (info.reason().empty()) {
    info.set_reason(DefaultReason(status.code()));
    info.set_domain(std::string(kErrorDomain));
  }
  (*info.mutable_metadata())[std::string(key)] = std::string(value);
  SetDetail(status, info);
  return status;
}

absl::Status WithRetryInfo(absl::Status status, absl::Duration retry_delay) {
  if (status.ok()) return status;
  google::rpc::RetryInfo retry;
  // A google.protobuf.Duration must be finite with nanos in [0, 1e9): an
  // infinite or negative delay would make a malformed one.
  if (retry_delay < absl::ZeroDuration()) retry_delay = absl::ZeroDuration();
  if (retry_delay > absl::Hours(24 * 365)) retry_delay = absl::Hours(24 * 365);
  const int64_t seconds = absl::ToInt64Seconds(retry_delay);
  retry.mutable_retry_delay()->set_seconds(seconds);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(retry_delay - absl::Seconds(seconds))));
  SetDetail(status, retry);
  return status;
}

std::optional<google::rpc::ErrorInfo> GetErrorInfo(const absl::Status& status) {
  return GetDetail<google::rpc::ErrorInfo>(status);
}

std::optional<google::rpc::RetryInfo> GetRetryInfo(const absl::Status& status) {
  return GetDetail<google::rpc::RetryInfo>(status);
}

absl::Status InvalidField(absl::string_view field, absl::string_view description) {
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(field, ": ", description));
  google::rpc::BadRequest bad_request;
  auto* violation = bad_request.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_description(std::string(description));
  SetDetail(status, bad_request);
  return WithErrorInfo(std::move(status), "INVALID_REQUEST", {{kMetaField, field}});
}

absl::Status WithFieldPrefix(const absl::Status& status, absl::string_view prefix) {
  std::optional<google::rpc::BadRequest> bad_request = GetDetail<google::rpc::BadRequest>(status);
  if (!bad_request.has_value() || bad_request->field_violations().empty()) return status;
  const google::rpc::BadRequest::FieldViolation& violation = bad_request->field_violations(0);
  return InvalidField(absl::StrCat(prefix, violation.field()), violation.description());
}

std::string DefaultReason(absl::StatusCode code) {
  // absl::StatusCodeToString gives "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", ...
  // already UPPER_SNAKE_CASE, which AIP-193 asks of a reason.
  return absl::AsciiStrToUpper(absl::StatusCodeToString(code));
}

}  // namespace llmgateway
