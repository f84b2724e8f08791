// Gets a body or an SSE event's data in front of simdjson: the padding it
// reads past the end, and which parser reads it. Shared by every adapter's
// parsers, so that the rules for both (no byte read outside the input, no
// thread pinning a huge parser's memory) are written once.
#ifndef LLM_GATEWAY_SERVER_PROVIDERS_JSON_JSON_INPUT_H_
#define LLM_GATEWAY_SERVER_PROVIDERS_JSON_JSON_INPUT_H_

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "simdjson.h"

namespace llmgateway::json {

// Past this size input gets a parser of its own, freed afterwards: a
// thread's parser keeps its buffers (several times the input's size) for
// good, and one huge answer or event (a tool call's arguments sent whole)
// should not pin that much memory per thread.
inline constexpr size_t kMaxReusedParserCapacity = size_t{1} << 20;

// `body` as simdjson input: in place when its spare capacity holds
// SIMDJSON_PADDING bytes (HttpClient's bodies do), else from *copy, made
// here once.
simdjson::padded_string_view PaddedBody(const std::string& body,
                                        simdjson::padded_string* copy);

// `data` copied into *scratch: `data` points into curl's buffer, which
// promises no bytes past its end. The padding is made part of the string
// (zeroed) rather than left as spare capacity, so no byte simdjson reads is
// outside the string or uninitialised. No allocation once *scratch has grown.
simdjson::padded_string_view PaddedCopy(absl::string_view data,
                                        std::string* scratch);

// Whether `Parse` is a lambda's (a class's) type, as the templates below
// require: its type keys the thread's parser, and a function's type would be
// shared by every function of the same signature.
template <typename Parse>
inline constexpr bool kIsLambda =
    std::is_class_v<std::remove_reference_t<Parse>>;

// Runs parse(parser) with this thread's parser when `input_size` is at most
// kMaxReusedParserCapacity, else with a parser of its own. On-Demand allows
// one live document per parser: `parse` must not keep one past the call.
// The thread's parser belongs to this instantiation, that is to the caller's
// lambda: two callers never share one, so neither needs to know whether the
// other could be mid-document.
template <typename Parse>
absl::Status WithParser(size_t input_size, Parse&& parse) {
  static_assert(kIsLambda<Parse>, "pass a lambda: it keys the thread's parser");
  if (input_size <= kMaxReusedParserCapacity) {
    thread_local simdjson::ondemand::parser parser;
    return parse(parser);
  }
  simdjson::ondemand::parser parser;
  return parse(parser);
}

// A unary body: parse(parser, json) on PaddedBody(body) with WithParser.
template <typename Parse>
absl::Status ParseBody(const std::string& body, Parse&& parse) {
  static_assert(kIsLambda<Parse>, "pass a lambda: it keys the thread's parser");
  simdjson::padded_string copy;
  const simdjson::padded_string_view json = PaddedBody(body, &copy);
  return WithParser(body.size(), [&](simdjson::ondemand::parser& parser) {
    return parse(parser, json);
  });
}

// One SSE event's data: parse(parser, json) on PaddedCopy(data, scratch)
// with WithParser. After an event past kMaxReusedParserCapacity *scratch is
// released too: one huge event should not pin that much memory per stream.
template <typename Parse>
absl::Status ParseEvent(absl::string_view data, std::string* scratch,
                        Parse&& parse) {
  static_assert(kIsLambda<Parse>, "pass a lambda: it keys the thread's parser");
  const simdjson::padded_string_view json = PaddedCopy(data, scratch);
  absl::Status status = WithParser(
      data.size(),
      [&](simdjson::ondemand::parser& parser) { return parse(parser, json); });
  if (data.size() > kMaxReusedParserCapacity) std::string().swap(*scratch);
  return status;
}

}  // namespace llmgateway::json

#endif  // LLM_GATEWAY_SERVER_PROVIDERS_JSON_JSON_INPUT_H_
