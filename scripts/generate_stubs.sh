#!/usr/bin/env bash
# Generates client stubs for llmgateway.v1 (proto/llmgateway/v1/*.proto) with
# local plugins only (offline): Debian's protoc and gRPC plugins, and
# proto-loader-gen-types from node_modules (npm install).
#
# Usage: scripts/generate_stubs.sh [--out DIR] [--python_google_rpc] [LANG...]
#   LANG       python, node, go, java (default: all four); each goes to DIR/LANG,
#              emptied first (as buf.gen.yaml's `clean: true`)
#   --out DIR  default: gen/ in the repository (as buf.gen.yaml)
#   --python_google_rpc
#              also write Python modules for google.rpc (from the repo's
#              bazel/googleapis copy) into DIR/python, for machines without
#              googleapis-common-protos (Debian 12 does not package it; the
#              tests use this). Otherwise google.rpc is never generated: every
#              language takes it from its published package (README, "Clients
#              in other languages").
#
#   python  *_pb2.py, *_pb2.pyi, *_pb2_grpc.py (protoc + grpc_python_plugin)
#   node    TypeScript types for @grpc/proto-loader (proto-loader-gen-types;
#           loader options as in examples/node/)
#   go      *.pb.go, *_grpc.pb.go (protoc-gen-go, protoc-gen-go-grpc), in
#           DIR/go/llmgateway/v1 (paths=source_relative)
#   java    io/llmgateway/v1/*.java (protoc's java + grpc_java_plugin)
#
# NODE_MODULES (default: the repository's node_modules) is where the npm
# packages are; GOOGLEAPIS (default: bazel/googleapis) holds the google/rpc
# protos that protoc reads for the import, not to generate them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/gen"
google_rpc=0
langs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    --python_google_rpc) google_rpc=1; shift ;;
    python|node|go|java) langs+=("$1"); shift ;;
    *) echo "usage: $0 [--out DIR] [--python_google_rpc] [python|node|go|java]..." >&2; exit 2 ;;
  esac
done
[ ${#langs[@]} -gt 0 ] || langs=(python node go java)
googleapis="${GOOGLEAPIS:-$root/bazel/googleapis}"
node_modules="${NODE_MODULES:-$root/node_modules}"
protos=(llmgateway/v1/batch_jobs.proto llmgateway/v1/content.proto
        llmgateway/v1/generation.proto llmgateway/v1/models.proto)

# Runs protoc from proto/, so that generated names follow the import paths.
run_protoc() {
  (cd "$root/proto" && protoc -I . -I "$googleapis" -I /usr/include "$@")
}

need() {
  [ -e "$1" ] || { echo "$0: $1 is missing: run scripts/install_deps.sh" >&2; exit 1; }
}

for lang in "${langs[@]}"; do
  dir="$out/$lang"
  rm -rf "$dir"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  case "$lang" in
    python)
      need /usr/bin/grpc_python_plugin
      run_protoc --python_out="$dir" --pyi_out="$dir" --grpc_python_out="$dir" \
        --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin "${protos[@]}"
      touch "$dir/llmgateway/__init__.py" "$dir/llmgateway/v1/__init__.py"
      if [ "$google_rpc" = 1 ]; then
        # google.rpc sits beside google.protobuf in the `google` namespace package.
        (cd "$googleapis" && protoc -I . -I /usr/include --python_out="$dir" --pyi_out="$dir" \
          google/rpc/status.proto google/rpc/error_details.proto google/rpc/code.proto)
      fi
      ;;
    node)
      need "$node_modules/.bin/proto-loader-gen-types"
      need "$node_modules/google-proto-files/google/rpc/status.proto"
      (cd "$root/proto" && "$node_modules/.bin/proto-loader-gen-types" \
        --grpcLib=@grpc/grpc-js --outDir="$dir" \
        --longs=String --enums=String --defaults --oneofs --includeComments \
        "${protos[@]}" -I . "$node_modules/google-proto-files" >/dev/null)
      ;;
    go)
      need /usr/bin/protoc-gen-go
      need /usr/bin/protoc-gen-go-grpc
      run_protoc --go_out="$dir" --go_opt=paths=source_relative \
        --go-grpc_out="$dir" --go-grpc_opt=paths=source_relative "${protos[@]}"
      ;;
    java)
      need /usr/bin/grpc_java_plugin
      run_protoc --java_out="$dir" --grpc-java_out="$dir" \
        --plugin=protoc-gen-grpc-java=/usr/bin/grpc_java_plugin "${protos[@]}"
      ;;
  esac
done
