// The gRPC side of caller auth: hands a call's `authorization` metadata to
// the Authorizer and counts refusals. Every service that serves model calls
// or jobs authenticates through here.
#ifndef LLM_GATEWAY_SERVER_API_AUTHENTICATE_H_
#define LLM_GATEWAY_SERVER_API_AUTHENTICATE_H_

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "server/auth/authorizer.h"

namespace llmgateway {

// nullptr (nobody) when `authorizer` is null or has no keys; the caller's
// key; or UNAUTHENTICATED.
absl::StatusOr<auth::Caller*> AuthenticateCall(const auth::Authorizer* authorizer,
                                               const grpc::CallbackServerContext* context);

}  // namespace llmgateway

#endif  // LLM_GATEWAY_SERVER_API_AUTHENTICATE_H_
