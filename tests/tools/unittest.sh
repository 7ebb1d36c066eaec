#!/bin/bash
# unittest.sh - the tooling package's unit tests (tests/tools/test_*.py, Python unittest,
# one module per module of scripts/ipclab_tools/), as TAP lines for tests/run-all.
# Usage: tests/tools/unittest.sh BUILD_DIR (exported as IPCLAB_BUILD for the tests that
# need the built ipclab or the babeltrace2 plugin; they SKIP without it)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
IPCLAB_BUILD=${1:-}
export IPCLAB_BUILD PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$here/tap.py"
