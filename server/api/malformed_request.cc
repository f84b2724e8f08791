// gRPC 1.51 deserializes a request before the server's interceptors run and,
// when that fails, hands them a null message at POST_RECV_MESSAGE; the
// handler then finishes the call with UNIMPLEMENTED "". Seeing the first,
// the interceptor rewrites the second at PRE_SEND_STATUS. Deserialization
// and POST_RECV_MESSAGE run on the same thread, one after the other, so a
// thread-local holds protobuf's reason between them.
#include "server/api/malformed_request.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/logging.h"
#include "absl/strings/match.h"
#include "server/api/grpc_status.h"
#include "server/api/request_id.h"
#include "server/common/call_log.h"
#include "server/common/log.h"
#include "server/common/status_details.h"

namespace llmgateway {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Protobuf's last message on this thread (cleared when read).
thread_local std::string last_protobuf_error;

constexpr absl::string_view kWhileParsing = " when parsing a protocol buffer";

void ProtobufLog(google::protobuf::LogLevel level, const char* filename, int line,
                 const std::string& message) {
  // A parse error is the request's: its call line says it, once.
  if (const size_t at = message.find(kWhileParsing.data()); at != std::string::npos) {
    last_protobuf_error = message.substr(0, at);
    return;
  }
  if (level >= google::protobuf::LOGLEVEL_ERROR) LogWarning("protobuf: ", message);
}

// "String field 'llmgateway.v1.GenerateRequest.model' contains ..." -> "model".
std::string FieldOf(absl::string_view reason, absl::string_view type) {
  const size_t open = reason.find('\'');
  const size_t close = open == absl::string_view::npos ? open : reason.find('\'', open + 1);
  if (close == absl::string_view::npos) return "";
  absl::string_view field = reason.substr(open + 1, close - open - 1);
  if (absl::StartsWith(field, type) && field.size() > type.size() && field[type.size()] == '.') {
    field.remove_prefix(type.size() + 1);
  }
  return std::string(field);
}

// "/llmgateway.v1.Generation/Generate" -> "llmgateway.v1.GenerateRequest".
std::string RequestTypeOf(absl::string_view method) {
  if (method.size() < 2) return "request";
  std::string dotted(method.substr(1));
  const size_t slash = dotted.rfind('/');
  if (slash != std::string::npos) dotted[slash] = '.';
  const google::protobuf::MethodDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(dotted);
  return descriptor != nullptr ? descriptor->input_type()->full_name() : "request";
}

class MalformedRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit MalformedRequestInterceptor(const char* method) : method_(method) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (methods->GetRecvMessage() == nullptr) {
        malformed_ = true;
        reason_ = std::move(last_protobuf_error);
      }
      last_protobuf_error.clear();
    }
    if (malformed_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      methods->ModifySendStatus(ToGrpcStatus(Refusal()));
    }
    methods->Proceed();
  }

 private:
  absl::Status Refusal() const {
    const std::string type = RequestTypeOf(method_);
    absl::Status status = WithErrorInfo(
        absl::InvalidArgumentError(absl::StrCat(
            "the request is not a valid ", type,
            reason_.empty() ? " (truncated, or nested deeper than 100 levels)"
                            : absl::StrCat(": ", reason_))),
        "MALFORMED_REQUEST", {{kMetaField, FieldOf(reason_, type)}});
    RpcLogRecord record;
    const absl::string_view method(method_);
    record.method = method.substr(method.rfind('/') + 1);
    // Not returned to the caller (the call never reached a handler): it
    // only tells this line from others.
    const std::string request_id = NewRequestId();
    record.request_id = request_id;
    record.code = status.code();
    record.error = status.message();
    LogRpc(record);
    return status;
  }

  const char* const method_;
  bool malformed_ = false;
  std::string reason_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // Only requests that carry a message can fail to parse.
    if (info->type() != grpc::experimental::ServerRpcInfo::Type::UNARY &&
        info->type() != grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING) {
      return nullptr;
    }
    return new MalformedRequestInterceptor(info->method());
  }
};

}  // namespace

void InstallProtobufLogHandler() { google::protobuf::SetLogHandler(&ProtobufLog); }

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MalformedRequestInterceptorFactory() {
  return std::make_unique<Factory>();
}

}  // namespace llmgateway
