// One call, the whole answer: node examples/node/generate.js
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const definition = protoLoader.loadSync("llmgateway/v1/generation.proto", {
  includeDirs: [path.join(__dirname, "../../proto"), require("google-proto-files").getProtoPath("..")],
  longs: String, enums: String, defaults: true, oneofs: true,  // as the TypeScript types assume
});
const { Generation } = grpc.loadPackageDefinition(definition).llmgateway.v1;
const client = new Generation(process.env.LLM_GATEWAY_ADDR || "localhost:50051", grpc.credentials.createInsecure());
client.Generate({ model: "fake-model", prompt: "Hello!" }, { deadline: Date.now() + 30000 }, (err, reply) => {
  if (err) throw err;
  console.log(reply.text, reply.usage.totalTokens);
});
