// Padded simdjson input from bodies and SSE data (see json_input.h).
#include "server/providers/json/json_input.h"

#include <cstddef>
#include <string>

namespace llmgateway::json {

simdjson::padded_string_view PaddedBody(const std::string& body,
                                        simdjson::padded_string* copy) {
  if (body.capacity() - body.size() >= simdjson::SIMDJSON_PADDING) {
    return simdjson::padded_string_view(body.data(), body.size(),
                                        body.capacity());
  }
  *copy = simdjson::padded_string(body.data(), body.size());
  return *copy;
}

simdjson::padded_string_view PaddedCopy(absl::string_view data,
                                        std::string* scratch) {
  const size_t padded_size = data.size() + simdjson::SIMDJSON_PADDING;
  // Guarded: before C++20 libstdc++'s reserve() also shrinks, which would
  // reallocate whenever an event is smaller than the last.
  if (scratch->capacity() < padded_size) scratch->reserve(padded_size);
  scratch->assign(data.data(), data.size());
  scratch->resize(padded_size, '\0');
  return simdjson::padded_string_view(scratch->data(), data.size(),
                                      scratch->size());
}

}  // namespace llmgateway::json
