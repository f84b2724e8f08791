"""cc_grpc_library at its upstream path (@com_github_grpc_grpc//bazel:cc_grpc_library.bzl),
running Debian's protoc with Debian's grpc_cpp_plugin.

Same signature and defaults as upstream gRPC's macro:

- grpc_only = True: srcs is one proto_library; only the service code is
  generated, the message code comes from the cc_proto_library in deps. This
  is the portable form (upstream's rule accepts it too).
- grpc_only = False (the default, as upstream): the message code is
  generated as well, by a cc_proto_library `<name>_cc_proto` added to deps.
  srcs may be one .proto file, as upstream expects (a proto_library
  `<name>_only` is declared over it, its proto deps being `<dep>_only` of
  each dep, googleapis deps as they are: upstream's convention), or, as an
  extension upstream lacks, one proto_library.
- proto_only = True: only the message code, as cc_proto_library `name`.
- generate_mocks = True: also `<file>_mock.grpc.pb.h` (gMock stubs).

Works from another workspace too (`@llm_gateway//proto/...`): the output
folder and include path carry the repository's root.
"""

# Upstream's well_known_proto_libs(): the stand-in @com_google_protobuf has
# a proto_library for each.
_WELL_KNOWN_PROTOS = [
    "@com_google_protobuf//:%s_proto" % name
    for name in [
        "any",
        "api",
        "descriptor",
        "duration",
        "empty",
        "field_mask",
        "source_context",
        "struct",
        "timestamp",
        "type",
        "wrappers",
    ]
]

def _join(*parts):
    return "/".join([p for p in parts if p])

def _import_path(src, proto_info):
    """The name protoc knows `src` by (as in the descriptor set)."""
    root = proto_info.proto_source_root
    if root and root != "." and src.path.startswith(root + "/"):
        return src.path[len(root) + 1:]

    # No import prefix: relative to its repository's root. short_path is
    # "../REPO/pkg/x.proto" for a file of another repository.
    path = src.short_path
    if path.startswith("../"):
        path = path[len("../"):].split("/", 1)[1]
    return path

def _grpc_cc_codegen_impl(ctx):
    proto_info = ctx.attr.srcs[0][ProtoInfo]
    out_root = ctx.label.name + "_gen"
    exts = [".grpc.pb.h", ".grpc.pb.cc"]
    if ctx.attr.generate_mocks:
        exts.append("_mock.grpc.pb.h")
    outputs = []
    names = []
    for src in proto_info.direct_sources:
        name = _import_path(src, proto_info)
        names.append(name)
        base = name[:-len(".proto")]
        for ext in exts:
            outputs.append(ctx.actions.declare_file(out_root + "/" + base + ext))

    # workspace_root is "external/REPO" when this package belongs to another
    # repository (a workspace depending on llm_gateway), "" in the main one.
    out_dir = _join(ctx.bin_dir.path, ctx.label.workspace_root, ctx.label.package, out_root)
    descriptor_sets = proto_info.transitive_descriptor_sets.to_list()
    args = ctx.actions.args()
    args.add("--plugin=protoc-gen-grpc=" + ctx.executable._plugin.path)
    if ctx.attr.generate_mocks:
        args.add("--grpc_out=generate_mock_code=true:" + out_dir)
    else:
        args.add("--grpc_out=" + out_dir)
    args.add("--descriptor_set_in=" + ":".join([f.path for f in descriptor_sets]))
    args.add_all(names)
    ctx.actions.run(
        executable = ctx.executable._protoc,
        arguments = [args],
        inputs = descriptor_sets,
        tools = [ctx.executable._plugin],
        outputs = outputs,
        mnemonic = "GrpcCppCodegen",
        progress_message = "Generating gRPC C++ for %s" % ctx.label,
    )
    return [
        DefaultInfo(files = depset(outputs)),
        OutputGroupInfo(
            headers = depset([f for f in outputs if f.path.endswith(".h")]),
            sources = depset([f for f in outputs if f.path.endswith(".cc")]),
        ),
    ]

