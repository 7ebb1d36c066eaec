"""test_refpairs - ipclab vs a reference tool, pair by pair: the metric of each side, which
pairs ran alike, the median ratio and its verdict."""

import io
import unittest

from fixtures import TempDir
from ipclab_tools import refpairs

SAME0 = ("same-cpu", [[0], [0]])


def ipc_doc(mean_ab, mean_ba, cpus=(0, 0)):
    return {"experiment": "ipc latency", "params": {"placement": "same-cpu", "cpu": list(cpus)},
            "results": {"oneway_ab": {"mean": mean_ab, "count": 100}, "oneway_ba": {"mean": mean_ba, "count": 300},
                        "rtt": {"mean": 2 * mean_ab},
                        "repeats": [{"cpu": {"initiator": [cpus[0]], "responder": [cpus[1]]}}]}}


class Pairs(unittest.TestCase):
    def test_means(self):
        d = ipc_doc(1000, 2000)
        self.assertEqual(refpairs.ipclab_mean(d, "rt-tests"), 1750)  # both directions, by count
        self.assertEqual(refpairs.ipclab_mean(d, "perf-pipe"), 2000)
        self.assertEqual(refpairs.ipclab_mean({"experiment": "signal latency", "results": {"oneway": {"mean": 9}}},
                                              "rt-tests"), 9)
        # the tool's loop: only the direction the tool times
        self.assertEqual(refpairs.ipclab_mean(dict(d, params={"loop": "rt-tests"}), "rt-tests"), 1000)

    def test_pair_and_summary(self):
        pairs = [refpairs.pair(k, "ipclab first", 1000.0, SAME0, {"x": (ipc_doc(1000 + 10 * k, 1000 + 10 * k),
                                                                       "rt-tests")}) for k in range(1, 6)]
        self.assertTrue(all(p["ipclab"]["x"]["same_placement"] for p in pairs))
        s = refpairs.summary(pairs, "x", "rt-tests")
        self.assertEqual((s["matched"], s["verdict"]), (5, "within"))
        self.assertAlmostEqual(s["median"], 1.03)
        far = [refpairs.pair(k, "tool first", 500.0, SAME0, {"x": (ipc_doc(1000, 1000), "perf-pipe")})
               for k in range(1, 6)]
        self.assertEqual(refpairs.summary(far, "x", "perf-pipe")["verdict"], "outside")  # 4.0 vs [0.95, 1.05]

    def test_placement_decides(self):
        other = [refpairs.pair(k, "o", 1000.0, ("same-cpu", [[1], [1]]), {"x": (ipc_doc(1000, 1000), "rt-tests")})
                 for k in range(1, 6)]
        s = refpairs.summary(other, "x", "rt-tests")
        self.assertEqual((s["verdict"], s["median"], s["median_all"]), ("different placement", None, 1.0))
        unseen = [refpairs.pair(1, "o", 1000.0, (None, []), {"x": (ipc_doc(1000, 1000), "rt-tests")})]
        self.assertEqual(refpairs.summary(unseen, "x", "rt-tests")["verdict"], "placement not observed")
        few = [refpairs.pair(1, "o", 1000.0, SAME0, {"x": (ipc_doc(1000, 1000), "rt-tests")})]
        self.assertEqual(refpairs.summary(few, "x", "rt-tests")["verdict"], "too few pairs")
        failed = [refpairs.pair(1, "o", 1000.0, SAME0, {"x": (None, "rt-tests")})]
        self.assertEqual(refpairs.summary(failed, "x", "rt-tests")["verdict"], "no pairs")


class Print(TempDir):
    def test_table(self):
        pairs = [refpairs.pair(k, "o", 1000.0, SAME0, {"x": (ipc_doc(1000, 1000), "rt-tests")}) for k in range(1, 6)]
        self.write_json("runs/ref.json", {"pairs": pairs, "ratios": {"x": refpairs.summary(pairs, "x", "rt-tests")}})
        self.write_json("runs/x.json", {"results": {}})
        out = io.StringIO()
        refpairs.print_ratios(self.tmp, out)
        lines = out.getvalue().splitlines()
        self.assertTrue(lines[0].startswith("reference"))
        self.assertRegex(lines[1], r"^ref +x +same-cpu +same-cpu +5/5 +1\.000 +\[0\.90, 1\.10\] +within$")


if __name__ == "__main__":
    unittest.main()
