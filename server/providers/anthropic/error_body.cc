// Reads whatever error description an Anthropic upstream (or a proxy in
// front of it) sent; tolerant, since an error body is read only for words to
// pass on, never to decide whether the call failed.
#include "server/providers/anthropic/error_body.h"

#include <string>
#include <string_view>
#include <utility>

#include "server/providers/json/json_read.h"
#include "simdjson.h"

namespace llmgateway::anthropic {
namespace {

namespace od = ::simdjson::ondemand;
using ::llmgateway::json::ForEachMemberWhileIntact;

// A string value into *out; any other type leaves it alone. False when the
// body broke.
bool ReadText(od::value v, std::string* out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t != od::json_type::string) return true;  // Skipped by the iteration.
  std::string_view s;
  if (v.get_string().get(s)) return false;
  out->assign(s.data(), s.size());
  return true;
}

// {"type", "message"}. False when the body broke.
bool ReadErrorObject(od::object obj, ErrorBody* out) {
  return ForEachMemberWhileIntact(obj, [&](std::string_view key, od::value v) {
    if (key == "type") return ReadText(v, &out->type);
    if (key == "message") return ReadText(v, &out->message);
    return true;
  });
}

void ReadRoot(od::object root, ErrorBody* out) {
  std::string top_message;
  // A broken value ends the read; what was read before it is kept.
  ForEachMemberWhileIntact(root, [&](std::string_view key, od::value v) {
    if (key == "error") {
      od::json_type t;
      if (v.type().get(t)) return false;
      if (t == od::json_type::object) {
        od::object obj;
        return !v.get_object().get(obj) && ReadErrorObject(obj, out);
      }
      return ReadText(v, &out->message);
    }
    if (key == "message") return ReadText(v, &top_message);
    return true;
  });
  if (out->message.empty()) out->message = std::move(top_message);
}

}  // namespace

ErrorBody ParseErrorBody(absl::string_view body) {
  ErrorBody out;
  // A string_view promises no spare bytes past its end; error bodies are
  // small and rare, so one copy is cheaper than a contract.
  const simdjson::padded_string json(body.data(), body.size());
  thread_local od::parser parser;
  od::document doc;
  if (parser.iterate(json).get(doc)) return out;
  od::object root;
  if (doc.get_object().get(root)) return out;
  ReadRoot(root, &out);
  return out;
}

}  // namespace llmgateway::anthropic
