#!/usr/bin/env bash
# Runs fakellm's own unittest suite under Debian's python3.
set -euo pipefail
here="$(dirname "$0")"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" "$here/fakellm_selftest.py"
