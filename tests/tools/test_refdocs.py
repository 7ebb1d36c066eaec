"""test_refdocs - reference results from perf bench and rt-tests outputs."""

import unittest

from fixtures import TempDir
from ipclab_tools import refdocs
from ipclab_tools.cli import Failure

PERF_OUT = """# Running 'sched/pipe' benchmark:
# Executed 1000 pipe operations between two processes

     Total time: 0.005 [sec]

       5.123 usecs/op
      195198 ops/sec
"""

RT_JSON = """{"thread": {"0": {"receiver": {"min": 3, "avg": 4.5, "max": 30, "cpu": 0, "priority": 0},
                          "sender": {"samples": 1000, "cpu": 0}}}, "return_code": 0}"""


class Perf(unittest.TestCase):
    def test_parse_and_doc(self):
        self.assertEqual(refdocs.perf_usecs(PERF_OUT, "x"), 5.123)
        with self.assertRaises(Failure):
            refdocs.perf_usecs("nothing", "x")
        d = refdocs.perf_doc({"id": "p", "mode": "thread", "cpus": "0", "pinned": True, "command": "perf bench"},
                             [5.0, 6.0])
        self.assertEqual(d["results"]["rtt_mean_ns"], 5500.0)
        self.assertEqual(d["params"]["placement"], "same-cpu")
        self.assertAlmostEqual(d["results"]["repeat_rel_stddev_mean"], 0.7071067811865476 / 5.5)
        self.assertEqual(refdocs.perf_doc({"cpus": "0,1"}, [1.0])["params"]["placement"], "cross-cpu")


class Rt(TempDir):
    def test_repeat_and_doc(self):
        r = refdocs.rt_repeat(self.write("r.json", RT_JSON))
        self.assertEqual((r["avg_us"], r["samples"]), (4.5, 1000))
        d = refdocs.rt_doc({"id": "r", "tool": "pmqtest", "cpu": 0, "fork": False}, [r, dict(r, avg_us=5.5)])
        self.assertEqual(d["results"]["oneway_mean_ns"], 5000.0)
        self.assertEqual((d["params"]["mode"], d["params"]["placement"]), ("thread", "same-cpu"))

    def test_bad_files(self):
        for text in ("{", "[]", '{"thread": {}}', RT_JSON.replace('"return_code": 0', '"return_code": 1'),
                     RT_JSON.replace("1000", "0")):
            with self.assertRaises(Failure, msg=text):
                refdocs.rt_repeat(self.write("b.json", text))
        with self.assertRaises(Failure):
            refdocs.rt_doc({"tool": "cyclictest"}, [])


if __name__ == "__main__":
    unittest.main()
