// Provider-independent checks of a GenerateRequest (what any provider would
// reject); what one provider cannot take is its adapter's concern.
#include "server/api/request_validation.h"

#include <atomic>
#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"

namespace llmgateway {
namespace {

// Inline media per part. Providers cap uploads at about this (OpenAI: 20 MB
// per image); failing here is faster and clearer than an upstream 400.
constexpr size_t kMaxMediaBytes = 20 << 20;

std::atomic<int> process_max_messages{RequestLimits{}.max_messages};
std::atomic<int64_t> process_max_media_bytes{RequestLimits{}.max_media_bytes};

using ::llmgateway::v1::GenerateRequest;
using ::llmgateway::v1::GenerationConfig;
using ::llmgateway::v1::Message;
using ::llmgateway::v1::Part;

absl::Status ValidatePart(const Part& part, const Message& message,
                          const std::string& field) {
  switch (part.kind_case()) {
    case Part::KIND_NOT_SET:
      return InvalidField(field, "has no content (set text, media, tool_call, "
                                 "tool_result or reasoning)");
    case Part::kMedia:
      if (part.media().mime_type().empty()) {
        return InvalidField(field + ".media.mime_type", "is required");
      }
      if (part.media().source_case() == v1::Media::SOURCE_NOT_SET) {
        return InvalidField(field + ".media", "has neither data nor uri");
      }
      if (part.media().data().size() > kMaxMediaBytes) {
        return InvalidField(field + ".media.data",
                            absl::StrCat("is ", part.media().data().size(),
                                         " bytes; at most ", kMaxMediaBytes, " are accepted"));
      }
      return absl::OkStatus();
    case Part::kToolCall:
      if (message.role() != v1::ROLE_ASSISTANT) {
        return InvalidField(field + ".tool_call", "only assistant messages hold tool calls");
      }
      if (part.tool_call().name().empty()) {
        return InvalidField(field + ".tool_call.name", "is required");
      }
      return absl::OkStatus();
    case Part::kToolResult:
      if (message.role() != v1::ROLE_TOOL) {
        return InvalidField(field + ".tool_result", "only tool messages hold tool results");
      }
      if (part.tool_result().tool_call_id().empty()) {
        return InvalidField(field + ".tool_result.tool_call_id", "is required");
      }
      return absl::OkStatus();
    case Part::kReasoning:
      if (message.role() != v1::ROLE_ASSISTANT) {
        return InvalidField(field + ".reasoning", "only assistant messages hold reasoning");
      }
      return absl::OkStatus();
    case Part::kText:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status ValidateMessage(const Message& message, int index) {
  const std::string field = absl::StrCat("messages[", index, "]");
  if (message.role() == v1::ROLE_UNSPECIFIED) {
    return InvalidField(field + ".role", "is required");
  }
  if (!v1::Role_IsValid(message.role())) {
    return InvalidField(field + ".role",
                        absl::StrCat("unknown role ", static_cast<int>(message.role())));
  }
  if (message.parts().empty()) {
    return InvalidField(field + ".parts", "must not be empty");
  }
  for (int j = 0; j < message.parts_size(); ++j) {
    absl::Status status =
        ValidatePart(message.parts(j), message, absl::StrCat(field, ".parts[", j, "]"));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status CheckRange(bool has, double value, double low, double high,
                        const char* field) {
  if (!has) return absl::OkStatus();
  if (!std::isfinite(value) || value < low || value > high) {
    return InvalidField(field, absl::StrCat("must be between ", low, " and ", high,
                                            ", got ", value));
  }
  return absl::OkStatus();
}

absl::Status ValidateConfig(const GenerationConfig& config) {
  if (config.has_max_output_tokens() && config.max_output_tokens() <= 0) {
    return InvalidField("config.max_output_tokens",
                        absl::StrCat("must be positive, got ", config.max_output_tokens()));
  }
  if (config.has_top_k() && config.top_k() <= 0) {
    return InvalidField("config.top_k", absl::StrCat("must be positive, got ", config.top_k()));
  }
  for (absl::Status status :
       {CheckRange(config.has_temperature(), config.temperature(), 0, 2,
                   "config.temperature"),
        CheckRange(config.has_top_p(), config.top_p(), 0, 1, "config.top_p"),
        CheckRange(config.has_presence_penalty(), config.presence_penalty(), -2, 2,
                   "config.presence_penalty"),
        CheckRange(config.has_frequency_penalty(), config.frequency_penalty(), -2, 2,
                   "config.frequency_penalty")}) {
    if (!status.ok()) return status;
  }
  for (int i = 0; i < config.stop_sequences_size(); ++i) {
    if (config.stop_sequences(i).empty()) {
      return InvalidField(absl::StrCat("config.stop_sequences[", i, "]"),
                          "must not be empty");
    }
  }
  return absl::OkStatus();
}

bool IsLabelText(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateLabels(const google::protobuf::Map<std::string, std::string>& labels,
                            absl::string_view field) {
  if (labels.size() > kMaxLabels) {
    return InvalidField(field, absl::StrCat(labels.size(), " labels; at most ", kMaxLabels));
  }
  for (const auto& [key, value] : labels) {
    // Keys are named in errors only once known to be plain label text.
    if (key.empty() || key.size() > kMaxLabelBytes || !absl::ascii_islower(key[0]) ||
        !IsLabelText(key)) {
      return InvalidField(field, absl::StrCat("key \"", absl::CHexEscape(key.substr(0, kMaxLabelBytes)),
                                              "\": 1-", kMaxLabelBytes,
                                              " lowercase letters, digits, _ or -, "
                                              "starting with a letter"));
    }
    if (value.size() > kMaxLabelBytes || !IsLabelText(value)) {
      return InvalidField(absl::StrCat(field, "[", key, "]"),
                          absl::StrCat("at most ", kMaxLabelBytes,
                                       " lowercase letters, digits, _ or -"));
    }
  }
  return absl::OkStatus();
}

namespace {

// Inline media bytes of all parts together, against the request's budget.
absl::Status CheckMediaTotal(const GenerateRequest& request, const RequestLimits& limits) {
  int64_t total = 0;
  for (int i = 0; i < request.messages_size(); ++i) {
    const Message& message = request.messages(i);
    for (int j = 0; j < message.parts_size(); ++j) {
      if (!message.parts(j).has_media()) continue;
      total += static_cast<int64_t>(message.parts(j).media().data().size());
      if (total > limits.max_media_bytes) {
        return InvalidField(
            absl::StrCat("messages[", i, "].parts[", j, "].media.data"),
            absl::StrCat("brings the request's inline media to ", total, " bytes; at most ",
                         limits.max_media_bytes,
                         " are accepted per request (limits.max_media_bytes_per_request)"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

void SetRequestLimits(const RequestLimits& limits) {
  process_max_messages = limits.max_messages;
  process_max_media_bytes = limits.max_media_bytes;
}

absl::Status ValidateGenerateRequest(const GenerateRequest& request) {
  return ValidateGenerateRequest(
      request, RequestLimits{process_max_messages.load(), process_max_media_bytes.load()});
}

absl::Status ValidateGenerateRequest(const GenerateRequest& request,
                                     const RequestLimits& limits) {
  // Sizes first: a request too big to check is refused before the walk.
  if (request.messages_size() > limits.max_messages) {
    return InvalidField("messages",
                        absl::StrCat("has ", request.messages_size(), " messages; at most ",
                                     limits.max_messages,
                                     " are accepted (limits.max_messages_per_request)"));
  }
  if (absl::Status media = CheckMediaTotal(request, limits); !media.ok()) return media;
  if (absl::Status labels = ValidateLabels(request.labels(), "labels"); !labels.ok()) {
    return labels;
  }
  if (request.model().empty()) return InvalidField("model", "is required");
  if (!request.prompt().empty() && !request.messages().empty()) {
    return InvalidField("prompt", "set either prompt or messages, not both");
  }
  if (request.prompt().empty() && request.messages().empty()) {
    return InvalidField("messages", "is required (or set prompt)");
  }
  for (int i = 0; i < request.messages_size(); ++i) {
    absl::Status status = ValidateMessage(request.messages(i), i);
    if (!status.ok()) return status;
  }
  if (request.has_routing()) {
    const v1::RoutingOptions& routing = request.routing();
    if (routing.has_max_attempts() && routing.max_attempts() < 1) {
      return InvalidField("routing.max_attempts",
                          absl::StrCat("must be at least 1, got ", routing.max_attempts()));
    }
    if (routing.has_attempt_timeout() &&
        (routing.attempt_timeout().seconds() < 0 || routing.attempt_timeout().nanos() < 0 ||
         (routing.attempt_timeout().seconds() == 0 && routing.attempt_timeout().nanos() == 0))) {
      return InvalidField("routing.attempt_timeout", "must be positive");
    }
  }
  if (request.has_config()) return ValidateConfig(request.config());
  return absl::OkStatus();
}

}  // namespace llmgateway
