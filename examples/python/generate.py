"""One call, the whole answer: python3 examples/python/generate.py"""
import os

import grpc
from llmgateway.v1 import generation_pb2, generation_pb2_grpc

channel = grpc.insecure_channel(os.environ.get("LLM_GATEWAY_ADDR", "localhost:50051"))
stub = generation_pb2_grpc.GenerationStub(channel)
request = generation_pb2.GenerateRequest(model="fake-model", prompt="Hello!")
reply = stub.Generate(request, timeout=30)
print(reply.text, reply.usage.total_tokens)
