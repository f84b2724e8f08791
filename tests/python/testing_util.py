"""Shared by the Python suites: start fakellm and the gateway the way a user
would, and run a unittest module with per-case JUnit XML for Bazel."""

import os
import re
import subprocess
import sys
import time
import unittest

import grpc


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


class Servers:
    """fakellm, and the gateway in front of it, for one test class."""

    def __init__(self, name):
        tmp = os.environ.get("TEST_TMPDIR", "/tmp")
        self.fakellm, self.fake_port = start(
            [sys.executable, os.environ["FAKELLM"], "--listen", "127.0.0.1:0"],
            os.path.join(tmp, name + "-fakellm.log"))
        self.gateway, self.port = start(
            [os.environ["GATEWAY"], "--listen=127.0.0.1:0",
             "--openai_base_url=http://127.0.0.1:%d/v1" % self.fake_port,
             "--batch_store=" + os.path.join(tmp, name + "-jobs.db")],
            os.path.join(tmp, name + "-gateway.log"))
        self.channel = grpc.insecure_channel("127.0.0.1:%d" % self.port)

    def stop(self):
        self.channel.close()
        for proc in (self.gateway, self.fakellm):
            proc.terminate()
            proc.wait(timeout=10)


def main(module_name):
    """Runs the suite; under Bazel also writes JUnit XML to $XML_OUTPUT_FILE
    so each case counts (Bazel's own XML for an sh_test counts one)."""
    from xml.etree import ElementTree as ET
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[module_name])

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
