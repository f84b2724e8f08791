"""A Python client, with stubs generated from proto/ by grpc_python_plugin,
calls the real gateway (in front of fakellm) the way a user would.

Run by roundtrip_test.sh, which generates the stubs and sets the paths.
"""

import os
import re
import subprocess
import sys
import time
import unittest

import grpc

from google.rpc import error_details_pb2, status_pb2
from llmgateway.v1 import generation_pb2, generation_pb2_grpc, content_pb2


def start(argv, log_path, env=None):
    """Starts a server that prints '... listening on HOST:PORT'; returns (proc, port)."""
    out_path = log_path + ".stdout"
    with open(out_path, "w") as out, open(log_path, "w") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        with open(out_path) as out:
            match = re.search(r"listening on \S+:(\d+)", out.read())
        if match:
            return proc, int(match.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("%s did not start: %s" % (argv[0], open(log_path).read()))


class GenerateRoundTripTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tmp = os.environ.get("TEST_TMPDIR", "/tmp")
        cls.fakellm, fake_port = start(
            [sys.executable, os.environ["FAKELLM"], "--listen", "127.0.0.1:0"],
            os.path.join(tmp, "py-fakellm.log"))
        cls.gateway, port = start(
            [os.environ["GATEWAY"], "--listen=127.0.0.1:0",
             "--openai_base_url=http://127.0.0.1:%d/v1" % fake_port],
            os.path.join(tmp, "py-gateway.log"))
        cls.channel = grpc.insecure_channel("127.0.0.1:%d" % port)
        cls.stub = generation_pb2_grpc.GenerationStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        for proc in (cls.gateway, cls.fakellm):
            proc.terminate()
            proc.wait(timeout=10)

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


def main():
    """Runs the suite; under Bazel also writes JUnit XML to $XML_OUTPUT_FILE
    so each case counts (Bazel's own XML for an sh_test counts one)."""
    from xml.etree import ElementTree as ET
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])

    def ids(tests):
        for test in tests:
            yield from ids(test) if isinstance(test, unittest.TestSuite) else [test.id()]

    case_ids = list(ids(suite))  # a suite forgets its tests as they run
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    xml_path = os.environ.get("XML_OUTPUT_FILE")
    if xml_path:
        failed = {t.id(): msg for t, msg in result.failures + result.errors}
        root = ET.Element("testsuites", tests=str(result.testsRun),
                          failures=str(len(result.failures)), errors=str(len(result.errors)))
        for case_id in case_ids:
            element = ET.SubElement(root, "testcase", name=case_id)
            if case_id in failed:
                ET.SubElement(element, "failure").text = failed[case_id]
        ET.ElementTree(root).write(xml_path)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
