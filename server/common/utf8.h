// Cutting UTF-8 text without splitting a character.
#ifndef LLM_GATEWAY_SERVER_COMMON_UTF8_H_
#define LLM_GATEWAY_SERVER_COMMON_UTF8_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace llmgateway {

// The largest position in [floor, pos] (pos < text.size()) where a character
// starts, i.e. not at a continuation byte (10xxxxxx); `floor` when there is
// none (text that is not UTF-8).
inline size_t Utf8CharStart(absl::string_view text, size_t pos, size_t floor) {
  while (pos > floor && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_COMMON_UTF8_H_
