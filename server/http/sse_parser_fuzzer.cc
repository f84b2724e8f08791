// libFuzzer entry: SseParser must give the same events, status and pending
// state whether the input comes in one chunk, two, or one byte at a time.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "server/http/sse_parser.h"

namespace {

struct Outcome {
  // type, data and id of each event, NUL-separated.
  std::vector<std::string> events;
  bool ok = true;
  bool pending = false;
  bool operator==(const Outcome& o) const {
    return events == o.events && ok == o.ok && pending == o.pending;
  }
};

// Small enough that fuzz inputs reach it, so the limit's independence from
// chunking gets fuzzed too.
constexpr size_t kMaxEventBytes = 1024;

Outcome Run(absl::string_view input, const std::vector<size_t>& cuts) {
  llmgateway::http::SseParser parser(kMaxEventBytes);
  Outcome out;
  size_t from = 0;
  for (size_t k = 0; k <= cuts.size(); ++k) {
    const size_t to = k < cuts.size() ? cuts[k] : input.size();
    // A heap copy per chunk, freed after Feed: ASan then flags any view the
    // parser keeps into a chunk it has returned from.
    std::vector<char> chunk(input.begin() + from, input.begin() + to);
    from = to;
    const absl::Status status = parser.Feed(
        absl::string_view(chunk.data(), chunk.size()),
        [&](const llmgateway::http::SseEvent& e) {
          std::string event(e.type);
          event.push_back('\0');
          event.append(e.data.data(), e.data.size());
          event.push_back('\0');
          event.append(e.last_event_id.data(), e.last_event_id.size());
          out.events.push_back(std::move(event));
          return true;
        });
    if (!status.ok()) {
      if (status.code() != absl::StatusCode::kResourceExhausted) abort();
      out.ok = false;
      return out;
    }
  }
  out.pending = parser.HasPendingEvent();
  return out;
}

void Mismatch(absl::string_view input, const char* how) {
  fprintf(stderr, "SseParser: %s differs from one chunk for \"%s\"\n", how,
          absl::CHexEscape(input).c_str());
  abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t split_byte = data[0];
  const absl::string_view input(reinterpret_cast<const char*>(data) + 1,
                                size - 1);
  // Scaled rather than taken modulo, so short and long inputs both get cuts
  // across their whole length.
  const size_t split = split_byte * input.size() / 255;

  const Outcome whole = Run(input, {});
  if (!(Run(input, {split}) == whole)) Mismatch(input, "two chunks");
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < input.size(); ++i) every_byte.push_back(i);
  if (!(Run(input, every_byte) == whole)) Mismatch(input, "1-byte chunks");
  return 0;
}
