// absl::Status -> google.rpc.Status with every payload packed as an Any.
#include "server/common/rpc_status.h"

#include <string>

#include "server/common/status_details.h"

namespace llmgateway {

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status rpc;
  rpc.set_code(static_cast<int>(status.code()));
  rpc.set_message(std::string(status.message()));
  if (status.ok()) return rpc;
  const absl::Status with_info = GetErrorInfo(status).has_value()
                                     ? status
                                     : WithErrorInfo(status, DefaultReason(status.code()));
  with_info.ForEachPayload([&rpc](absl::string_view type_url, const absl::Cord& value) {
    google::protobuf::Any* any = rpc.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(value));
  });
  return rpc;
}

}  // namespace llmgateway
