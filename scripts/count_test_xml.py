"""Prints "PASSED FAILED" test-case counts for one `bazel test` invocation,
read from its build event file (--build_event_json_file): every test it
ran or took from cache, via that test's test.xml (gtest, Bazel's own XML for
plain sh_tests, and our Python runner all write JUnit-style XML). Going by
the event file, not by the testlogs folder, keeps stale results of earlier
runs out of the count.

A test target that Bazel reports as not passed while its XML shows no failed
case (LeakSanitizer reporting at exit, a crash after the last case, a
timeout) counts as one failed case: the target failed, so the count must
say so."""

import json
import sys
import xml.etree.ElementTree as ET


def xml_counts(path):
    root = ET.parse(path).getroot()
    if root.tag == "testsuites" and root.get("tests") is not None:
        suites = [root]
    else:
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = sum(int(s.get("tests", 0)) for s in suites)
    bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("disabled", 0)) + int(s.get("skipped", 0)) for s in suites)
    return tests - bad - skipped, bad


def main():
    passed = failed = 0
    seen = set()
    with open(sys.argv[1]) as events:
        for line in events:
            event = json.loads(line)
            result = event.get("testResult")
            if result is None:
                continue
            label = event["id"]["testResult"]["label"]
            if label in seen:
                continue
            target_failed = result.get("status", "PASSED") not in ("PASSED", "FLAKY")
            p, f = 0, 0
            for output in result.get("testActionOutput", []):
                if output["name"] != "test.xml":
                    continue
                path = output["uri"][len("file://"):]
                try:
                    p, f = xml_counts(path)
                except (OSError, ET.ParseError):
                    p, f = 0, 1
            seen.add(label)
            if target_failed and f == 0:
                f = 1
            passed += p
            failed += f
    print(passed, failed)


if __name__ == "__main__":
    main()
