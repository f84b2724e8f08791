"""Prints "PASSED FAILED" test-case counts summed over the test.xml files that
`bazel test` left under a bazel-testlogs tree (gtest, Bazel's own XML for
sh_tests, and our Python runner all write JUnit-style XML)."""

import os
import sys
import xml.etree.ElementTree as ET


def counts(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    if root.tag == "testsuites" and root.get("tests") is not None:
        suites = [root]
    tests = sum(int(s.get("tests", 0)) for s in suites)
    bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("disabled", 0)) + int(s.get("skipped", 0)) for s in suites)
    return tests - bad - skipped, bad


def main():
    passed = failed = 0
    for dirpath, _, files in os.walk(sys.argv[1], followlinks=True):
        if "test.xml" in files:
            try:
                p, f = counts(os.path.join(dirpath, "test.xml"))
            except ET.ParseError:
                p, f = 0, 1
            passed += p
            failed += f
    print(passed, failed)


if __name__ == "__main__":
    main()
