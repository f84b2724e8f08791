// Request id adoption and minting.
#include "server/api/request_id.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace llmgateway {
namespace {

// A caller's id goes into logs and an upstream header: accept only short
// printable ASCII so it cannot forge log lines or headers.
bool IsSaneId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

std::string NewRequestId() {
  thread_local absl::BitGen bits;
  const uint64_t high = absl::Uniform<uint64_t>(bits);
  const uint64_t low = absl::Uniform<uint64_t>(bits);
  return absl::StrFormat("%08x-%04x-4%03x-%04x-%012x", high >> 32, (high >> 16) & 0xffff,
                         high & 0x0fff, ((low >> 48) & 0x3fff) | 0x8000,
                         low & 0xffffffffffffULL);
}

std::string AssignRequestId(grpc::CallbackServerContext* context) {
  std::string id;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find(kRequestIdHeader); it != metadata.end()) {
    absl::string_view value(it->second.data(), it->second.size());
    if (IsSaneId(value)) id = std::string(value);
  }
  if (id.empty()) id = NewRequestId();
  context->AddInitialMetadata(kRequestIdHeader, id);
  return id;
}

}  // namespace llmgateway
