"""Repositories that stand in for upstream source repositories with Debian's
system libraries (the idea of TensorFlow's third_party/systemlibs).

Targets keep their upstream names (`@com_github_grpc_grpc//:grpc++`,
`@com_google_absl//absl/status`), so moving to hermetic source builds later
changes WORKSPACE only. Nothing here downloads anything.
"""

def _system_repo_impl(ctx):
    # Label() resolves "//bazel/..." in the repository of this .bzl file:
    # this one, or @llm_gateway when another workspace loads it.
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

def _bundled_repo_impl(ctx):
    # The root of this repository (here, or @llm_gateway's folder when another
    # workspace depends on it), found through a label: local_repository's
    # `path` would be relative to whichever workspace calls the macro.
    root = ctx.path(Label("//:WORKSPACE")).dirname
    src = root
    for part in ctx.attr.dir.split("/"):
        src = src.get_child(part)
    if not src.exists:
        fail("%s: no folder %s in %s" % (ctx.name, ctx.attr.dir, root))

    # What new_local_repository does: one symlink per entry, so edits to the
    # folder are seen without a refetch.
    for child in src.readdir():
        ctx.symlink(child, child.basename)

bundled_repo = repository_rule(
    doc = """A folder of this repository (with its own WORKSPACE file) as a
    repository: local_repository(path = dir), with the path taken from this
    repository's root wherever that is.""",
    implementation = _bundled_repo_impl,
    local = True,
    attrs = {
        # folder path, relative to this repository's root
        "dir": attr.string(mandatory = True),
    },
)
