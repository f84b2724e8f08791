// The unsupported-field and provider_options policy of one request body (see
// field_policy.h).
#include "server/providers/common/field_policy.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"

namespace llmgateway::providers {

absl::Status NotSupported(absl::string_view field,
                          absl::string_view provider_name) {
  return WithErrorInfo(
      InvalidField(field, absl::StrCat("not supported by provider \"",
                                       provider_name, "\"")),
      "UNSUPPORTED_FIELD",
      {{kMetaField, field}, {kMetaProvider, provider_name}});
}

FieldPolicy::FieldPolicy(const v1::GenerateRequest& request,
                         absl::string_view provider_kind,
                         absl::string_view provider_name,
                         absl::Span<const std::string> unsupported_fields,
                         bool drop_unsupported)
    : provider_kind_(provider_kind),
      provider_name_(provider_name),
      unsupported_fields_(unsupported_fields),
      drop_unsupported_(drop_unsupported) {
  auto it = request.provider_options().find(std::string(provider_kind));
  if (it != request.provider_options().end()) provider_options_ = &it->second;
}

void FieldPolicy::Fail(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
}

bool FieldPolicy::Listed(absl::string_view field) const {
  for (const std::string& entry : unsupported_fields_) {
    if (field == entry) return true;
    if (absl::StartsWith(field, entry) && field.size() > entry.size() &&
        field[entry.size()] == '.') {
      return true;
    }
  }
  return false;
}

bool FieldPolicy::Overridden(absl::string_view key) const {
  return provider_options_ != nullptr &&
         provider_options_->fields().count(std::string(key)) > 0;
}

bool FieldPolicy::Refuse(absl::string_view field) {
  if (!drop_unsupported_) Fail(NotSupported(field, provider_name_));
  return false;
}

bool FieldPolicy::Send(absl::string_view field, absl::string_view key) {
  if (Overridden(key)) return false;
  if (Listed(field)) return Refuse(field);
  return true;
}

bool FieldPolicy::SendToolSetting(absl::string_view field,
                                  absl::string_view key) {
  if (Overridden(key)) return false;
  if (Listed("tools") || Listed(field)) return Refuse(field);
  return true;
}

void FieldPolicy::CheckProviderOptions(
    absl::Span<const absl::string_view> gateway_keys) {
  if (provider_options_ == nullptr) return;
  for (absl::string_view key : gateway_keys) {
    if (provider_options_->fields().count(std::string(key)) > 0) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("provider_options[\"", provider_kind_, "\"].", key,
                       ": set by the gateway")));
    }
  }
}

void FieldPolicy::WriteProviderOptions(json::JsonWriter& w) const {
  if (provider_options_ == nullptr) return;
  using Entry =
      google::protobuf::Map<std::string, google::protobuf::Value>::value_type;
  std::vector<const Entry*> entries;
  entries.reserve(provider_options_->fields().size());
  for (const Entry& e : provider_options_->fields()) entries.push_back(&e);
  std::sort(entries.begin(), entries.end(),
            [](const Entry* a, const Entry* b) { return a->first < b->first; });
  for (const Entry* e : entries) w.Key(e->first).ProtoValue(e->second);
}

}  // namespace llmgateway::providers