_grpc_cc_codegen = rule(
    implementation = _grpc_cc_codegen_impl,
    attrs = {
        "srcs": attr.label_list(providers = [ProtoInfo], mandatory = True),
        "generate_mocks": attr.bool(default = False),
        "_protoc": attr.label(
            default = "@com_google_protobuf//:protoc",
            executable = True,
            cfg = "exec",
        ),
        "_plugin": attr.label(
            default = "@com_github_grpc_grpc//:grpc_cpp_plugin",
            executable = True,
            cfg = "exec",
        ),
    },
)

def _proto_only_dep(dep):
    """Upstream's convention: cc_grpc_library X's proto_library is X_only."""
    if "com_google_googleapis" in dep:
        return dep
    return dep + "_only"

def cc_grpc_library(
        name,
        srcs,
        deps,
        proto_only = False,
        well_known_protos = False,
        generate_mocks = False,
        use_external = False,  # @unused, as upstream
        grpc_only = False,
        **kwargs):
    """Generates C++ gRPC classes for the services of one proto_library or .proto file.

    Args:
      name: the cc_library to create.
      srcs: one proto_library (grpc_only = True, or either mode here), or one
        .proto file (grpc_only = False, as upstream).
      deps: cc_proto_library targets with the message code (grpc_only =
        True); with grpc_only = False and a .proto file, other
        cc_grpc_library targets (their `_only` proto_library are the proto
        deps), googleapis proto_library targets as they are.
      proto_only: only the message code, as cc_proto_library `name`.
      well_known_protos: with a .proto file in srcs, its proto_library also
        depends on the well-known types.
      generate_mocks: also generate gMock stubs (`*_mock.grpc.pb.h`).
      use_external: unused, as upstream.
      grpc_only: only the service code; the message code must be in deps.
      **kwargs: common attributes (visibility, testonly, tags...), given to
        every target created, as upstream does.
    """
    if len(srcs) != 1:
        fail("exactly one srcs value is supported", "srcs")
    if grpc_only and proto_only:
        fail("grpc_only = True and proto_only = True exclude each other")

    src = srcs[0]
    extra_deps = []
    proto_target = src
    if not grpc_only:
        cc_proto_target = name if proto_only else name + "_cc_proto"
        if str(src).endswith(".proto"):
            # Upstream's form: a .proto file and cc_grpc_library deps.
            proto_target = ":" + name + "_only"
            proto_deps = [_proto_only_dep(dep) for dep in deps]
            if well_known_protos:
                proto_deps += _WELL_KNOWN_PROTOS
            native.proto_library(
                name = name + "_only",
                srcs = srcs,
                deps = proto_deps,
                **kwargs
            )

        # cc_proto_library is an aspect over the proto_library: a second
        # cc_proto_library of the same proto_library (say, one the caller
        # has too) shares its generated code; nothing is linked twice.
        native.cc_proto_library(
            name = cc_proto_target,
            deps = [proto_target],
            **kwargs
        )
        extra_deps.append(":" + cc_proto_target)
        if proto_only:
            return

    codegen = "_%s_grpc_codegen" % name
    _grpc_cc_codegen(
        name = codegen,
        srcs = [proto_target],
        generate_mocks = generate_mocks,
        **kwargs
    )
    for group in ["headers", "sources"]:
        native.filegroup(
            name = "%s_%s" % (codegen, group),
            srcs = [":" + codegen],
            output_group = group,
            **kwargs
        )
    native.cc_library(
        name = name,
        srcs = [":%s_sources" % codegen],
        hdrs = [":%s_headers" % codegen],
        # Package-relative: Bazel prefixes the repository's root itself.
        includes = [codegen + "_gen"],
        deps = deps + extra_deps + ["@com_github_grpc_grpc//:grpc++"],
        **kwargs
    )
