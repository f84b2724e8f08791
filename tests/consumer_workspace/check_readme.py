"""Checks README.md's "Use it from your monorepo" snippets against this
workspace, so the README shows what CI builds:

- the block after `<!-- consumer-workspace: WORKSPACE -->` must be this
  WORKSPACE from `local_repository(` on, comments and the `path` value aside
  (a monorepo's path is its own);
- each block after `<!-- consumer-workspace: BUILD -->` must appear in this
  BUILD file as it is.

Usage: check_readme.py README.md CONSUMER_DIR. Prints what differs; exit 1
if anything does."""

import difflib
import re
import sys


def blocks(readme, name):
    found = re.findall(r"<!-- consumer-workspace: %s -->\s*```\w*\n(.*?)```" % name, readme, re.S)
    if not found:
        sys.exit("README.md has no block marked <!-- consumer-workspace: %s -->" % name)
    return found


def normalized(starlark):
    lines = []
    for line in starlark.splitlines():
        line = re.sub(r"\s*#.*$", "", line)
        line = re.sub(r'path = "[^"]*"', 'path = "..."', line)
        if line.strip() or (lines and lines[-1]):
            lines.append(line.rstrip())
    while lines and not lines[-1]:
        lines.pop()
    return lines


def main():
    readme_path, consumer = sys.argv[1], sys.argv[2]
    with open(readme_path) as f:
        readme = f.read()
    ok = True

    with open(consumer + "/WORKSPACE") as f:
        workspace = f.read()
    start = workspace.find("local_repository(")
    want, got = normalized(workspace[start:]), normalized(blocks(readme, "WORKSPACE")[0])
    if want != got:
        ok = False
        print("README.md's WORKSPACE lines differ from tests/consumer_workspace/WORKSPACE:")
        print("\n".join(difflib.unified_diff(want, got, "consumer WORKSPACE", "README.md", lineterm="")))

    with open(consumer + "/BUILD") as f:
        build = f.read()
    for snippet in blocks(readme, "BUILD"):
        if snippet not in build:
            ok = False
            print("README.md's BUILD block is not in tests/consumer_workspace/BUILD as written:")
            print(snippet)

    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
