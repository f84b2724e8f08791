#!/usr/bin/env bash
# Runs one libFuzzer binary from its seed corpus for $FUZZ_SECONDS (default
# 20) as a Bazel test: fails on a crash, a leak, a timeout or a broken
# invariant, and keeps the reproducer in the test's undeclared outputs
# (bazel-testlogs/.../test.outputs/). Usage: run_fuzzer.sh FUZZER MAX_LEN CORPUS_FILE...
set -euo pipefail
fuzzer="$1"; max_len="$2"; shift 2
work="${TEST_TMPDIR:-$(mktemp -d)}/corpus"
mkdir -p "$work"
# A writable copy: libFuzzer adds what it finds to the first corpus folder.
cp -L "$@" "$work/"
out="${TEST_UNDECLARED_OUTPUTS_DIR:-$PWD}"
flags=(
  -max_total_time="${FUZZ_SECONDS:-20}"
  -timeout=10            # one input taking 10 s is a bug (a hang) too
  -rss_limit_mb=2048
  -print_final_stats=1
  -artifact_prefix="$out/"
)
[ "$max_len" != 0 ] && flags+=(-max_len="$max_len")
echo "fuzzing $(basename "$fuzzer") for ${FUZZ_SECONDS:-20} s from $# seeds"
"$fuzzer" "${flags[@]}" "$work"
