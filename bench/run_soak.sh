#!/usr/bin/env bash
# Soak (bench/README.md, "Soak"): builds the gateway with -c opt, generates
# the Python stubs, and runs bench/soak.py against tests/fakellm/fakellm.py
# (soak.py starts and stops both servers). Not run in CI.
#
# Usage: bash bench/run_soak.sh [soak.py flags...]   e.g. --minutes 30 --rate 200
# Environment: BAZEL (the command with its startup options), BAZEL_FLAGS,
# WORKDIR (logs, stubs, results.json; default a new /tmp/soak.*, kept),
# PYTHON (default /usr/bin/python3, Debian's, which has grpc).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
BAZEL="${BAZEL:-bazel}"
BAZEL_FLAGS="${BAZEL_FLAGS:-}"
PYTHON="${PYTHON:-/usr/bin/python3}"

# shellcheck disable=SC2086  # BAZEL and BAZEL_FLAGS are word lists
$BAZEL build -c opt $BAZEL_FLAGS //server:llm_gateway
# shellcheck disable=SC2086
bin="$($BAZEL info -c opt $BAZEL_FLAGS bazel-bin 2>/dev/null)"
[[ -x "$bin/server/llm_gateway" ]] || { echo "run_soak: $bin/server/llm_gateway was not built" >&2; exit 1; }

workdir="${WORKDIR:-$(mktemp -d /tmp/soak.XXXXXX)}"
mkdir -p "$workdir"
scripts/generate_stubs.sh --out "$workdir/stubs" --python_google_rpc python >/dev/null

exec "$PYTHON" bench/soak.py --gateway "$bin/server/llm_gateway" \
  --fakellm tests/fakellm/fakellm.py --stubs "$workdir/stubs/python" --workdir "$workdir" "$@"
