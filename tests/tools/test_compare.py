"""test_compare - verdicts per metric between two results folders, in-process."""

import io
import json
import os
import unittest
from contextlib import redirect_stdout

import fixtures
from fixtures import TempDir
from ipclab_tools import compare, hist
from ipclab_tools.cli import UsageError

OPTS = {"alpha": 0.05, "method": "auto", "resamples": 500, "seed": 1, "noise": None}


class Compare(TempDir):
    def folders(self):
        a, b = self.path("A"), self.path("B")
        fixtures.latency_run(a, "slow", 10000, 1)
        fixtures.latency_run(b, "slow", 15000, 2)
        fixtures.latency_run(a, "same", 20000, 3)
        fixtures.latency_run(b, "same", 20000, 3)
        fixtures.latency_run(a, "reps", 10000, 4, repeats=[10000, 10100, 9900, 10050, 9950])
        fixtures.latency_run(b, "reps", 10000, 5, repeats=[15000, 15200, 14900, 15100, 15050])
        # the histograms say 5 % slower, the repeats overlap: not claimed
        fixtures.latency_run(a, "overlap", 10000, 6, repeats=[9000, 10000, 11000])
        fixtures.latency_run(b, "overlap", 10500, 7, repeats=[9100, 10100, 11100])
        return a, b

    def row(self, rep, rid):
        return next(r for r in rep["rows"] if r["id"] == rid and r["metric"] == "rtt")

    def test_verdicts(self):
        a, b = self.folders()
        rep = compare.compare(a, b, OPTS)
        self.assertEqual(self.row(rep, "slow")["verdict"], "slower")
        self.assertEqual(self.row(rep, "slow")["method"], "bootstrap")
        self.assertTrue(40 < self.row(rep, "slow")["ci_pct"][0] < 60)
        self.assertEqual(self.row(rep, "same")["verdict"], "no change")
        self.assertEqual(self.row(rep, "same")["change_pct"], 0)
        self.assertIn("repeat p50s overlap", self.row(rep, "overlap")["note"])
        self.assertEqual(self.row(rep, "overlap")["verdict"], "no change")

    def test_methods(self):
        a, b = self.folders()
        rep = compare.compare(a, b, dict(OPTS, method="mann-whitney"))
        self.assertEqual(self.row(rep, "reps")["verdict"], "slower")
        self.assertEqual(self.row(rep, "reps")["method"], "mann-whitney")
        self.assertEqual(self.row(rep, "slow")["verdict"], "insufficient data")

    def test_histogram_must_fit_the_summary(self):
        s, b = fixtures.summarize(fixtures.samples(1, 5000, 100))
        other, ob = fixtures.summarize(fixtures.samples(2, 5000, 90))
        p = self.write("h.tsv", fixtures.hist_block("rtt", other, ob) + "\n" + fixtures.hist_block("rtt", s, b))
        h, why = compare.hist_for_summary(hist.read(p), s, ["rtt"])
        self.assertIsNone(why)
        self.assertEqual(h.n, 100)
        h, why = compare.hist_for_summary(hist.read(p), dict(s, count=5), ["rtt"])
        self.assertIsNone(h)
        self.assertIn("agrees", why)
        few, fb = fixtures.summarize([100, 200, 300])
        h, why = compare.hist_for_summary(hist.read(self.write("f.tsv", fixtures.hist_block("rtt", few, fb))),
                                          few, ["rtt"])
        self.assertIn("only 3 samples", why)

    def test_table_and_json(self):
        a, b = self.folders()
        out = io.StringIO()
        with redirect_stdout(out):
            self.assertEqual(compare.main([a, b, "--resamples", "200"]), 0)
        self.assertRegex(out.getvalue(), r"\nID +metric +method +A p50 +B p50 +change +95% CI +verdict")
        out = io.StringIO()
        with redirect_stdout(out):
            compare.main([a, b, "--json", "-", "--alpha", "0.1"])
        self.assertEqual(json.loads(out.getvalue())["confidence"], 0.9)

    def launches(self, folder, rid, p50s, session=None, side=None):
        """runs/RID.json and launches/RID/K.json with these rtt p50s (one per launch)."""
        for k, v in enumerate(p50s, 1):
            doc = fixtures.envelope("ipc latency", {}, {"rtt": {"p50": v, "count": 100, "min": v, "max": v}})
            self.write_json(os.path.join(folder, "launches", rid, "%d.json" % k), doc)
            if k == 1:
                self.write_json(os.path.join(folder, "runs", rid + ".json"), doc)
        if session:
            self.write_json(os.path.join(folder, "session.json"), {"session": session, "side": side})

    def test_launches_interleaved(self):
        a, b = self.path("s", "A"), self.path("s", "B")
        self.launches(a, "x", [100, 101, 99, 100, 102], "s1", "A")
        self.launches(b, "x", [150, 149, 151, 150, 152], "s1", "B")
        self.launches(a, "y", [100, 101, 99, 100, 102], "s1", "A")
        self.launches(b, "y", [100, 102, 98, 101, 99], "s1", "B")
        rep = compare.compare(a, b, OPTS)
        x, y = self.row(rep, "x"), self.row(rep, "y")
        self.assertTrue(rep["interleaved"])
        self.assertEqual((x["method"], x["verdict"], x["n_a"], x["a"], x["b"]), ("launches", "slower", 5, 100, 150))
        self.assertEqual((y["method"], y["verdict"]), ("launches", "no change"))
        self.assertFalse(x["confounded"])
        self.assertNotIn("confounded", x["note"])
        fa = compare.false_alarms(rep)
        self.assertEqual((fa["judged"], fa["false_alarms"], fa["met"]), (2, 1, False))

    def test_drift_and_noise(self):
        a, b = self.path("s", "A"), self.path("t", "B")
        self.launches(a, "x", [100, 101, 99, 100, 102], "s1", "A")
        self.launches(b, "x", [104, 105, 104, 106, 105], "s2", "B")  # another session: confounded
        rep = compare.compare(a, b, OPTS)
        x = self.row(rep, "x")
        self.assertFalse(rep["interleaved"])
        self.assertIn("different times", rep["drift"])
        self.assertEqual(x["verdict"], "slower")
        self.assertTrue(x["confounded"])
        self.assertIn("confounded by drift", x["note"])
        # the same build moved by up to 6 % in an A/A session: a 4 % change is no change
        self.write_json("aa.json", {"schema": "ipclab-compare/1", "rows": [{"id": "x", "metric": "rtt",
                                                                             "estimate_pct": -6.0, "change_pct": 2.0}]})
        rep = compare.compare(a, b, dict(OPTS, noise=self.path("aa.json")))
        x = self.row(rep, "x")
        self.assertEqual((x["verdict"], x["noise_pct"]), ("no change", 6.0))
        self.assertIn("within A/A noise", x["note"])
        self.write_json(os.path.join("t", "B", "aa.json"), {"schema": "ipclab-compare/1",
                                                            "rows": [{"id": "x", "metric": "rtt", "change_pct": 1.0}]})
        rep = compare.compare(a, b, OPTS)  # found in B: 1 % noise, the 4 % change stands
        self.assertEqual((self.row(rep, "x")["verdict"], rep["noise_rows"]), ("slower", 1))
        self.assertEqual(self.row(compare.compare(a, b, dict(OPTS, noise="none")), "x")["noise_pct"], None)
        with self.assertRaisesRegex(UsageError, "not an A/A comparison"):
            compare.compare(a, b, dict(OPTS, noise=self.path("s", "A", "session.json")))

    def test_run_needs_builds(self):
        with self.assertRaisesRegex(UsageError, "--run needs BUILD_A BUILD_B"):
            compare.main(["--run", "x"])

    def test_usage(self):
        a, b = self.folders()
        for argv, want in (([a], "need two results folders"), ([a, b, "--alpha", "0.7"], "between 0 and 0.5"),
                           ([a, b, "--resamples", "5"], "out of range"), ([a, b, "--json", ""], "file name"),
                           ([a, self.path("none")], "no such folder"), ([a, b, "--method", "x"], "invalid choice")):
            with self.assertRaises(UsageError) as c:
                compare.main(argv)
            self.assertIn(want, c.exception.message, argv)


if __name__ == "__main__":
    unittest.main()
