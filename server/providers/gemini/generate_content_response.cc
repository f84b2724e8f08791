// GenerateContentResponse JSON -> v1 GenerateResponse: content_fields reads
// the body into views, and the answer is built from them while the parser
// still holds them.
#include "server/providers/gemini/generate_content_response.h"

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/providers/common/response_body.h"
#include "server/providers/gemini/content_fields.h"
#include "server/providers/json/json_input.h"
#include "server/providers/json/json_read.h"
#include "simdjson.h"

namespace llmgateway::gemini {
namespace {

namespace od = ::simdjson::ondemand;

constexpr absl::string_view kMalformed =
    "upstream returned a malformed Gemini response: ";

void Assign(std::string_view from, std::string* to) {
  to->assign(from.data(), from.size());
}

// The answer from the first candidate's parts, in order.
void BuildAnswer(const ResponseView& view, v1::GenerateResponse* r) {
  Assign(view.response_id, r->mutable_id());
  Assign(view.model_version, r->mutable_model());
  v1::Message* m = r->mutable_message();
  m->set_role(v1::ROLE_ASSISTANT);
  int tool_calls = 0;
  for (const PartView& p : *view.parts) {
    if (p.thought) {
      if (p.text.empty() && p.thought_signature.empty()) continue;
      v1::Reasoning* reasoning = m->add_parts()->mutable_reasoning();
      Assign(p.text, reasoning->mutable_text());
      Assign(p.thought_signature, reasoning->mutable_signature());
      continue;
    }
    // The signature of a text or call part: a Reasoning part of its own,
    // right before the part it signs.
    if (!p.thought_signature.empty()) {
      Assign(p.thought_signature,
             m->add_parts()->mutable_reasoning()->mutable_signature());
    }
    if (p.function_call) {
      v1::ToolCall* call = m->add_parts()->mutable_tool_call();
      *call->mutable_id() = ToolCallId(p.call_id, view.response_id, tool_calls++);
      Assign(p.call_name, call->mutable_name());
      Assign(p.call_args.empty() ? std::string_view("{}") : p.call_args,
             call->mutable_arguments());
    } else if (!p.text.empty()) {
      r->mutable_text()->append(p.text.data(), p.text.size());
      Assign(p.text, m->add_parts()->mutable_text());
    }
  }
  r->set_finish_reason(
      AnswerFinishReason(json::AbslView(view.finish_reason), tool_calls));
  if (view.has_usage) ToV1Usage(view.usage, r->mutable_usage());
}

}  // namespace

absl::Status ParseGenerateContentResponse(const std::string& body,
                                          absl::string_view provider,
                                          v1::GenerateResponse* out) {
  // Parts are views into the parser: one vector per thread, reused.
  thread_local std::vector<PartView> parts;
  v1::GenerateResponse r;
  absl::Status blocked;
  const absl::Status s = json::ParseBody(
      body, [&](od::parser& parser, simdjson::padded_string_view json) {
        ResponseView view;
        view.parts = &parts;
        absl::Status read = ReadResponse(parser, json, &view);
        if (!read.ok()) return read;
        if (view.error) {
          return absl::UnavailableError("the body is an error object");
        }
        if (view.candidates == 0) {
          if (!view.block_reason.empty()) {
            blocked = PromptBlocked(provider, json::AbslView(view.block_reason));
            return blocked;
          }
          return absl::UnavailableError("no candidates");
        }
        BuildAnswer(view, &r);
        return absl::OkStatus();
      });
  // A huge answer's parts need not stay around for the thread's next one.
  if (parts.capacity() > 1024) std::vector<PartView>().swap(parts);
  if (!blocked.ok()) return blocked;
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat(kMalformed, s.message()));
  }
  providers::MoveAnswer(&r, out);
  return absl::OkStatus();
}

}  // namespace llmgateway::gemini
