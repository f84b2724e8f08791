"""Runs every ```python block of README.md that follows a
`<!-- readme-example: NAME -->` marker, exactly as written, against the real
gateway and fakellm, and checks what it prints: the README's examples are
code that works, not prose that drifts.

Run by readme_examples_test.sh (stubs and paths come from there).
"""

import contextlib
import io
import os
import re
import unittest

import grpc

from llmgateway.v1 import generation_pb2
from llmgateway.v1 import generation_pb2_grpc
import testing_util

# What each example prints, given fakellm's deterministic model.
EXPECTED = {
    "quickstart": "Echo: Hello! lorem ipsum dolor sit amet consectetur 9\n",
    "stream": "Echo: Hi lorem ipsum dolor sit amet consectetur\n",
    "image": "Echo: What is in this picture? lorem ipsum\n",
    "tools": "Tool result: 18C and sunny\n",
    "schema": "Paris 42\n",
    "reasoning": "Thinking about: Why? lorem ipsum -> Echo: Why? lorem ipsum\n",
    "batch": "0 Echo: One lorem ipsum\n1 Echo: Two lorem ipsum\n2 Echo: Three lorem ipsum\n",
    "jobs": "STATE_SUCCEEDED 10 0\n8 doc-8 Echo: Summarize 8 lorem\n9 doc-9 Echo: Summarize 9 lorem\n",
}


def examples(readme_text):
    pattern = re.compile(r"<!-- readme-example: (\w+) -->\s*```python\n(.*?)```", re.S)
    return {name: code for name, code in pattern.findall(readme_text)}


class ReadmeExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.environ["README"]) as f:
            cls.examples = examples(f.read())
        cls.servers = testing_util.Servers("readme")
        cls.stub = generation_pb2_grpc.GenerationStub(cls.servers.channel)

    @classmethod
    def tearDownClass(cls):
        cls.servers.stop()

    def test_config_examples_start_a_gateway_and_serve_every_alias(self):
        # Each textproto config in the README loads and validates as
        # written; then, with every base_url pointed at fakellm (which
        # speaks the OpenAI, Azure and Anthropic wire formats), each alias
        # it defines answers a call. Blocks fenced "```textproto fragment"
        # are parts of a config (TLS files, keys' hashes) that only make
        # sense on the reader's machine: not run.
        with open(os.environ["README"]) as f:
            configs = re.findall(r"```textproto\n(.*?)```", f.read(), re.S)
        self.assertEqual(len(configs), 7)
        tmp = os.environ.get("TEST_TMPDIR", "/tmp")
        # Only the scheme and host are replaced: a provider's path (Azure's
        # /openai/v1, OpenAI's /v1) is part of what is being shown.
        fake_host = "http://127.0.0.1:%d" % self.servers.fake_port
        for i, config in enumerate(configs):
            with self.subTest(config=i):
                path = os.path.join(tmp, "readme-config-%d.textproto" % i)
                with open(path, "w") as f:
                    f.write(config)
                proc, port = testing_util.start(
                    [os.environ["GATEWAY"], "--config=" + path, "--listen=127.0.0.1:0",
                     "--batch_store=" + os.path.join(tmp, "readme-config-%d.db" % i)],
                    os.path.join(tmp, "readme-config-%d-gateway.log" % i))
                proc.terminate()
                self.assertEqual(proc.wait(timeout=10), 0)
                self.assertGreater(port, 0)

                served = re.sub(r'base_url: "https?://[^/"]*', 'base_url: "%s' % fake_host, config)
                path = os.path.join(tmp, "readme-config-%d-served.textproto" % i)
                with open(path, "w") as f:
                    f.write(served)
                proc, port = testing_util.start(
                    [os.environ["GATEWAY"], "--config=" + path, "--listen=127.0.0.1:0",
                     "--batch_store=" + os.path.join(tmp, "readme-config-%d-served.db" % i)],
                    os.path.join(tmp, "readme-config-%d-served.log" % i))
                try:
                    with grpc.insecure_channel("127.0.0.1:%d" % port) as channel:
                        stub = generation_pb2_grpc.GenerationStub(channel)
                        aliases = re.findall(r'models \{\s*name: "([^"]+)"', config)
                        self.assertTrue(aliases)
                        for alias in aliases:
                            reply = stub.Generate(
                                generation_pb2.GenerateRequest(model=alias, prompt="hi"),
                                timeout=30)
                            self.assertTrue(reply.text.startswith("Echo: hi"), reply.text)
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)

    def test_every_example_is_checked(self):
        self.assertEqual(sorted(self.examples), sorted(EXPECTED))

    def run_example(self, name):
        # The README talks to the demo's address; this gateway has its own port.
        code = self.examples[name].replace("127.0.0.1:50051",
                                           "127.0.0.1:%d" % self.servers.port)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md:" + name, "exec"), {"stub": self.stub})
        self.assertEqual(out.getvalue(), EXPECTED[name])

    def test_quickstart(self):
        self.run_example("quickstart")

    def test_stream(self):
        self.run_example("stream")

    def test_image(self):
        self.run_example("image")

    def test_tools(self):
        self.run_example("tools")

    def test_schema(self):
        self.run_example("schema")

    def test_reasoning(self):
        self.run_example("reasoning")

    def test_batch(self):
        self.run_example("batch")

    def test_jobs(self):
        self.run_example("jobs")


if __name__ == "__main__":
    testing_util.main(__name__)
