// Incremental parser for text/event-stream (Server-Sent Events, WHATWG HTML
// §9.2.5–9.2.6): fed the body in whatever chunks the network delivers, it
// reports each complete event, pointing into the input where it can.
#ifndef LLM_GATEWAY_SERVER_HTTP_SSE_PARSER_H_
#define LLM_GATEWAY_SERVER_HTTP_SSE_PARSER_H_

#include <cstddef>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace llmgateway::http {

// One dispatched event. The views are valid only during the callback.
struct SseEvent {
  // The `event:` field; empty means the default type ("message").
  absl::string_view type;
  // The `data:` lines joined with "\n" (no trailing newline).
  absl::string_view data;
  // The last event ID seen so far in the stream (it persists across events).
  absl::string_view last_event_id;
};

class SseParser {
 public:
  // An event (or a line) that grows past `max_event_bytes` without completing
  // is an error: an upstream must not make the gateway buffer without bound.
  explicit SseParser(size_t max_event_bytes = 8 << 20);

  // Parses `chunk`, calling `on_event` for every event it completes. If
  // `on_event` returns false, parsing stops at once and the rest of the chunk
  // is dropped (the caller is done with the stream). Returns
  // RESOURCE_EXHAUSTED past max_event_bytes; the parser is then unusable.
  absl::Status Feed(absl::string_view chunk,
                    absl::FunctionRef<bool(const SseEvent&)> on_event);

  // True when bytes after the last dispatched event would be lost if the
  // stream ended now (an unterminated line or event): a stream that ends so
  // was cut off.
  bool HasPendingEvent() const;

 private:
  // Where the current event's data lives. kView points into the chunk being
  // fed (the common one-line event costs no copy); Feed moves it into data_
  // before returning, since the chunk dies with the call.
  enum class DataState { kNone, kView, kBuffer };

  // ProcessLine and Dispatch return false when `on_event` asked to stop.
  bool ProcessLine(absl::string_view line, bool line_in_chunk,
                   absl::FunctionRef<bool(const SseEvent&)> on_event);
  bool Dispatch(absl::FunctionRef<bool(const SseEvent&)> on_event);
  void AppendData(absl::string_view value, bool value_in_chunk);
  size_t DataSize() const;
  absl::Status Exhausted(size_t line_bytes);

  size_t max_event_bytes_;
  // Sticky: after RESOURCE_EXHAUSTED every Feed returns it again.
  absl::Status status_;
  // BOM bytes matched at stream start, held back (a chunk may end mid-BOM)
  // until the BOM is complete or ruled out; then kBomDecided.
  static constexpr int kBomDecided = 3;
  int bom_matched_ = 0;
  // The previous chunk ended in CR: an LF opening this one is the same line
  // end, not a blank line.
  bool skip_lf_ = false;
  // A field line was seen since the last blank line: the event was begun, so
  // ending the stream here would cut it off.
  bool event_started_ = false;
  DataState data_state_ = DataState::kNone;
  absl::string_view data_view_;
  // The std::string members are cleared, never shrunk, between events so that
  // steady-state parsing does not allocate.
  std::string line_;  // a line begun in an earlier chunk
  std::string data_;  // data lines joined by "\n" (kBuffer)
  std::string type_;
  std::string last_event_id_;
};

}  // namespace llmgateway::http

#endif  // LLM_GATEWAY_SERVER_HTTP_SSE_PARSER_H_
