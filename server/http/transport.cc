#include "server/http/transport.h"

#include <string>

#include "absl/strings/cord.h"

namespace llmgateway::http {
namespace {

// Not a google.rpc type: the edge (server/common/rpc_status) would pack it
// into the caller's details, but no status that reaches the edge carries it.
constexpr absl::string_view kNetworkDetailUrl = "llmgateway.internal/network-detail";

}  // namespace

absl::Status WithNetworkDetail(absl::Status status, absl::string_view detail) {
  if (!status.ok() && !detail.empty()) status.SetPayload(kNetworkDetailUrl, absl::Cord(detail));
  return status;
}

std::string NetworkDetail(const absl::Status& status) {
  auto detail = status.GetPayload(kNetworkDetailUrl);
  return detail.has_value() ? std::string(*detail) : std::string();
}

const std::string* ResponseHead::Find(absl::string_view lower_name) const {
  for (const HttpHeader& h : headers) {
    if (h.name == lower_name) return &h.value;
  }
  return nullptr;
}

}  // namespace llmgateway::http
