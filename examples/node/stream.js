// Deltas as the model produces them: node examples/node/stream.js
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const definition = protoLoader.loadSync("llmgateway/v1/generation.proto", {
  includeDirs: [path.join(__dirname, "../../proto"), require("google-proto-files").getProtoPath("..")],
  longs: String, enums: String, defaults: true, oneofs: true,  // as the TypeScript types assume
});
const { Generation } = grpc.loadPackageDefinition(definition).llmgateway.v1;
const client = new Generation(process.env.LLM_GATEWAY_ADDR || "localhost:50051", grpc.credentials.createInsecure());
const call = client.GenerateStream({ model: "fake-model", prompt: "Hi" }, { deadline: Date.now() + 60000 });
call.on("data", (delta) => process.stdout.write(delta.text));
call.on("end", () => process.stdout.write("\n"));
