#!/usr/bin/env bash
# Generates Python stubs for llmgateway.v1 (and the google.rpc details it
# uses) into $1, with Debian's protoc and grpc_python_plugin.
# Usage: generate_stubs.sh OUT_DIR [REPO_ROOT [GOOGLEAPIS_ROOT]]
set -euo pipefail
out="$1"
root="${2:-$(cd "$(dirname "$0")/../.." && pwd)}"
googleapis="${3:-$root/bazel/googleapis}"
mkdir -p "$out"
protoc -I "$root/proto" -I "$googleapis" -I /usr/include \
  --python_out="$out" --grpc_out="$out" \
  --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin \
  "$root"/proto/llmgateway/v1/*.proto \
  "$googleapis"/google/rpc/status.proto \
  "$googleapis"/google/rpc/error_details.proto
# google.rpc lives beside google.protobuf in the `google` namespace package.
touch "$out/llmgateway/__init__.py" "$out/llmgateway/v1/__init__.py"
