"""What tools see of a running gateway, with the tools people use: buf curl
lists every method through server reflection and calls health for each
service; a raw reflection client describes grpc.health.v1.Health (what
grpcurl's `describe` asks); Debian's python3-prometheus-client parses
/metrics after a few calls and the counters have moved.

Run by run_examples_test.sh (Python stubs on PYTHONPATH, NODE_MODULES set;
tagged "local" for node_modules)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.request

import grpc
from prometheus_client.parser import text_string_to_metric_families
from google.protobuf import descriptor_pb2

from llmgateway.v1 import generation_pb2, generation_pb2_grpc
import testing_util

SERVICES = ["llmgateway.v1.Generation", "llmgateway.v1.BatchJobs", "llmgateway.v1.Models"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reflection_stubs():
    """Python stubs for grpc.reflection.v1alpha (what gRPC 1.51 serves),
    generated from Debian's grpc-proto: python3-grpcio has no reflection
    client."""
    out = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
    # Compiled as a top-level file: a generated grpc/reflection/ package
    # would be shadowed by the installed `grpc` package. The proto package
    # (and so the method path on the wire) stays grpc.reflection.v1alpha.
    shutil.copy("/usr/share/grpc-proto/grpc/reflection/v1alpha/reflection.proto", out)
    plugin = shutil.which("grpc_python_plugin")
    subprocess.run(["protoc", "-I" + out, "--python_out=" + out, "--grpc_python_out=" + out,
                    "--plugin=protoc-gen-grpc_python=" + plugin, "reflection.proto"],
                   check=True)
    sys.path.insert(0, out)
    import reflection_pb2, reflection_pb2_grpc  # noqa: E402
    return reflection_pb2, reflection_pb2_grpc


class IntrospectionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tmp = os.environ.get("TEST_TMPDIR", "/tmp")
        cls.fakellm, fake_port = testing_util.start(
            [sys.executable, os.environ["FAKELLM"], "--listen", "127.0.0.1:0"],
            os.path.join(tmp, "introspection-fakellm.log"))
        cls.metrics_port = free_port()
        cls.gateway, cls.port = testing_util.start(
            [os.environ["GATEWAY"], "--listen=127.0.0.1:0",
             "--openai_base_url=http://127.0.0.1:%d/v1" % fake_port,
             "--metrics_listen=127.0.0.1:%d" % cls.metrics_port,
             "--batch_store=" + os.path.join(tmp, "introspection.db")],
            os.path.join(tmp, "introspection-gateway.log"))
        cls.channel = grpc.insecure_channel("127.0.0.1:%d" % cls.port)
        cls.buf = os.path.join(os.environ["NODE_MODULES"], ".bin", "buf")

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        for proc in (cls.gateway, cls.fakellm):
            proc.terminate()
            proc.wait(timeout=10)

    def buf_curl(self, *args):
        run = subprocess.run(
            [self.buf, "curl", "--protocol", "grpc", "--http2-prior-knowledge",
             "--reflect-protocol", "grpc-v1alpha", *args],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        return run.stdout

    def test_buf_curl_lists_the_methods_of_every_service(self):
        listed = self.buf_curl("--list-methods", "http://127.0.0.1:%d" % self.port).split()
        for method in ["llmgateway.v1.Generation/Generate",
                       "llmgateway.v1.Generation/GenerateStream",
                       "llmgateway.v1.Generation/BatchGenerate",
                       "llmgateway.v1.BatchJobs/CreateBatchJob",
                       "llmgateway.v1.BatchJobs/ListBatchJobResults",
                       "llmgateway.v1.Models/ListModels",
                       "grpc.health.v1.Health/Check",
                       "grpc.health.v1.Health/Watch"]:
            self.assertIn(method, listed)

    def test_buf_curl_health_answers_for_each_service(self):
        for service in [""] + SERVICES:
            with self.subTest(service=service):
                out = self.buf_curl("-d", json.dumps({"service": service}),
                                    "http://127.0.0.1:%d/grpc.health.v1.Health/Check" % self.port)
                self.assertEqual(json.loads(out), {"status": "SERVING"})

    def test_reflection_describes_grpc_health_v1_health(self):
        reflection_pb2, reflection_pb2_grpc = reflection_stubs()
        stub = reflection_pb2_grpc.ServerReflectionStub(self.channel)
        requests = [
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionRequest(
                file_containing_symbol="grpc.health.v1.Health"),
        ]
        listed, described = list(stub.ServerReflectionInfo(iter(requests), timeout=20))
        names = {s.name for s in listed.list_services_response.service}
        self.assertTrue(set(SERVICES + ["grpc.health.v1.Health"]) <= names, names)
        files = [descriptor_pb2.FileDescriptorProto.FromString(b)
                 for b in described.file_descriptor_response.file_descriptor_proto]
        health = [s for f in files if f.package == "grpc.health.v1" for s in f.service
                  if s.name == "Health"]
        self.assertEqual(len(health), 1)
        self.assertEqual({m.name for m in health[0].method}, {"Check", "Watch"})

    def test_prometheus_client_parses_metrics_and_counters_moved(self):
        stub = generation_pb2_grpc.GenerationStub(self.channel)
        for _ in range(3):
            stub.Generate(generation_pb2.GenerateRequest(model="fake-model", prompt="count"),
                          timeout=20)
        with self.assertRaises(grpc.RpcError):
            stub.Generate(generation_pb2.GenerateRequest(model="fake-model?status=400",
                                                         prompt="x"), timeout=20)
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                    timeout=20) as response:
            text = response.read().decode()
        samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.setdefault(sample.name, []).append(sample)

        def value(name, **labels):
            return sum(s.value for s in samples.get(name, [])
                       if all(s.labels.get(k) == v for k, v in labels.items()))

        self.assertGreaterEqual(value("llmgateway_requests_total", method="Generate",
                                      model="fake-model", code="OK"), 3)
        self.assertGreaterEqual(value("llmgateway_requests_total", method="Generate",
                                      code="INVALID_ARGUMENT"), 1)
        self.assertGreater(value("llmgateway_tokens_total", type="completion"), 0)
        # A histogram as Prometheus reads it: cumulative buckets up to +Inf,
        # which equals _count.
        count = value("llmgateway_request_duration_seconds_count", method="Generate")
        self.assertGreaterEqual(count, 4)
        self.assertEqual(value("llmgateway_request_duration_seconds_bucket", method="Generate",
                               le="+Inf"), count)


if __name__ == "__main__":
    testing_util.main(__name__)
