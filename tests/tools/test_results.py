"""test_results - result JSON read and written once: atomic writes, runs/ folders, variants."""

import json
import os
import unittest

from fixtures import TempDir, envelope
from ipclab_tools import cli, results


class Atomic(TempDir):
    def test_write_replaces_whole_file(self):
        p = self.path("x.json")
        results.write_json_atomic(p, {"a": 1})
        results.write_json_atomic(p, {"b": 2})
        self.assertEqual(results.load_json(p), {"b": 2})
        self.assertEqual(os.listdir(self.tmp), ["x.json"])  # no temporary left

    def test_failed_write_leaves_nothing(self):
        with self.assertRaises(OSError):
            results.write_text_atomic(self.path("no-such-dir", "x.json"), "{}")
        self.assertEqual(os.listdir(self.tmp), [])

    def test_try_json(self):
        self.assertEqual(results.try_json(self.write("ok.json", "[1]")), ([1], None))
        doc, err = results.try_json(self.write("bad.json", "{"))
        self.assertIsNone(doc)
        self.assertTrue(err)


class Folder(TempDir):
    def make(self):
        self.write_json("runs/lat.json", envelope("ipc latency", {"mode": "thread"}, {"rtt": {"p50": 1}}))
        self.write_json("runs/lat.traced.json", envelope("ipc latency", {"mode": "thread"}, {}))
        self.write_json("runs/ref.json", {"schema": "ipclab-rt-ref/1", "experiment": "rt-tests pmqtest"})
        self.write_json("runs/proc.json", envelope("ipc latency", {"mode": "process"}, {}))
        self.write("runs/broken.json", "{")
        self.write_json("matrix.json", {"runs": [{"id": "proc", "variant": "untraced", "status": "ok"},
                                                 {"id": "lat", "variant": "untraced", "status": "skipped"}]})

    def test_variants_order_and_find(self):
        self.make()
        r = results.Results(self.tmp)
        self.assertEqual(sorted(r.runs), [("lat", "traced"), ("lat", "untraced"), ("proc", "untraced"),
                                          ("ref", "reference")])
        self.assertEqual(r.order(), ["proc", "lat", "ref"])
        self.assertEqual([i for i, _d in r.find("ipc latency")], ["proc", "lat"])
        self.assertEqual([i for i, _d in r.find("ipc latency", mode="thread")], ["lat"])
        self.assertEqual([i for i, _d in r.find("ipc latency", mode=lambda m: m != "thread")], ["proc"])
        self.assertEqual(r.manifest("lat")["status"], "skipped")
        self.assertEqual([i for i, _d in r.references("ipclab-rt-ref/")], ["ref"])
        self.assertTrue(any("broken.json" in w for w in r.warnings))
        self.assertTrue(any("env.json" in w for w in r.warnings))

    def test_bad_folders(self):
        with self.assertRaises(cli.UsageError):
            results.read_runs_dir(self.path("nope"))
        with self.assertRaises(cli.UsageError):
            results.read_runs_dir(self.write("file", "x"))
        with self.assertRaises(cli.UsageError):
            results.read_runs_dir(self.tmp)  # no runs/
        os.makedirs(self.path("runs"))
        with self.assertRaises(cli.UsageError):
            results.Results(self.tmp)  # no run in runs/

    def test_launches(self):
        for i in (1, 2, 10):
            self.write_json("launches/x/%d.json" % i, {"n": i})
        self.assertEqual([d["n"] for d in results.read_launches(self.tmp, "x")], [1, 2, 10])
        self.assertEqual(results.read_launches(self.tmp, "y"), [])
        json.dumps(results.read_launches(self.tmp, "x"))


if __name__ == "__main__":
    unittest.main()
