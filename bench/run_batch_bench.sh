#!/usr/bin/env bash
# Batch benchmarks (bench/README.md): builds the gateway and fast_upstream
# with --config=release, generates the Python stubs, and runs bench/batch_bench.py
# (which starts and stops the servers). Not run in CI.
#
# Usage: bash bench/run_batch_bench.sh [batch_bench.py flags...]
#   e.g. --items 20000, --fakellm tests/fakellm/fakellm.py, --skip_generate
# Environment:
#   BAZEL        the bazel command, startup options included
#                (default "bazel"; e.g. "bazel --output_base=/tmp/ob")
#   BAZEL_FLAGS  extra build flags (e.g. "--symlink_prefix=/" to leave the
#                bazel-* links alone)
#   WORKDIR      logs, config, job store, stubs and results.json (default:
#                a new directory under /tmp, kept after the run)
#   PYTHON       default /usr/bin/python3 (Debian's, which has grpc)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
BAZEL="${BAZEL:-bazel}"
BAZEL_FLAGS="${BAZEL_FLAGS:-}"
PYTHON="${PYTHON:-/usr/bin/python3}"

# shellcheck disable=SC2086  # BAZEL and BAZEL_FLAGS are word lists
$BAZEL build --config=release $BAZEL_FLAGS //server:llm_gateway //bench:fast_upstream
# shellcheck disable=SC2086
bin="$($BAZEL info --config=release $BAZEL_FLAGS bazel-bin 2>/dev/null)"
for binary in "$bin/server/llm_gateway" "$bin/bench/fast_upstream"; do
  [[ -x "$binary" ]] || { echo "run_batch_bench: $binary was not built" >&2; exit 1; }
done

workdir="${WORKDIR:-$(mktemp -d /tmp/batch-bench.XXXXXX)}"
mkdir -p "$workdir"
scripts/generate_stubs.sh --out "$workdir/stubs" --python_google_rpc python
stubs="$workdir/stubs/python"

# batch_bench.py stops the servers it started, on failure and on
# SIGINT/SIGTERM/SIGHUP too (exec: a signal to this script reaches it).
exec "$PYTHON" bench/batch_bench.py --gateway "$bin/server/llm_gateway" \
  --upstream "$bin/bench/fast_upstream" --stubs "$stubs" --workdir "$workdir" "$@"
