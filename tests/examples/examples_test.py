"""Runs each client example under examples/ as a user would: in its own
process, with LLM_GATEWAY_ADDR pointing at the real gateway in front of
fakellm, and checks what it prints. Also checks that README.md shows each
example verbatim.

Run by run_examples_test.sh; EXAMPLES_LANGUAGE (python or node) picks the
examples. The README check runs with the Python ones.
"""

import glob
import os
import re
import subprocess
import sys
import unittest

import testing_util

LANGUAGE = os.environ["EXAMPLES_LANGUAGE"]
EXAMPLES = os.path.join(os.environ["RUNFILES"], "examples")

# What each example prints, given fakellm's deterministic model (8 tokens:
# "Echo: " + the prompt, then filler words).
EXPECTED = {
    "python/generate.py": "Echo: Hello! lorem ipsum dolor sit amet consectetur 9\n",
    "python/stream.py": "Echo: Hi lorem ipsum dolor sit amet consectetur\n",
    "python/batch_job.py": ("STATE_SUCCEEDED\n"
                            "One Echo: One lorem ipsum dolor sit amet consectetur\n"
                            "Two Echo: Two lorem ipsum dolor sit amet consectetur\n"),
    "node/generate.js": "Echo: Hello! lorem ipsum dolor sit amet consectetur 9\n",
    "node/stream.js": "Echo: Hi lorem ipsum dolor sit amet consectetur\n",
}


def command(name):
    if name.endswith(".py"):
        return [sys.executable, os.path.join(EXAMPLES, name)], {}
    # Node finds the npm packages from the example's real path (the
    # workspace); NODE_PATH says the same for a runfiles tree of copies.
    return (["node", os.path.join(EXAMPLES, name)],
            {"NODE_PATH": os.environ["NODE_MODULES"]})


class ExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if LANGUAGE == "node" and not os.path.isdir(
                os.path.join(os.environ["NODE_MODULES"], "@grpc", "grpc-js")):
            raise RuntimeError("no npm packages in %s: run scripts/install_deps.sh"
                               % os.environ["NODE_MODULES"])
        cls.servers = testing_util.Servers("examples-" + LANGUAGE)

    @classmethod
    def tearDownClass(cls):
        cls.servers.stop()

    def run_example(self, name):
        argv, extra_env = command(name)
        env = dict(os.environ, LLM_GATEWAY_ADDR="127.0.0.1:%d" % self.servers.port, **extra_env)
        run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout, EXPECTED[name])


for _name in EXPECTED:
    if _name.startswith(LANGUAGE + "/"):
        setattr(ExamplesTest, "test_" + re.sub(r"\W", "_", _name),
                lambda self, name=_name: self.run_example(name))


if LANGUAGE == "python":
    class ReadmeTest(unittest.TestCase):
        def test_every_example_is_run(self):
            found = [os.path.relpath(path, EXAMPLES)
                     for path in glob.glob(os.path.join(EXAMPLES, "*", "*.*"))]
            self.assertEqual(sorted(found), sorted(EXPECTED))

        def test_readme_shows_each_example_verbatim(self):
            with open(os.environ["README"]) as f:
                blocks = re.findall(r"<!-- example: (examples/\S+) -->\n```\w+\n(.*?)```",
                                    f.read(), re.S)
            # (client/examples/hello.cc, the C++ one, is checked and run by
            # //tests/integration:client_integration_test.)
            self.assertEqual(sorted(name for name, _ in blocks),
                             sorted("examples/" + name for name in EXPECTED))
            for name, code in blocks:
                with self.subTest(example=name):
                    with open(os.path.join(os.environ["RUNFILES"], name)) as f:
                        self.assertEqual(code, f.read())

        def test_examples_are_short(self):
            for name in EXPECTED:
                with self.subTest(example=name):
                    with open(os.path.join(EXAMPLES, name)) as f:
                        self.assertLess(len(f.read().splitlines()), 15)


if __name__ == "__main__":
    testing_util.main(__name__)
