#!/usr/bin/env bash
# Installs what building, serving and testing llm-gateway need on Debian 12:
# Debian's packages only (Bazel, gRPC, Protobuf, Abseil, libcurl, simdjson,
# GoogleTest, SQLite, libmicrohttpd, OpenSSL, Python gRPC, the Go and Java stub
# toolchains) plus package.json's npm packages (buf, gRPC for Node). Idempotent
# and quiet when everything is already there. Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  bazel-bootstrap          # Bazel 4.2.3 (offline build; see bazel/)
  g++
  protobuf-compiler libprotobuf-dev
  protobuf-compiler-grpc libgrpc++-dev grpc-proto
  libabsl-dev
  libcurl4-openssl-dev
  libsimdjson-dev
  libgtest-dev
  libsqlite3-dev libsqlitecpp-dev   # the batch job store
  libmicrohttpd-dev        # /metrics (--metrics_listen)
  libssl-dev               # libcrypto: TLS PEM checks (server/tls), API key hashes (server/auth)
  openssl                  # the TLS tests make their certificates at test time
  libtcmalloc-minimal4     # the release build's allocator (server/BUILD)
  python3-grpcio python3-protobuf   # the Python client round trip
  python3-prometheus-client         # a test parses /metrics as Prometheus does
  # scripts/generate_stubs.sh go, and building its output (tests/examples)
  golang-go protoc-gen-go protoc-gen-go-grpc
  golang-google-grpc-dev golang-google-genproto-dev golang-google-protobuf-dev
  # golang/protobuf 1.5 (on google.golang.org/protobuf, like protoc-gen-go 1.28's code);
  # without it apt satisfies golang-google-grpc-dev with the old 1.3
  golang-github-golang-protobuf-1-5-dev
  # scripts/generate_stubs.sh java, and compiling its output (tests/examples)
  default-jdk-headless protobuf-compiler-grpc-java-plugin
  libprotobuf-java libgrpc-java libgoogle-common-protos-java libguava-java
  libgeronimo-annotation-1.3-spec-java   # javax.annotation.Generated, gone from JDK 17
  # --config=fuzz (tests/fuzz/fuzz.bzl): libFuzzer and the sanitizer runtimes, lld
  clang-14 libclang-rt-14-dev lld-14
)
# buf (proto lint, buf curl) and Node's gRPC come from npm. A machine whose Node.js is not
# Debian's (nodesource's nodejs bundles npm and conflicts with Debian's npm)
# keeps its own.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Every devDependency of package.json present, else `npm install` (it follows
# package-lock.json).
if ! node -e 'const fs = require("fs");
  for (const name of Object.keys(require("./package.json").devDependencies))
    if (!fs.existsSync("node_modules/" + name + "/package.json")) process.exit(1);'; then
  npm install --no-audit --no-fund --silent >/dev/null
fi
