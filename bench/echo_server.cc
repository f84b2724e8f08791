// echo_server: the gRPC ceiling for bench/side_by_side.py. llmgateway.v1's
// Generation service on the gRPC C++ callback API with no upstream: Generate
// answers at once with the request's last text as the assistant's message,
// GenerateStream writes that text as --stream_deltas messages. Any gRPC hop
// costs at least this much, so the gateway is judged against it.
#include <cstdio>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "llmgateway/v1/generation.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "HOST:PORT to serve on (port 0 picks one).");
ABSL_FLAG(int, stream_deltas, 2,
          "GenerateStream: messages per call (the last carries the finish reason).");

namespace {

using llmgateway::v1::GenerateRequest;
using llmgateway::v1::GenerateResponse;
using llmgateway::v1::GenerateStreamResponse;

// The request's last text part, or its prompt: what a model would echo.
std::string LastText(const GenerateRequest& request) {
  for (int m = request.messages_size() - 1; m >= 0; --m) {
    const auto& message = request.messages(m);
    for (int p = message.parts_size() - 1; p >= 0; --p) {
      if (message.parts(p).has_text()) return message.parts(p).text();
    }
  }
  return request.prompt();
}

// Writes `count` messages one at a time (one write in flight, as the gateway).
class StreamReactor final : public grpc::ServerWriteReactor<GenerateStreamResponse> {
 public:
  StreamReactor(const GenerateRequest& request, int count) : remaining_(count) {
    message_.set_id("echo-1");
    message_.set_model(request.model());
    message_.set_provider("echo");
    message_.set_text(LastText(request));
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    if (remaining_ == 0) {
      Finish(grpc::Status::OK);
      return;
    }
    if (--remaining_ == 0) {
      message_.set_finish_reason(llmgateway::v1::FINISH_REASON_STOP);
      message_.mutable_usage()->set_prompt_tokens(20);
      message_.mutable_usage()->set_completion_tokens(8);
      message_.mutable_usage()->set_total_tokens(28);
    }
    StartWrite(&message_);
  }

  int remaining_;
  GenerateStreamResponse message_;
};

class EchoService final : public llmgateway::v1::Generation::CallbackService {
 public:
  explicit EchoService(int stream_deltas) : stream_deltas_(stream_deltas) {}

  grpc::ServerUnaryReactor* Generate(grpc::CallbackServerContext* context,
                                     const GenerateRequest* request,
                                     GenerateResponse* response) override {
    response->set_id("echo-1");
    response->set_model(request->model());
    response->set_provider("echo");
    const std::string text = LastText(*request);
    auto* message = response->mutable_message();
    message->set_role(llmgateway::v1::ROLE_ASSISTANT);
    message->add_parts()->set_text(text);
    response->set_text(text);
    response->set_finish_reason(llmgateway::v1::FINISH_REASON_STOP);
    response->mutable_usage()->set_prompt_tokens(20);
    response->mutable_usage()->set_completion_tokens(8);
    response->mutable_usage()->set_total_tokens(28);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerWriteReactor<GenerateStreamResponse>* GenerateStream(
      grpc::CallbackServerContext*, const GenerateRequest* request) override {
    return new StreamReactor(*request, stream_deltas_);
  }

 private:
  const int stream_deltas_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  EchoService service(absl::GetFlag(FLAGS_stream_deltas));
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "echo_server: cannot listen on %s\n",
                 absl::GetFlag(FLAGS_listen).c_str());
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  server->Wait();
  return 0;
}
