"""Every external repository llm-gateway's targets need, as one macro.

This repository's WORKSPACE calls it, and so does a monorepo that depends
on llm-gateway:

    local_repository(name = "llm_gateway", path = "third_party/llm-gateway")

    load("@llm_gateway//bazel:deps.bzl", "llm_gateway_dependencies")

    llm_gateway_dependencies()

(tests/consumer_workspace/WORKSPACE is such a workspace, built in CI.)

Each repository is declared only if the calling WORKSPACE has not declared
that name already, so a monorepo with its own gRPC, Protobuf or Abseil keeps
them (declare them before the call). The names are upstream's, so its own
source builds fit: e.g. `@com_github_grpc_grpc//bazel:cc_grpc_library.bzl`.

Nothing here needs to know where llm-gateway lives: the files are found
through labels of this repository, which Bazel resolves in whichever
workspace loads this file.
"""

load("//bazel:systemlibs.bzl", "bundled_repo", "system_repo")

# Abseil packages that have a stand-in BUILD file in bazel/systemlibs/absl.
_ABSL_PACKAGES = [
    "base",
    "cleanup",
    "container",
    "flags",
    "functional",
    "random",
    "status",
    "strings",
    "synchronization",
    "time",
    "types",
]

def _maybe(repo_rule, name, **kwargs):
    if native.existing_rule(name) == None:
        repo_rule(name = name, **kwargs)

def llm_gateway_dependencies():
    """Declares the external repositories llm-gateway needs (offline, from Debian 12's packages)."""

    # Bazel 4.2.3's built-in rules load these three; they would be downloaded.
    # Folders of this repository (bazel/<dir>), not Debian packages.
    _maybe(bundled_repo, "rules_cc", dir = "bazel/rules_cc")
    _maybe(bundled_repo, "rules_java", dir = "bazel/rules_java")
    _maybe(bundled_repo, "remote_coverage_tools", dir = "bazel/remote_coverage_tools")

    # google.rpc's status and error details (no current copy is packaged).
    _maybe(bundled_repo, "com_google_googleapis", dir = "bazel/googleapis")

    _maybe(
        system_repo,
        "com_google_protobuf",
        build_files = {"BUILD": "//bazel/systemlibs:protobuf.BUILD"},
        symlinks = {"google": "/usr/include/google"},
    )

    _maybe(
        system_repo,
        "com_github_grpc_grpc",
        build_files = {
            "BUILD": "//bazel/systemlibs:grpc.BUILD",
            "bazel/BUILD": "//bazel/systemlibs:empty.BUILD",
            "bazel/cc_grpc_library.bzl": "//bazel/systemlibs:cc_grpc_library.bzl",
        },
        symlinks = {"grpc-proto": "/usr/share/grpc-proto"},
    )

    _maybe(
        system_repo,
        "com_google_absl",
        build_files = {
            "absl/%s/BUILD" % pkg: "//bazel/systemlibs/absl:%s.BUILD" % pkg
            for pkg in _ABSL_PACKAGES
        },
    )

    _maybe(
        system_repo,
        "com_google_googletest",
        build_files = {"BUILD": "//bazel/systemlibs:googletest.BUILD"},
    )

    _maybe(
        system_repo,
        "com_github_curl_curl",
        build_files = {"BUILD": "//bazel/systemlibs:curl.BUILD"},
    )

    _maybe(
        system_repo,
        "openssl",
        build_files = {"BUILD": "//bazel/systemlibs:openssl.BUILD"},
    )

    _maybe(
        system_repo,
        "com_github_simdjson_simdjson",
        build_files = {"BUILD": "//bazel/systemlibs:simdjson.BUILD"},
    )

    _maybe(
        system_repo,
        "org_sqlite",
        build_files = {"BUILD": "//bazel/systemlibs:sqlite.BUILD"},
    )

    _maybe(
        system_repo,
        "org_gnu_libmicrohttpd",
        build_files = {"BUILD": "//bazel/systemlibs:libmicrohttpd.BUILD"},
    )
