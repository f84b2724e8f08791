#!/usr/bin/env bash
# The "a monorepo can depend on it" check: builds tests/consumer_workspace (a
# workspace of its own that declares @llm_gateway with local_repository and
# calls llm_gateway_dependencies()) offline, then calls the real gateway, in
# front of fakellm, with the consumer's binary and checks the reply.
#
#   tests/consumer_workspace/run_consumer_test.sh [GATEWAY_BINARY]
#
# GATEWAY_BINARY defaults to this repository's //server:llm_gateway, built
# with plain `bazel` (as scripts/test.sh runs it). The consumer build has its
# own output base, kept between runs: $LLM_GATEWAY_CONSUMER_CACHE (default
# ~/.cache/llm-gateway-consumer), one folder per checkout. It makes no
# bazel-* symlinks. Prints PASS or FAIL as its last line; exit 0 on PASS.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${LLM_GATEWAY_CONSUMER_CACHE:-$HOME/.cache/llm-gateway-consumer}"
# One output base per checkout: two worktrees would otherwise wait on each
# other's lock and refetch @llm_gateway (a new path) every time.
output_base="$cache/$(printf '%s' "$root" | sha256sum | cut -c1-12)"

fail() {
  echo "FAIL: consumer workspace: $*"
  exit 1
}

tmp="$(mktemp -d)"
pids=()
consumer_bazel() {
  (cd "$here" && bazel --output_base="$output_base" --max_idle_secs=120 "$@")
}
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$tmp"
  # Its Bazel server (~300 MB) is not needed until the next run; the output
  # base, and so the build, stays.
  if [ -d "$output_base" ]; then consumer_bazel shutdown 2>/dev/null; fi
}
trap cleanup EXIT

# wait_for_port FILE PID: waits (30 s at most, less if PID exits) for
# "... listening on HOST:PORT" in FILE and prints HOST:PORT.
wait_for_port() {
  local line
  for _ in $(seq 300); do
    line="$(grep -m1 -o 'listening on [^ ]*:[0-9]*' "$1" 2>/dev/null)"
    if [ -n "$line" ]; then
      echo "${line#listening on }"
      return 0
    fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

start=$SECONDS

# 0. The README shows these files as they are.
python3 "$here/check_readme.py" "$root/README.md" "$here" || fail "README.md's snippets differ (above)"

# 1. The gateway binary.
gateway="${1:-}"
if [ -z "$gateway" ]; then
  (cd "$root" && bazel build //server:llm_gateway) || fail "bazel build //server:llm_gateway failed"
  gateway="$(cd "$root" && bazel info bazel-bin 2>/dev/null)/server/llm_gateway"
fi
[ -x "$gateway" ] || fail "no gateway binary at $gateway"

# 2. The consumer workspace, offline (every repository it needs is local).
mkdir -p "$cache"
consumer_bazel build --symlink_prefix=/ //:generate_with_stubs //:generate_with_client \
  || fail "bazel build in tests/consumer_workspace failed"
bin="$(consumer_bazel info --symlink_prefix=/ bazel-bin 2>/dev/null)"
for client in generate_with_stubs generate_with_client; do
  [ -x "$bin/$client" ] || fail "no consumer binary at $bin/$client"
done
echo "consumer workspace built in $((SECONDS - start)) s"

# 3. fakellm, then the gateway in front of it.
python3 "$root/tests/fakellm/fakellm.py" --listen 127.0.0.1:0 >"$tmp/fakellm.out" 2>"$tmp/fakellm.err" &
pids+=($!)
fake="$(wait_for_port "$tmp/fakellm.out" "${pids[-1]}")" || { cat "$tmp/fakellm.err"; fail "fakellm did not start"; }

"$gateway" --listen=127.0.0.1:0 --openai_base_url="http://$fake/v1" \
  --batch_store="$tmp/jobs.db" >"$tmp/gateway.out" 2>"$tmp/gateway.err" &
pids+=($!)
address="$(wait_for_port "$tmp/gateway.out" "${pids[-1]}")" || { cat "$tmp/gateway.err"; fail "the gateway did not start"; }

# 4. The call. fakellm echoes the prompt, padded with its filler words to 8
# tokens (tests/fakellm/README.md, "The simulated model").
want="Echo: Hello from a monorepo lorem ipsum dolor"
for client in generate_with_stubs generate_with_client; do
  got="$("$bin/$client" "$address" fake-model "Hello from a monorepo" 2>"$tmp/client.err")" \
    || { cat "$tmp/client.err" "$tmp/gateway.err"; fail "$client: the Generate call failed"; }
  [ "$got" = "$want" ] || fail "$client: reply was '$got', want '$want'"
done

echo "PASS: consumer workspace: Generate through @llm_gateway's stubs and client library answered '$got' ($((SECONDS - start)) s)"
