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

    def test_config_example_starts_a_gateway(self):
        # The README's textproto config must load and validate as written.
        with open(os.environ["README"]) as f:
            configs = re.findall(r"```textproto\n(.*?)```", f.read(), re.S)
        self.assertEqual(len(configs), 1)
        tmp = os.environ.get("TEST_TMPDIR", "/tmp")
        path = os.path.join(tmp, "readme-config.textproto")
        with open(path, "w") as f:
            f.write(configs[0])
        proc, port = testing_util.start(
            [os.environ["GATEWAY"], "--config=" + path, "--listen=127.0.0.1:0"],
            os.path.join(tmp, "readme-config-gateway.log"))
        proc.terminate()
        self.assertEqual(proc.wait(timeout=10), 0)
        self.assertGreater(port, 0)

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


if __name__ == "__main__":
    testing_util.main(__name__)
