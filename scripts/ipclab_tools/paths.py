"""paths.py - where things are: the repository, its scripts/ and bench/ folders, the
build directory (BUILD, as for make) and the babeltrace2 plugin directory."""

import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
SCRIPTS = os.path.join(REPO, "scripts")
BENCH = os.path.join(REPO, "bench")


def build_dir():
    """$BUILD as for make: relative to the repository, an absolute one as is; default build."""
    b = os.environ.get("BUILD") or "build"
    return b if os.path.isabs(b) else os.path.join(REPO, b)


def plugin_dir():
    """$IPCLAB_BT2_PLUGIN_PATH, else BUILD/lib/babeltrace2/plugins."""
    return os.environ.get("IPCLAB_BT2_PLUGIN_PATH") or os.path.join(build_dir(), "lib", "babeltrace2", "plugins")
