"""A Python client, with stubs generated from proto/ by grpc_python_plugin,
calls the real gateway (in front of fakellm) the way a user would.

Run by roundtrip_test.sh, which generates the stubs and sets the paths.
"""

import unittest

import grpc

from google.rpc import error_details_pb2, status_pb2
from llmgateway.v1 import generation_pb2, generation_pb2_grpc, content_pb2
import testing_util


class GenerateRoundTripTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.servers = testing_util.Servers("roundtrip")
        cls.stub = generation_pb2_grpc.GenerationStub(cls.servers.channel)

    @classmethod
    def tearDownClass(cls):
        cls.servers.stop()

    def test_generate_with_prompt(self):
        response = self.stub.Generate(
            generation_pb2.GenerateRequest(model="fake-model", prompt="hello from python"),
            timeout=20)
        self.assertTrue(response.text.startswith("Echo: hello from python"), response.text)
        self.assertEqual(response.provider, "openai")
        self.assertEqual(response.message.role, content_pb2.ROLE_ASSISTANT)
        self.assertEqual(response.finish_reason, generation_pb2.FINISH_REASON_STOP)
        self.assertGreater(response.usage.total_tokens, 0)

    def test_generate_with_messages(self):
        request = generation_pb2.GenerateRequest(
            model="fake-model",
            messages=[content_pb2.Message(role=content_pb2.ROLE_USER,
                                          parts=[content_pb2.Part(text="two words")])],
            config=generation_pb2.GenerationConfig(max_output_tokens=3))
        response = self.stub.Generate(request, timeout=20)
        self.assertEqual(response.text, "Echo: two words ")  # cut at max_output_tokens
        self.assertEqual(response.finish_reason, generation_pb2.FINISH_REASON_LENGTH)

    def test_generate_stream(self):
        # As the README shows it.
        text, last = "", None
        for delta in self.stub.GenerateStream(
                generation_pb2.GenerateRequest(model="fake-model?tokens=5", prompt="Hi"),
                timeout=60):
            text += delta.text
            last = delta
        self.assertEqual(text, "Echo: Hi lorem ipsum dolor")
        self.assertEqual(last.finish_reason, generation_pb2.FINISH_REASON_STOP)
        self.assertEqual(last.usage.completion_tokens, 5)

    def test_broken_stream_is_an_error(self):
        with self.assertRaises(grpc.RpcError) as raised:
            for _ in self.stub.GenerateStream(
                    generation_pb2.GenerateRequest(model="fake-model?fault=drop", prompt="Hi"),
                    timeout=60):
                pass
        self.assertEqual(raised.exception.code(), grpc.StatusCode.UNAVAILABLE)

    def test_bad_config_stops_startup_naming_the_field(self):
        import os
        import subprocess
        path = os.path.join(os.environ.get("TEST_TMPDIR", "/tmp"), "bad.textproto")
        with open(path, "w") as f:
            f.write('providers { name: "p" kind: "openai" base_url: "ftp://nope" }\n')
        run = subprocess.run([os.environ["GATEWAY"], "--config=" + path, "--listen=127.0.0.1:0"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(run.returncode, 2)
        self.assertIn("providers[0].base_url: must be an http:// or https:// URL", run.stderr)

    def test_error_details_decode_in_python(self):
        with self.assertRaises(grpc.RpcError) as raised:
            self.stub.Generate(
                generation_pb2.GenerateRequest(model="fake-model?status=429&retry_after=2",
                                               prompt="hi"),
                timeout=20)
        error = raised.exception
        self.assertEqual(error.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        details = dict(error.trailing_metadata()).get("grpc-status-details-bin")
        self.assertIsNotNone(details)
        status = status_pb2.Status.FromString(details)
        reasons, delays = [], []
        for any_detail in status.details:
            info = error_details_pb2.ErrorInfo()
            retry = error_details_pb2.RetryInfo()
            if any_detail.Unpack(info):
                reasons.append(info.reason)
            elif any_detail.Unpack(retry):
                delays.append(retry.retry_delay.seconds)
        self.assertEqual(reasons, ["RATE_LIMITED"])
        self.assertEqual(delays, [2])

    def test_bad_input_names_the_field(self):
        with self.assertRaises(grpc.RpcError) as raised:
            self.stub.Generate(generation_pb2.GenerateRequest(prompt="no model"), timeout=20)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertTrue(raised.exception.details().startswith("model:"),
                        raised.exception.details())


if __name__ == "__main__":
    testing_util.main(__name__)
