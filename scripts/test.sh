#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the Bazel suite
# (unit, property, integration and the Python round trip), the same suite
# under AddressSanitizer and UndefinedBehaviorSanitizer, and buf lint.
# Ends with "N passed, N failed" counting test cases. Exit 0 only if all pass.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install_deps.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0

# Adds a bazel run's per-case counts (from each test.xml) to the totals.
count_bazel() {
  local counts
  counts=$(python3 scripts/count_test_xml.py bazel-testlogs)
  passed=$((passed + ${counts% *}))
  failed=$((failed + ${counts#* }))
}

run_bazel() {
  local name="$1"; shift
  echo "== bazel test $* ($name)"
  bazel test "$@" //... 
  local rc=$?
  count_bazel
  # A build failure leaves no test.xml to count: count it as a failure.
  if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then failed=$((failed + 1)); fi
}

run_bazel default
run_bazel asan --config=asan
run_bazel ubsan --config=ubsan

echo "== buf lint"
if npx buf lint; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
