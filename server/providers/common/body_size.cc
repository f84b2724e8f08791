// Request body size estimate (see body_size.h).
#include "server/providers/common/body_size.h"

#include <string>

namespace llmgateway::providers {

using ::llmgateway::v1::Part;

size_t EstimateBodySize(const v1::GenerateRequest& r,
                        absl::string_view upstream_model,
                        const google::protobuf::Struct* provider_options,
                        const BodyFraming& framing) {
  size_t n =
      256 + upstream_model.size() + r.prompt().size() + r.end_user_id().size();
  for (const v1::Message& m : r.messages()) {
    n += framing.message;
    if (framing.message_name) n += m.name().size();
    for (const Part& p : m.parts()) {
      n += 32;
      switch (p.kind_case()) {
        case Part::kText:
          n += p.text().size();
          break;
        case Part::kMedia:
          // Inline data goes as base64.
          n += framing.media + p.media().uri().size() +
               (p.media().data().size() + 2) / 3 * 4;
          break;
        case Part::kToolCall:
          n += 64 + p.tool_call().id().size() + p.tool_call().name().size() +
               p.tool_call().arguments().size();
          break;
        case Part::kToolResult:
          n += framing.tool_result + p.tool_result().tool_call_id().size() +
               p.tool_result().content().size();
          break;
        case Part::kReasoning:
          if (framing.reasoning) {
            n += framing.reasoning_framing + p.reasoning().text().size() +
                 p.reasoning().signature().size() +
                 p.reasoning().redacted_data().size();
          }
          break;
        case Part::KIND_NOT_SET:
          break;
      }
    }
  }
  // Struct JSON runs larger than its wire size (quotes, punctuation).
  for (const v1::Tool& t : r.tools()) {
    n += 64 + t.name().size() + t.description().size() +
         2 * t.parameters().ByteSizeLong();
  }
  if (r.has_config()) {
    for (const std::string& s : r.config().stop_sequences()) n += 4 + s.size();
    if (r.config().response_format().has_json_schema()) {
      n += framing.json_schema +
           2 * r.config().response_format().json_schema().ByteSizeLong();
    }
  }
  if (provider_options != nullptr) n += 2 * provider_options->ByteSizeLong();
  // Escapes (newlines and quotes in prompts) make the body a bit longer than
  // its text.
  return n + n / 16;
}

}  // namespace llmgateway::providers
