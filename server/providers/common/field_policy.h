// What a provider's config lets a request body carry, for the adapters' body
// writers: the v1 fields it cannot take (Provider.capabilities:
// unsupported_fields, drop_unsupported), and the body keys the caller's
// provider_options entry sets itself. Every mapped field is checked in one
// line (`if (c.has_top_p() && policy.Send("config.top_p", "top_p"))`), and
// the first error of the body, the policy's or the writer's own, is kept
// here so the writer can look between stages and throw a half-written body
// away.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_COMMON_FIELD_POLICY_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_COMMON_FIELD_POLICY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/struct.pb.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/json/json_writer.h"

namespace llmgateway::providers {

// INVALID_ARGUMENT on `field`, reason UNSUPPORTED_FIELD, naming the field
// and the provider (its config name).
absl::Status NotSupported(absl::string_view field,
                          absl::string_view provider_name);

class FieldPolicy {
 public:
  // `provider_kind` is the key of the adapter's provider_options entry (the
  // provider *kind*, "openai", whatever name the provider has in the
  // config); `provider_name` that config name, for messages. All are
  // borrowed and must outlive the policy.
  FieldPolicy(const llmgateway::v1::GenerateRequest& request,
              absl::string_view provider_kind, absl::string_view provider_name,
              absl::Span<const std::string> unsupported_fields,
              bool drop_unsupported);

  // The body's first error; OK while there is none.
  const absl::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }
  // Keeps `s` unless an error came first.
  void Fail(absl::Status s);

  // Whether the provider's config lists `field` or a field above it
  // ("config.reasoning" covers "config.reasoning.effort").
  bool Listed(absl::string_view field) const;

  // Whether provider_options sets this body key itself: the option wins, so
  // the gateway's own value is not written (a JSON key must not repeat).
  bool Overridden(absl::string_view key) const;

  // A set field the provider cannot take: left out when dropping, else the
  // error naming it. Always false: there is nothing to write.
  bool Refuse(absl::string_view field);

  // Whether to write the set v1 `field` as the body's `key`.
  bool Send(absl::string_view field, absl::string_view key);

  // Send for a tool setting (tool_choice, parallel_tool_calls): a setting
  // means nothing to a provider without tools, so "tools" covers it too.
  bool SendToolSetting(absl::string_view field, absl::string_view key);

  // Fails when provider_options sets one of `gateway_keys`, the body keys
  // the gateway owns (model, messages, stream, ...): "provider_options[
  // \"<kind>\"].<key>: set by the gateway".
  void CheckProviderOptions(absl::Span<const absl::string_view> gateway_keys);

  // Writes provider_options' members into the open body object, last (as
  // the caller's final word on the body), with sorted keys like
  // JsonWriter::ProtoStruct: the same request gives the same bytes (golden
  // tests, request logs).
  void WriteProviderOptions(json::JsonWriter& w) const;

  // The provider_options entry, or null.
  const google::protobuf::Struct* provider_options() const {
    return provider_options_;
  }

 private:
  const absl::string_view provider_kind_;
  const absl::string_view provider_name_;
  const absl::Span<const std::string> unsupported_fields_;
  const bool drop_unsupported_;
  const google::protobuf::Struct* provider_options_ = nullptr;
  absl::Status status_;
};

}  // namespace llmgateway::providers

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_COMMON_FIELD_POLICY_H_
