"""Deltas as the model produces them: python3 examples/python/stream.py"""
import os

import grpc
from llmgateway.v1 import generation_pb2, generation_pb2_grpc

channel = grpc.insecure_channel(os.environ.get("LLM_GATEWAY_ADDR", "localhost:50051"))
stub = generation_pb2_grpc.GenerationStub(channel)
request = generation_pb2.GenerateRequest(model="fake-model", prompt="Hi")
for delta in stub.GenerateStream(request, timeout=60):
    print(delta.text, end="", flush=True)
print()
