#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the Bazel suite
# (unit, property, integration and the Python round trip), a workspace that
# depends on this one (tests/consumer_workspace), the same suite
# under AddressSanitizer and UndefinedBehaviorSanitizer (one build with both),
# the concurrency code that does not go through gRPC or protobuf maps under
# ThreadSanitizer
# (Debian's gRPC and Abseil are not TSan-instrumented: see
# docs/engineering-notes.md), every libFuzzer target for a short run
# (clang-14, --config=fuzz), and buf lint.
# Ends with "N passed, N failed" counting test cases. Exit 0 only if all pass.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0

events="$(mktemp)"
trap 'rm -f "$events"' EXIT

# Adds the last bazel run's per-case counts (each test's test.xml) to the totals.
count_bazel() {
  local counts
  counts=$(python3 scripts/count_test_xml.py "$events")
  passed=$((passed + ${counts% *}))
  failed=$((failed + ${counts#* }))
}

# run_bazel NAME [bazel flags...] TARGETS...
run_bazel() {
  local name="$1"; shift
  echo "== bazel test $* ($name)"
  bazel test --build_event_json_file="$events" "$@"
  local rc=$?
  count_bazel
  # A build failure leaves no test.xml to count: count it as a failure.
  if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then failed=$((failed + 1)); fi
}

run_bazel default //...

# Another workspace that depends on this one (tests/consumer_workspace, its
# own output base under ~/.cache): builds offline and calls the real gateway.
# One check: 1 passed or 1 failed.
echo "== consumer workspace (tests/consumer_workspace/run_consumer_test.sh)"
if tests/consumer_workspace/run_consumer_test.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

# One build under both sanitizers: two separate builds cost CI 15 minutes.
run_bazel asan+ubsan --config=asan_ubsan //...
run_bazel tsan --config=tsan //server/http/... //server/routing/... //server/batch/... //server/metrics/... \
  //server/common/... //server/auth/... \
  //server/providers/openai:chat_stream_test //server/providers/openai:chat_response_test \
  //server/providers/anthropic:messages_stream_test //server/providers/anthropic:messages_response_test

# Each libFuzzer target (tests/fuzz/fuzz.bzl) fuzzes from its seed corpus for
# FUZZ_SECONDS (ASan + UBSan, clang-14): one test case each, failed by a
# crash, a hang or a broken invariant (reproducer in its test.outputs).
fuzz_targets=$(bazel query 'attr(tags, "\bfuzz\b", tests(//...))' 2>/dev/null)
if [ -n "$fuzz_targets" ]; then
  # shellcheck disable=SC2086  # one target per word
  run_bazel fuzz --config=fuzz --test_env=FUZZ_SECONDS="${FUZZ_SECONDS:-15}" $fuzz_targets
else
  echo "no fuzz targets found"; failed=$((failed + 1))
fi

echo "== buf lint"
if npx buf lint; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
