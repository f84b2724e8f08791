// absl::Status -> grpc::Status with details.
#include "server/api/grpc_status.h"

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

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbers.
  const google::rpc::Status rpc = ToRpcStatus(status);
  return grpc::Status(static_cast<grpc::StatusCode>(rpc.code()), rpc.message(),
                      rpc.SerializeAsString());
}

}  // namespace llmgateway
