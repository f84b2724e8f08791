// Parses a unary answer's body into a v1 GenerateResponse the way every
// adapter must: in place when the body allows it, into a fresh message that
// replaces the caller's only on success, and with failures reported as
// UNAVAILABLE (to the caller a broken answer is a failed upstream call, which
// the routing layer may retry or fall back from).
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_COMMON_RESPONSE_BODY_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_COMMON_RESPONSE_BODY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "llmgateway/v1/generation.pb.h"
#include "server/providers/json/json_input.h"
#include "simdjson.h"

namespace llmgateway::providers {

// Moves what a body parser sets (id, model, message, text, finish_reason,
// usage) from *from into *to; the rest of *to (provider) is left alone.
void MoveAnswer(llmgateway::v1::GenerateResponse* from,
                llmgateway::v1::GenerateResponse* to);

// Runs parse(parser, json, &response) on `body` (json::ParseBody: in place
// with http::kBodyPadding spare capacity, else one copy) and moves the
// response into *out. A failure is UNAVAILABLE "<malformed_prefix><its
// message>", with *out untouched; the messages name paths into the body,
// never its content (it may hold the end user's data). Each caller's lambda
// has a thread parser of its own (json::WithParser).
template <typename Parse>
absl::Status ParseResponseBody(const std::string& body,
                               absl::string_view malformed_prefix,
                               Parse&& parse,
                               llmgateway::v1::GenerateResponse* out) {
  static_assert(json::kIsLambda<Parse>,
                "pass a lambda: it keys the thread's parser");
  llmgateway::v1::GenerateResponse r;
  const absl::Status s =
      json::ParseBody(body, [&](simdjson::ondemand::parser& parser,
                                simdjson::padded_string_view json) {
        return parse(parser, json, &r);
      });
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat(malformed_prefix, s.message()));
  }
  MoveAnswer(&r, out);
  return absl::OkStatus();
}

}  // namespace llmgateway::providers

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_COMMON_RESPONSE_BODY_H_
