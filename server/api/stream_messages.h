// How GenerateStream's deltas become gRPC messages: small consecutive text
// deltas merge (fewer writes while a caller is slow), and a delta too large
// for a default client (gRPC's 4 MiB receive limit) is split. Pure functions.
#ifndef LLM_GATEWAY_SERVER_API_STREAM_MESSAGES_H_
#define LLM_GATEWAY_SERVER_API_STREAM_MESSAGES_H_

#include <cstddef>
#include <vector>

#include "llmgateway/v1/generation.pb.h"

namespace llmgateway {

// The most text (or reasoning text) one message carries: well under the
// 4 MiB a default gRPC client accepts, whatever else the message holds.
inline constexpr size_t kMaxMessageTextBytes = 1 << 20;

// Whether `next` only adds to what `last` adds (text to text, reasoning
// text to reasoning text), so appending it to `last` changes nothing the
// caller assembles, order included, and the sum stays within `max_bytes`.
bool CanMerge(const llmgateway::v1::GenerateStreamResponse& last,
              const llmgateway::v1::GenerateStreamResponse& next,
              size_t max_bytes = kMaxMessageTextBytes);

// Whether `delta`'s text or reasoning text is longer than `max_bytes`.
bool IsLargeDelta(const llmgateway::v1::GenerateStreamResponse& delta,
                  size_t max_bytes = kMaxMessageTextBytes);

// A large `delta` (IsLargeDelta) as several messages whose concatenation is
// the same, none with more than `max_bytes` of either text: pieces
// end on UTF-8 character boundaries; the first piece keeps every other
// field (id, model, tool calls...) except finish_reason and usage, which
// the last piece carries.
std::vector<llmgateway::v1::GenerateStreamResponse> SplitLargeDelta(
    llmgateway::v1::GenerateStreamResponse&& delta, size_t max_bytes = kMaxMessageTextBytes);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_STREAM_MESSAGES_H_
