// Built and run by generate_stubs_test.py against the Go stubs of
// scripts/generate_stubs.sh, in GOPATH mode with Debian's Go packages: the
// stubs compile against gRPC and genproto (where google.rpc comes from), and
// their descriptors, which import google/rpc/status.proto, load.
package main

import (
	"fmt"

	llmgatewayv1 "github.com/llm-gateway/llm-gateway/gen/go/llmgateway/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

func main() {
	var _ llmgatewayv1.GenerationClient = llmgatewayv1.NewGenerationClient(nil)
	var _ llmgatewayv1.BatchJobsClient = llmgatewayv1.NewBatchJobsClient(nil)
	var _ llmgatewayv1.ModelsClient = llmgatewayv1.NewModelsClient(nil)
	result := &llmgatewayv1.BatchGenerateResponse{
		Index:  1,
		Result: &llmgatewayv1.BatchGenerateResponse_Error{Error: &status.Status{Code: 5, Message: "no such model"}},
	}
	wire, err := proto.Marshal(result)
	if err != nil {
		panic(err)
	}
	back := &llmgatewayv1.BatchGenerateResponse{}
	if err := proto.Unmarshal(wire, back); err != nil {
		panic(err)
	}
	generation := llmgatewayv1.File_llmgateway_v1_generation_proto.Services().ByName("Generation")
	info := &errdetails.ErrorInfo{Reason: "MODEL_NOT_FOUND", Domain: "llmgateway"}
	fmt.Println(generation.FullName(), generation.Methods().Len(), back.GetError().GetMessage(), info.GetReason())
}
