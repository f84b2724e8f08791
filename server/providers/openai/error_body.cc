// Reads whatever error description an OpenAI-compatible upstream sent with a
// non-2xx status; tolerant, since error bodies are the least standard part of
// these APIs.
#include "server/providers/openai/error_body.h"

#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "server/providers/json/json_read.h"
#include "simdjson.h"

namespace llmgateway::openai {
namespace {

namespace od = ::simdjson::ondemand;
using ::llmgateway::json::ForEachMemberWhileIntact;

// A string as is; a number or boolean as its JSON text (servers send "code":
// 400 as readily as "code": "invalid_api_key"); null, objects and arrays
// leave *out alone. False when the body broke.
bool ReadScalarText(od::value v, std::string* out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case od::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      out->assign(s.data(), s.size());
      return true;
    }
    case od::json_type::number: {
      // The token is the number's text (and whatever whitespace follows);
      // get_double() checks that it is a number before it is kept.
      const std::string_view token = v.raw_json_token();
      double unused;
      if (v.get_double().get(unused)) return false;
      out->assign(std::string(absl::StripTrailingAsciiWhitespace(
          absl::string_view(token.data(), token.size()))));
      return true;
    }
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b)) return false;
      *out = b ? "true" : "false";
      return true;
    }
    default:
      return true;  // Skipped by the caller's iteration.
  }
}

// {"message", "type", "code", "param"}. False when the body broke.
bool ReadErrorObject(od::object obj, ErrorBody* out) {
  return ForEachMemberWhileIntact(obj, [&](std::string_view key, od::value v) {
    if (key == "message") return ReadScalarText(v, &out->message);
    if (key == "type") return ReadScalarText(v, &out->type);
    if (key == "code") return ReadScalarText(v, &out->code);
    if (key == "param") return ReadScalarText(v, &out->param);
    return true;
  });
}

// The top-level object: {"error": {...}} or {"error": "text"}, else a
// top-level "message" or "detail" (FastAPI-style servers).
void ReadRoot(od::object root, ErrorBody* out) {
  std::string top_message;
  std::string detail;
  // A broken value ends the read; the fields read before it are kept.
  ForEachMemberWhileIntact(root, [&](std::string_view key, od::value v) {
    if (key == "error") {
      od::json_type t;
      if (v.type().get(t)) return false;
      if (t == od::json_type::object) {
        od::object obj;
        return !v.get_object().get(obj) && ReadErrorObject(obj, out);
      }
      return ReadScalarText(v, &out->message);  // Ollama: {"error": "..."}
    }
    if (key == "message") return ReadScalarText(v, &top_message);
    if (key == "detail") return ReadScalarText(v, &detail);
    return true;
  });
  if (out->message.empty()) {
    out->message =
        !top_message.empty() ? std::move(top_message) : std::move(detail);
  }
}

}  // namespace

ErrorBody ParseErrorBody(absl::string_view body) {
  ErrorBody out;
  // A string_view promises no spare bytes past its end; error bodies are
  // small and rare, so one copy is cheaper than a contract.
  const simdjson::padded_string json(body.data(), body.size());
  // Its own parser, not chat_response's: they can never be mid-document
  // together, but keeping them apart makes that need no argument.
  thread_local od::parser parser;
  od::document doc;
  if (parser.iterate(json).get(doc)) return out;
  od::json_type t;
  if (doc.type().get(t)) return out;
  od::object root;
  if (t == od::json_type::object) {
    if (!doc.get_object().get(root)) ReadRoot(root, &out);
  } else if (t == od::json_type::array) {
    // Gemini's OpenAI-compatible endpoint wraps the error in a one-element
    // array: [{"error": {...}}].
    od::array arr;
    if (doc.get_array().get(arr)) return out;
    for (auto element : arr) {
      if (!std::move(element).get_object().get(root)) ReadRoot(root, &out);
      break;
    }
  }
  return out;
}

}  // namespace llmgateway::openai
