"""Repositories that stand in for upstream source repositories with Debian's
system libraries (the idea of TensorFlow's third_party/systemlibs).

Targets keep their upstream names (`@com_github_grpc_grpc//:grpc++`,
`@com_google_absl//absl/status`), so moving to hermetic source builds later
changes WORKSPACE only. Nothing here downloads anything.
"""

def _system_repo_impl(ctx):
    for path, label in ctx.attr.build_files.items():
        ctx.symlink(ctx.path(Label(label)), path)
    for path, target in ctx.attr.symlinks.items():
        ctx.symlink(target, path)
    if not ctx.path("WORKSPACE").exists:
        ctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % ctx.name)

system_repo = repository_rule(
    implementation = _system_repo_impl,
    local = True,
    attrs = {
        # repository path of a BUILD file -> label of its source in this repo
        "build_files": attr.string_dict(mandatory = True),
        # repository path -> absolute path on the machine (headers, .proto files)
        "symlinks": attr.string_dict(),
    },
)
