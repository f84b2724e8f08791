#include "server/http/transport.h"

#include <string>

namespace llmgateway::http {

const std::string* ResponseHead::Find(absl::string_view lower_name) const {
  for (const HttpHeader& h : headers) {
    if (h.name == lower_name) return &h.value;
  }
  return nullptr;
}

}  // namespace llmgateway::http
