// Test support: an owned copy of an SseEvent, comparable and printable, for
// the SSE parser's unit and property tests.
#ifndef LLM_GATEWAY_SERVER_HTTP_SSE_TEST_EVENT_H_
#define LLM_GATEWAY_SERVER_HTTP_SSE_TEST_EVENT_H_

#include <ostream>
#include <string>

#include "absl/strings/escaping.h"

namespace llmgateway::http {

struct Event {
  std::string type;
  std::string data;
  std::string id;
  bool operator==(const Event& o) const {
    return type == o.type && data == o.data && id == o.id;
  }
};

inline void PrintTo(const Event& e, std::ostream* os) {
  *os << "{type=\"" << absl::CHexEscape(e.type) << "\" data=\""
      << absl::CHexEscape(e.data) << "\" id=\"" << absl::CHexEscape(e.id)
      << "\"}";
}

}  // namespace llmgateway::http

#endif  // LLM_GATEWAY_SERVER_HTTP_SSE_TEST_EVENT_H_
