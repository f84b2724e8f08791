#!/usr/bin/env bash
# Bazel sh_test driver for the Python suites: generates Python stubs from
# proto/, then runs the suite named by $1 with Debian's python3 (the one
# with grpc) against the real gateway binary and fakellm.
set -euo pipefail
runfiles="${TEST_SRCDIR}/${TEST_WORKSPACE}"
stubs="${TEST_TMPDIR}/stubs"
# google.rpc too: Debian 12 packages no googleapis-common-protos.
GOOGLEAPIS="${TEST_SRCDIR}/com_google_googleapis" \
  "$runfiles/scripts/generate_stubs.sh" --out "$stubs" --python_google_rpc python
export PYTHONPATH="$stubs/python:$runfiles/tests/python"
export GATEWAY="$runfiles/server/llm_gateway"
export FAKELLM="$runfiles/tests/fakellm/fakellm.py"
export README="$runfiles/README.md"
exec /usr/bin/python3 "$runfiles/tests/python/$1"
