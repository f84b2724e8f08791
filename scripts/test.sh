#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the Bazel suite
# (unit, property, integration and the Python round trip), a workspace that
# depends on this one (tests/consumer_workspace), the same suite under
# AddressSanitizer and UndefinedBehaviorSanitizer together with a short run
# of every libFuzzer target (one clang-14 build, --config=fuzz, serves
# both), the concurrency code that does not go through gRPC or protobuf
# maps under ThreadSanitizer (Debian's gRPC and Abseil are not
# TSan-instrumented: see docs/engineering-notes.md), and buf lint.
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

# The suite under ASan + UBSan and the fuzzers, from one build: --config=fuzz
# compiles everything with clang-14, both sanitizers and libFuzzer's
# coverage hooks; only the fuzz binaries link libFuzzer's main (tests/fuzz/
# fuzz.bzl). A separate gcc sanitizer build (--config=asan_ubsan, still there
# for anyone) cost CI a whole extra build of the tree. Each fuzz target
# fuzzes from its seed corpus for FUZZ_SECONDS: one test case each, failed
# by a crash, a hang or a broken invariant (reproducer in its test.outputs).
fuzz_targets=$(bazel query 'attr(tags, "\bfuzz\b", tests(//...))' 2>/dev/null)
if [ -z "$fuzz_targets" ]; then echo "no fuzz targets found"; failed=$((failed + 1)); fi
# Not built or run here: the fuzz corpus tests (each NAME_run replays the
# same corpus first) and tests with no C++ of ours to check (no_sanitizer).
# shellcheck disable=SC2086  # one target per word
run_bazel asan+ubsan+fuzz --config=fuzz --test_env=FUZZ_SECONDS="${FUZZ_SECONDS:-10}" \
  --build_tests_only --test_tag_filters=-fuzz_corpus,-no_sanitizer //... $fuzz_targets

run_bazel tsan --config=tsan //server/http/... //server/routing/... //server/batch/... //server/metrics/... \
  //server/common/... //server/auth/... \
  //server/providers/openai:chat_stream_test //server/providers/openai:chat_response_test \
  //server/providers/anthropic:messages_stream_test //server/providers/anthropic:messages_response_test

echo "== buf lint"
if npx buf lint; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
