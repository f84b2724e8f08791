// The OpenAI Chat Completions shapes at the client's edge: a request body
// (as in an OpenAI batch input file) into a v1 GenerateRequest, and a v1
// GenerateResponse into a chat.completion object (as in a batch output
// file). Parsed and printed by protobuf's own JSON support: requests as a
// google.protobuf.Struct, responses as the messages of
// openai_chat_completion.proto.
#ifndef LLM_GATEWAY_CLIENT_OPENAI_CHAT_H_
#define LLM_GATEWAY_CLIENT_OPENAI_CHAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/openai_chat_completion.pb.h"
#include "google/protobuf/struct.pb.h"
#include "llmgateway/v1/generation.pb.h"

namespace llmgateway::client {

// Maps every field v1 has a place for; any other key goes to
// provider_options["openai"] unchanged, so it still reaches an OpenAI
// upstream. Errors are INVALID_ARGUMENT "<path>: <problem>", the path
// starting at `path` (e.g. "body").
absl::StatusOr<llmgateway::v1::GenerateRequest> ChatBodyToRequest(
    const google::protobuf::Struct& body, const std::string& path);

// A chat.completion object with one choice.
openai::ChatCompletion ResponseToChatCompletion(const llmgateway::v1::GenerateResponse& response);

// One of the openai:: messages as OpenAI writes it: snake_case keys, in
// OpenAI's order, compact.
std::string ToOpenAiJson(const google::protobuf::Message& message);

}  // namespace llmgateway::client

#endif  // LLM_GATEWAY_CLIENT_OPENAI_CHAT_H_
