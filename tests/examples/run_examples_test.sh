#!/usr/bin/env bash
# Bazel sh_test driver for tests/examples: runs $1, a Python test module in
# this folder ($2, if any, is the language of the examples it runs), with
# Debian's python3, the Python stubs from scripts/generate_stubs.sh, the
# gateway, fakellm and, for the Node tests, the workspace's npm packages.
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
export RUNFILES="$runfiles"
export GOOGLEAPIS="${TEST_SRCDIR}/com_google_googleapis"
# The npm packages are the workspace's own node_modules (scripts/install_deps.sh
# runs `npm install`), not a copy: the tests that need them are tagged
# "local" (no sandbox), and the workspace is where package.json really is.
workspace="$(dirname "$(readlink -f "$runfiles/package.json")")"
export NODE_MODULES="$workspace/node_modules"
export EXAMPLES_LANGUAGE="${2:-}"
exec /usr/bin/python3 "$runfiles/tests/examples/$1"
