// Merging and splitting of GenerateStream messages.
#include "server/api/stream_messages.h"

#include <algorithm>
#include <string>
#include <utility>

#include "server/common/utf8.h"

namespace llmgateway {
namespace {

using ::llmgateway::v1::GenerateStreamResponse;

// The largest end <= `limit` (and > `begin`) that does not cut a UTF-8
// character; text that is not UTF-8 at all is cut at `limit`.
size_t CharBoundary(const std::string& s, size_t begin, size_t limit) {
  if (limit >= s.size()) return s.size();
  const size_t end = Utf8CharStart(s, limit, begin);
  return end > begin ? end : limit;
}

}  // namespace

bool CanMerge(const GenerateStreamResponse& last, const GenerateStreamResponse& next,
              size_t max_bytes) {
  auto plain = [](const GenerateStreamResponse& m) {
    return m.id().empty() && m.tool_calls().empty() && !m.has_usage() &&
           m.finish_reason() == v1::FINISH_REASON_UNSPECIFIED &&
           m.reasoning().signature().empty() && m.reasoning().redacted_data().empty();
  };
  if (!plain(last) || !plain(next)) return false;
  if (last.text().size() + next.text().size() > max_bytes ||
      last.reasoning().text().size() + next.reasoning().text().size() > max_bytes) {
    return false;
  }
  const bool last_is_text = last.reasoning().text().empty();
  const bool next_is_text = next.reasoning().text().empty();
  if (last_is_text != next_is_text) return false;
  return last_is_text || (last.text().empty() && next.text().empty());
}

bool IsLargeDelta(const GenerateStreamResponse& delta, size_t max_bytes) {
  return delta.text().size() > max_bytes || delta.reasoning().text().size() > max_bytes;
}

std::vector<GenerateStreamResponse> SplitLargeDelta(GenerateStreamResponse&& delta,
                                                    size_t max_bytes) {
  const std::string reasoning = std::move(*delta.mutable_reasoning()->mutable_text());
  delta.mutable_reasoning()->clear_text();
  const std::string text = std::move(*delta.mutable_text());
  delta.clear_text();
  const v1::FinishReason finish = delta.finish_reason();
  delta.clear_finish_reason();
  v1::Usage usage;
  const bool has_usage = delta.has_usage();
  if (has_usage) usage.Swap(delta.mutable_usage());
  delta.clear_usage();

  std::vector<GenerateStreamResponse> pieces;
  pieces.push_back(std::move(delta));  // every other field rides the first piece
  bool first_taken = false;
  auto append = [&](const std::string& whole, bool is_reasoning) {
    for (size_t begin = 0; begin < whole.size();) {
      const size_t end = CharBoundary(whole, begin, begin + max_bytes);
      GenerateStreamResponse& piece = first_taken ? pieces.emplace_back() : pieces.front();
      first_taken = true;
      std::string part = whole.substr(begin, end - begin);
      if (is_reasoning) {
        piece.mutable_reasoning()->set_text(std::move(part));
      } else {
        piece.set_text(std::move(part));
      }
      begin = end;
    }
  };
  // Reasoning before text, as a model produces them.
  append(reasoning, /*is_reasoning=*/true);
  append(text, /*is_reasoning=*/false);
  pieces.back().set_finish_reason(finish);
  if (has_usage) pieces.back().mutable_usage()->Swap(&usage);
  return pieces;
}

}  // namespace llmgateway
