#!/usr/bin/env bash
# Bazel sh_test: generates Python stubs, then runs the round trip with
# Debian's python3 (the one with grpc).
set -euo pipefail
runfiles="${TEST_SRCDIR}/${TEST_WORKSPACE}"
stubs="${TEST_TMPDIR}/pystubs"
"$runfiles/tests/python/generate_stubs.sh" "$stubs" "$runfiles" "${TEST_SRCDIR}/com_google_googleapis"
export PYTHONPATH="$stubs"
export GATEWAY="$runfiles/server/llm_gateway"
export FAKELLM="$runfiles/tests/fakellm/fakellm.py"
exec /usr/bin/python3 "$runfiles/tests/python/generate_roundtrip_test.py"
