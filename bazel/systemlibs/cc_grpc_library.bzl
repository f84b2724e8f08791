"""cc_grpc_library at its upstream path (@com_github_grpc_grpc//bazel:cc_grpc_library.bzl),
running Debian's protoc with Debian's grpc_cpp_plugin.

Only the grpc_only=True form is offered: message code comes from
cc_proto_library, as in a monorepo that uses upstream gRPC.
"""

def _import_path(src, proto_info):
    root = proto_info.proto_source_root
    if root and src.path.startswith(root + "/"):
        return src.path[len(root) + 1:]
    return src.short_path

def _grpc_cc_codegen_impl(ctx):
    proto_info = ctx.attr.srcs[0][ProtoInfo]
    out_root = ctx.label.name + "_gen"
    outputs = []
    names = []
    for src in proto_info.direct_sources:
        name = _import_path(src, proto_info)
        names.append(name)
        base = name[:-len(".proto")]
        for ext in [".grpc.pb.h", ".grpc.pb.cc"]:
            outputs.append(ctx.actions.declare_file(out_root + "/" + base + ext))
    out_dir = ctx.bin_dir.path + "/" + ctx.label.package + "/" + out_root
    descriptor_sets = proto_info.transitive_descriptor_sets.to_list()
    args = ctx.actions.args()
    args.add("--plugin=protoc-gen-grpc=" + ctx.executable._plugin.path)
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

def cc_grpc_library(name, srcs, deps, grpc_only = True, visibility = None, **kwargs):
    if not grpc_only:
        fail("only grpc_only = True is supported; add a cc_proto_library to deps")
    codegen = name + "_codegen"
    _grpc_cc_codegen(name = codegen, srcs = srcs)
    for group in ["headers", "sources"]:
        native.filegroup(name = "%s_%s" % (codegen, group), srcs = [":" + codegen], output_group = group)
    native.cc_library(
        name = name,
        srcs = [":%s_sources" % codegen],
        hdrs = [":%s_headers" % codegen],
        includes = [codegen + "_gen"],
        deps = deps + ["@com_github_grpc_grpc//:grpc++"],
        visibility = visibility,
        **kwargs
    )
