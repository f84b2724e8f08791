// GenerateContentResponse JSON -> views, and the shared v1 mappings (see the
// header). One On-Demand pass per object, switching on each key, so key
// order does not matter (Gemini sends responseId after the candidates) and
// unknown fields cost only a skip.
#include "server/providers/gemini/content_fields.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "server/common/status_details.h"
#include "server/providers/json/json_read.h"
#include "server/providers/upstream_error.h"

namespace llmgateway::gemini {
namespace {

namespace od = ::simdjson::ondemand;
using ::llmgateway::json::AbslView;
using ::llmgateway::json::CheckNull;
using ::llmgateway::json::FieldError;
using ::llmgateway::json::ForEachElement;
using ::llmgateway::json::ForEachField;
using ::llmgateway::json::ForEachRootField;
using ::llmgateway::json::Malformed;
using ::llmgateway::json::ReadInt;
using ::llmgateway::json::ReadRawObject;
using ::llmgateway::json::ReadString;
using ::simdjson::error_code;

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<int64_t>::max()
               : std::numeric_limits<int64_t>::min();
}

// A boolean, or null (leaves *out as it was).
error_code ReadBool(od::value v, bool* out) {
  bool is_null;
  if (error_code e = CheckNull(v, &is_null); e || is_null) return e;
  return v.get_bool().get(*out);
}

absl::Status ReadFunctionCall(od::value v, const std::string& path,
                              PartView* part) {
  part->function_call = true;
  absl::Status s = ForEachField(v, path, [&](std::string_view key, od::value fv) {
    error_code e = simdjson::SUCCESS;
    if (key == "name") {
      e = ReadString(fv, &part->call_name);
    } else if (key == "id") {
      e = ReadString(fv, &part->call_id);
    } else if (key == "args") {
      e = ReadRawObject(fv, &part->call_args);
    }
    return e ? FieldError(path, key, e) : absl::OkStatus();
  });
  if (!s.ok()) return s;
  // A call without a name is no call the caller could make.
  if (part->call_name.empty()) {
    return Malformed(absl::StrCat(path, ".name: missing"),
                     simdjson::NO_SUCH_FIELD);
  }
  return absl::OkStatus();
}

absl::Status ReadPart(od::value v, const std::string& path, PartView* part) {
  return ForEachField(v, path, [&](std::string_view key, od::value fv) {
    error_code e = simdjson::SUCCESS;
    if (key == "text") {
      e = ReadString(fv, &part->text);
    } else if (key == "thought") {
      e = ReadBool(fv, &part->thought);
    } else if (key == "thoughtSignature") {
      e = ReadString(fv, &part->thought_signature);
    } else if (key == "functionCall") {
      bool is_null = false;
      if ((e = CheckNull(fv, &is_null))) return FieldError(path, key, e);
      if (is_null) return absl::OkStatus();
      return ReadFunctionCall(fv, absl::StrCat(path, ".functionCall"), part);
    }
    return e ? FieldError(path, key, e) : absl::OkStatus();
  });
}

// One element of `candidates`. Its parts are appended to view->parts; the
// caller drops them again unless this is the candidate it keeps.
absl::Status ReadCandidate(od::value v, const std::string& path,
                           ResponseView* view, int64_t* index,
                           std::string_view* finish_reason) {
  return ForEachField(v, path, [&](std::string_view key, od::value fv) {
    error_code e = simdjson::SUCCESS;
    if (key == "index") {
      e = ReadInt(fv, index);
    } else if (key == "finishReason") {
      e = ReadString(fv, finish_reason);
    } else if (key == "content") {
      const std::string content_path = absl::StrCat(path, ".content");
      return ForEachField(
          fv, content_path, [&](std::string_view ckey, od::value cv) {
            if (ckey != "parts") return absl::OkStatus();
            const std::string parts_path = absl::StrCat(content_path, ".parts");
            return ForEachElement(cv, parts_path, [&](size_t i, od::value pv) {
              return ReadPart(pv, absl::StrCat(parts_path, "[", i, "]"),
                              &view->parts->emplace_back());
            });
          });
    }
    return e ? FieldError(path, key, e) : absl::OkStatus();
  });
}

absl::Status ReadCandidates(od::value v, ResponseView* view) {
  bool kept = false;
  return ForEachElement(v, "candidates", [&](size_t i, od::value cv) {
    ++view->candidates;
    const size_t before = view->parts->size();
    int64_t index = 0;
    std::string_view finish_reason;
    absl::Status s = ReadCandidate(cv, absl::StrCat("candidates[", i, "]"),
                                   view, &index, &finish_reason);
    if (!s.ok()) return s;
    // v1 has one answer: the first candidate (candidateCount > 1 through
    // provider_options gives more, which are not read).
    if (kept || index != 0) {
      view->parts->resize(before);
    } else {
      kept = true;
      view->finish_reason = finish_reason;
    }
    return absl::OkStatus();
  });
}

absl::Status ReadUsage(od::value v, TokenUsage* usage) {
  constexpr absl::string_view kPath = "usageMetadata";
  return ForEachField(v, kPath, [&](std::string_view key, od::value fv) {
    int64_t* count = nullptr;
    int64_t total = 0;
    if (key == "promptTokenCount") {
      count = &usage->prompt;
    } else if (key == "candidatesTokenCount") {
      count = &usage->candidates;
    } else if (key == "cachedContentTokenCount") {
      count = &usage->cached;
    } else if (key == "thoughtsTokenCount") {
      count = &usage->thoughts;
    } else if (key == "toolUsePromptTokenCount") {
      count = &usage->tool_use_prompt;
    } else if (key == "totalTokenCount") {
      bool is_null = false;
      error_code e = CheckNull(fv, &is_null);
      if (!e && !is_null) e = ReadInt(fv, &total);
      if (e) return FieldError(kPath, key, e);
      if (!is_null) usage->total = total;
      return absl::OkStatus();
    }
    // The per-modality details have no v1 field.
    if (count == nullptr) return absl::OkStatus();
    if (error_code e = ReadInt(fv, count)) return FieldError(kPath, key, e);
    return absl::OkStatus();
  });
}

absl::Status ReadPromptFeedback(od::value v, ResponseView* view) {
  constexpr absl::string_view kPath = "promptFeedback";
  return ForEachField(v, kPath, [&](std::string_view key, od::value fv) {
    if (key != "blockReason") return absl::OkStatus();
    if (error_code e = ReadString(fv, &view->block_reason)) {
      return FieldError(kPath, key, e);
    }
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status ReadResponse(od::parser& parser, simdjson::padded_string_view json,
                          ResponseView* view) {
  view->parts->clear();
  return ForEachRootField(
      parser, json,
      [&](std::string_view key, od::value v) -> absl::Status {
        error_code e = simdjson::SUCCESS;
        if (key == "responseId") {
          e = ReadString(v, &view->response_id);
        } else if (key == "modelVersion") {
          e = ReadString(v, &view->model_version);
        } else if (key == "candidates") {
          // A repeated key replaces, as JSON parsers usually do (last wins).
          view->parts->clear();
          view->candidates = 0;
          view->finish_reason = {};
          return ReadCandidates(v, view);
        } else if (key == "usageMetadata") {
          bool is_null = false;
          if ((e = CheckNull(v, &is_null))) return Malformed("usageMetadata", e);
          view->usage = TokenUsage();
          view->has_usage = !is_null;
          if (!is_null) return ReadUsage(v, &view->usage);
        } else if (key == "promptFeedback") {
          return ReadPromptFeedback(v, view);
        } else if (key == "error") {
          view->error = true;
        }
        // Only the keys above set `e`: naming the key quotes nothing unknown.
        if (e) return Malformed(AbslView(key), e);
        return absl::OkStatus();
      },
      &view->error);
}

v1::FinishReason MapFinishReason(absl::string_view r) {
  if (r.empty() || r == "FINISH_REASON_UNSPECIFIED") {
    return v1::FINISH_REASON_UNSPECIFIED;
  }
  if (r == "STOP") return v1::FINISH_REASON_STOP;
  if (r == "MAX_TOKENS") return v1::FINISH_REASON_LENGTH;
  if (r == "SAFETY" || r == "RECITATION" || r == "BLOCKLIST" ||
      r == "PROHIBITED_CONTENT" || r == "SPII" || r == "IMAGE_SAFETY" ||
      r == "IMAGE_PROHIBITED_CONTENT" || r == "IMAGE_RECITATION") {
    return v1::FINISH_REASON_CONTENT_FILTER;
  }
  return v1::FINISH_REASON_OTHER;
}

bool EndsCandidate(absl::string_view finish_reason) {
  return MapFinishReason(finish_reason) != v1::FINISH_REASON_UNSPECIFIED;
}

v1::FinishReason AnswerFinishReason(absl::string_view finish_reason,
                                    int tool_calls) {
  const v1::FinishReason reason = MapFinishReason(finish_reason);
  if (reason == v1::FINISH_REASON_STOP && tool_calls > 0) {
    return v1::FINISH_REASON_TOOL_CALLS;
  }
  return reason;
}

void ToV1Usage(const TokenUsage& usage, v1::Usage* out) {
  const int64_t prompt = SaturatingAdd(usage.prompt, usage.tool_use_prompt);
  const int64_t completion = SaturatingAdd(usage.candidates, usage.thoughts);
  out->set_prompt_tokens(prompt);
  out->set_completion_tokens(completion);
  out->set_total_tokens(usage.total.has_value()
                            ? *usage.total
                            : SaturatingAdd(prompt, completion));
  out->set_cached_prompt_tokens(usage.cached);
  out->set_reasoning_tokens(usage.thoughts);
}

std::string ToolCallId(std::string_view call_id, std::string_view response_id,
                       int ordinal) {
  if (!call_id.empty()) return std::string(call_id);
  if (response_id.empty()) return absl::StrCat("call_", ordinal);
  return absl::StrCat("call_", AbslView(response_id), "_", ordinal);
}

absl::Status PromptBlocked(absl::string_view provider,
                           absl::string_view block_reason) {
  // An enum name from Google, but the upstream's words all the same.
  const std::string reason = BoundUpstreamMessage(std::string(block_reason));
  return WithErrorInfo(
      absl::InvalidArgumentError(absl::StrCat(
          "provider \"", provider,
          "\" blocked the prompt (promptFeedback.blockReason ", reason, ")")),
      "CONTENT_FILTERED", {{kMetaProvider, provider}, {"blockReason", reason}});
}

}  // namespace llmgateway::gemini
