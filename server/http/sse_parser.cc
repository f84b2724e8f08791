// SSE stream interpretation (WHATWG HTML §9.2.6) over raw bytes, one chunk at
// a time, copying only what must outlive the chunk.
#include "server/http/sse_parser.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace llmgateway::http {

namespace {

constexpr char kBom[] = "\xEF\xBB\xBF";

// memchr for one byte, but "not found" is `end`, so the nearer of two line
// end candidates is just std::min. An empty range may start at nullptr (an
// empty chunk), which memchr must not be given even for 0 bytes.
const char* FindByte(const char* p, const char* end, char c) {
  if (p == end) return end;
  const void* hit = std::memchr(p, c, end - p);
  return hit == nullptr ? end : static_cast<const char*>(hit);
}

}  // namespace

SseParser::SseParser(size_t max_event_bytes)
    : max_event_bytes_(max_event_bytes) {}

absl::Status SseParser::Feed(
    absl::string_view chunk,
    absl::FunctionRef<bool(const SseEvent&)> on_event) {
  if (!status_.ok()) return status_;
  const char* p = chunk.data();
  const char* const end = p + chunk.size();

  // Bytes are never decoded, so a BOM split across chunks has to be matched
  // byte by byte; a near-miss is ordinary text opening the first line.
  while (bom_matched_ != kBomDecided && p != end) {
    if (*p == kBom[bom_matched_]) {
      ++p;
      ++bom_matched_;
    } else {
      line_.assign(kBom, bom_matched_);
      bom_matched_ = kBomDecided;
    }
  }

  if (skip_lf_ && p != end) {
    skip_lf_ = false;
    if (*p == '\n') ++p;
  }

  // Two memchr scans beat a byte loop looking for either byte; each is
  // redone only once consumed, so a chunk with no CR (the usual) pays for one
  // CR scan in all.
  const char* next_lf = FindByte(p, end, '\n');
  const char* next_cr = FindByte(p, end, '\r');
  while (p != end) {
    if (next_lf < p) next_lf = FindByte(p, end, '\n');
    if (next_cr < p) next_cr = FindByte(p, end, '\r');
    const char* const eol = std::min(next_lf, next_cr);
    const size_t len = eol - p;
    // Checked before buffering anything, and on whole lines as well as
    // partial ones, so the outcome does not depend on how the stream was
    // chunked (a partial line is never longer than the line it becomes).
    if (line_.size() + len + DataSize() > max_event_bytes_) {
      return Exhausted(line_.size() + len);
    }
    if (eol == end) {
      line_.append(p, len);
      break;
    }
    absl::string_view line;
    const bool in_chunk = line_.empty();
    if (in_chunk) {
      line = absl::string_view(p, len);
    } else {
      line_.append(p, len);
      line = line_;
    }
    p = eol + 1;
    if (*eol == '\r') {
      // The line is complete either way; only whether the next byte is part
      // of this line end is unknown until the next chunk.
      if (p == end) {
        skip_lf_ = true;
      } else if (*p == '\n') {
        ++p;
      }
    }
    const bool keep_going = ProcessLine(line, in_chunk, on_event);
    line_.clear();
    if (!keep_going) return absl::OkStatus();
  }

  if (data_state_ == DataState::kView) {
    data_.assign(data_view_.data(), data_view_.size());
    data_state_ = DataState::kBuffer;
  }
  return absl::OkStatus();
}

bool SseParser::HasPendingEvent() const {
  const bool bom_bytes_held = bom_matched_ != 0 && bom_matched_ != kBomDecided;
  return bom_bytes_held || !line_.empty() || event_started_;
}

bool SseParser::ProcessLine(absl::string_view line, bool line_in_chunk,
                            absl::FunctionRef<bool(const SseEvent&)> on_event) {
  if (line.empty()) return Dispatch(on_event);
  if (line[0] == ':') return true;
  event_started_ = true;

  absl::string_view name = line;
  absl::string_view value;
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }

  if (name == "data") {
    AppendData(value, line_in_chunk);
  } else if (name == "event") {
    type_.assign(value.data(), value.size());
  } else if (name == "id") {
    if (value.find('\0') == absl::string_view::npos) {
      last_event_id_.assign(value.data(), value.size());
    }
  }
  // `retry` only matters to a client that reconnects, which the gateway never
  // does (a cut-off answer cannot be resumed); other names are ignored by the
  // spec.
  return true;
}

void SseParser::AppendData(absl::string_view value, bool value_in_chunk) {
  switch (data_state_) {
    case DataState::kNone:
      if (value_in_chunk) {
        data_view_ = value;
        data_state_ = DataState::kView;
      } else {
        data_.assign(value.data(), value.size());
        data_state_ = DataState::kBuffer;
      }
      return;
    case DataState::kView:
      data_.assign(data_view_.data(), data_view_.size());
      data_state_ = DataState::kBuffer;
      break;
    case DataState::kBuffer:
      break;
  }
  // Joining as we go (rather than the spec's value + "\n" per line) saves
  // stripping the last "\n" at dispatch; the bytes delivered are the same.
  data_.push_back('\n');
  data_.append(value.data(), value.size());
}

bool SseParser::Dispatch(absl::FunctionRef<bool(const SseEvent&)> on_event) {
  event_started_ = false;
  if (data_state_ == DataState::kNone) {
    // The spec resets the type even when nothing is dispatched, so an
    // `event:` line cannot leak into the next event.
    type_.clear();
    return true;
  }
  SseEvent event;
  event.type = type_;
  event.data =
      data_state_ == DataState::kView ? data_view_ : absl::string_view(data_);
  event.last_event_id = last_event_id_;
  const bool keep_going = on_event(event);
  data_state_ = DataState::kNone;
  data_view_ = absl::string_view();
  data_.clear();
  type_.clear();
  return keep_going;
}

size_t SseParser::DataSize() const {
  switch (data_state_) {
    case DataState::kNone:
      return 0;
    case DataState::kView:
      return data_view_.size();
    case DataState::kBuffer:
      return data_.size();
  }
  return 0;
}

absl::Status SseParser::Exhausted(size_t line_bytes) {
  status_ = absl::ResourceExhaustedError(absl::StrCat(
      "SSE event too large: a line of ", line_bytes, " bytes on top of ",
      DataSize(), " bytes of event data exceeds max_event_bytes (",
      max_event_bytes_, ")"));
  return status_;
}

}  // namespace llmgateway::http
