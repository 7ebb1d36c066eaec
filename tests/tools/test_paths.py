"""test_paths - where the repository, the build and the plugin are."""

import os
import unittest

from ipclab_tools import paths


class Paths(unittest.TestCase):
    def setUp(self):
        self.saved = {k: os.environ.get(k) for k in ("BUILD", "IPCLAB_BT2_PLUGIN_PATH")}
        self.addCleanup(self.restore)

    def restore(self):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def test_repository(self):
        self.assertTrue(os.path.isfile(os.path.join(paths.REPO, "Makefile")))
        self.assertTrue(os.path.isfile(os.path.join(paths.BENCH, "quick.matrix")))
        self.assertTrue(os.path.isfile(os.path.join(paths.SCRIPTS, "ipclab-compare")))

    def test_build_as_make(self):
        os.environ.pop("BUILD", None)
        self.assertEqual(paths.build_dir(), os.path.join(paths.REPO, "build"))
        os.environ["BUILD"] = "build-asan"
        self.assertEqual(paths.build_dir(), os.path.join(paths.REPO, "build-asan"))
        os.environ["BUILD"] = "/abs/b"
        self.assertEqual(paths.build_dir(), "/abs/b")

    def test_plugin_dir(self):
        os.environ["BUILD"] = "/abs/b"
        os.environ.pop("IPCLAB_BT2_PLUGIN_PATH", None)
        self.assertEqual(paths.plugin_dir(), "/abs/b/lib/babeltrace2/plugins")
        os.environ["IPCLAB_BT2_PLUGIN_PATH"] = "/p"
        self.assertEqual(paths.plugin_dir(), "/p")


if __name__ == "__main__":
    unittest.main()
