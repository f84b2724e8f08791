#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running gateway: installs
# what is missing, builds, starts fakellm (the embedded demo upstream) and the
# gateway in front of it, and prints how to call it. Ctrl-C stops both.
# PORT (default 50051) and FAKELLM_PORT (default 8089) can be set.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-50051}"
fake_port="${FAKELLM_PORT:-8089}"

scripts/install_deps.sh
# Optimized (-c opt, spelled out here though .bazelrc's `release` implies
# it, with tcmalloc): the binary people try is the one they judge (tests
# keep their own fastbuild and sanitizer configs).
bazel build -c opt --config=release //server:llm_gateway

python3 tests/fakellm/fakellm.py --listen "127.0.0.1:$fake_port" --pace_ms 30 &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null || true' EXIT

cat <<MSG

The gateway is starting on 127.0.0.1:$port, in front of fakellm on :$fake_port.
Call it from another terminal:

  npx buf curl --protocol grpc --http2-prior-knowledge --reflect-protocol grpc-v1alpha \\
    -d '{"model": "fake-model", "prompt": "Hello!"}' \\
    http://127.0.0.1:$port/llmgateway.v1.Generation/Generate

  grpcurl -plaintext -d '{"model": "fake-model", "prompt": "Hello!"}' \\
    127.0.0.1:$port llmgateway.v1.Generation/Generate

MSG
bazel-bin/server/llm_gateway --listen="127.0.0.1:$port" \
  --openai_base_url="http://127.0.0.1:$fake_port/v1"
