#!/usr/bin/env bash
# Side-by-side benchmark (bench/README.md): installs h2load, nginx and taskset
# from Debian and Portkey from npm (pinned in bench/package.json), builds the
# gateway and the gRPC echo server with --config=release, and runs
# bench/side_by_side.py, which measures nginx direct, the echo ceiling, the
# gateway (unary, streaming) and Portkey in one run and writes results.md.
# Not run in CI: it takes a few minutes and wants the whole machine.
#
# Usage: bash bench/run_bench.sh [side_by_side.py flags...]
#   e.g. --duration 10, --concurrency 1,64, --variant base=/path/to/llm_gateway
# Environment:
#   BAZEL        the bazel command, startup options included (default "bazel")
#   BAZEL_FLAGS  extra build flags (e.g. "--symlink_prefix=/")
#   WORKDIR      logs, configs, h2load logs, results.md and results.json
#                (default: a new directory under /tmp, kept)
#   PYTHON       default python3
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
BAZEL="${BAZEL:-bazel}"
BAZEL_FLAGS="${BAZEL_FLAGS:-}"
PYTHON="${PYTHON:-python3}"

# Debian: h2load (nghttp2-client), nginx (any flavour; nginx-light is the
# smallest), taskset (util-linux).
missing=()
command -v h2load >/dev/null || missing+=(nghttp2-client)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v taskset >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# npm: Portkey at the version package-lock.json pins. Its postinstall
# (patch-package) has nothing to patch in the published package.
if [ ! -f bench/node_modules/@portkey-ai/gateway/package.json ]; then
  (cd bench && npm ci --no-audit --no-fund --ignore-scripts --silent)
fi

# shellcheck disable=SC2086  # BAZEL and BAZEL_FLAGS are word lists
$BAZEL build --config=release $BAZEL_FLAGS //server:llm_gateway //bench:echo_server
# shellcheck disable=SC2086
bin="$($BAZEL info --config=release $BAZEL_FLAGS bazel-bin 2>/dev/null)"
for binary in "$bin/server/llm_gateway" "$bin/bench/echo_server"; do
  [[ -x "$binary" ]] || { echo "run_bench: $binary was not built" >&2; exit 1; }
done

workdir="${WORKDIR:-$(mktemp -d /tmp/side-by-side.XXXXXX)}"
mkdir -p "$workdir"
# side_by_side.py stops what it started, on failure and on signals too.
exec "$PYTHON" bench/side_by_side.py --gateway "$bin/server/llm_gateway" \
  --echo "$bin/bench/echo_server" --portkey bench/node_modules/@portkey-ai/gateway \
  --workdir "$workdir" "$@"
