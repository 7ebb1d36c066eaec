"""test_compare - verdicts per metric between two results folders, in-process."""

import io
import json
import unittest
from contextlib import redirect_stdout

import fixtures
from fixtures import TempDir
from ipclab_tools import compare, hist
from ipclab_tools.cli import UsageError

OPTS = {"alpha": 0.05, "method": "auto", "resamples": 500, "seed": 1}


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

    def test_usage(self):
        a, b = self.folders()
        for argv, want in (([a], "missing B"), ([a, b, "--alpha", "0.7"], "between 0 and 0.5"),
                           ([a, b, "--resamples", "5"], "out of range"), ([a, b, "--json", ""], "file name"),
                           ([a, self.path("none")], "no such folder"), ([a, b, "--method", "x"], "invalid choice")):
            with self.assertRaises(UsageError) as c:
                compare.main(argv)
            self.assertIn(want, c.exception.message, argv)


if __name__ == "__main__":
    unittest.main()
