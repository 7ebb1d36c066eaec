"""test_env - env.json: what it reads from a results folder and the machine."""

import json
import unittest

from fixtures import TempDir
from ipclab_tools import env
from ipclab_tools.cli import UsageError


class Env(TempDir):
    def test_commands_and_matrix(self):
        self.write("commands.txt", "a\tuntraced\tipclab x\n\nb\treference 1/2\tperf y\nloose line\n")
        self.assertEqual(env.commands(self.tmp), [
            {"id": "a", "variant": "untraced", "command": "ipclab x"},
            {"id": "b", "variant": "reference 1/2", "command": "perf y"},
            {"id": None, "variant": None, "command": "loose line"}])
        self.assertIsNone(env.matrix(self.tmp))
        self.write_json("matrix.json", {"matrix": "m", "runs": [1, 2], "counts": {"ok": 2}})
        m = env.matrix(self.tmp)
        self.assertEqual((m["matrix"], m["counts"]), ("m", {"ok": 2}))
        self.assertNotIn("runs", m)

    def test_limits_and_write(self):
        self.assertIn("RLIMIT_SIGPENDING", env.limits())
        env.write(self.tmp)
        with open(self.path("env.json")) as f:
            doc = json.load(f)
        self.assertEqual(doc["schema"], "ipclab-env/1")
        self.assertEqual(list(doc)[-1], "commands")

    def test_usage(self):
        with self.assertRaisesRegex(UsageError, "not a directory"):
            env.main([self.path("none")])


if __name__ == "__main__":
    unittest.main()
