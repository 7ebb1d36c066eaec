"""test_figures - the TSV files the figures read (one JSON -> TSV conversion), and rows."""

import unittest

import fixtures
from fixtures import TempDir
from ipclab_tools.report import figures, rows
from ipclab_tools.results import Results


class Tsv(TempDir):
    def read(self, p):
        with open(p) as f:
            return f.read()

    def test_write_tsv(self):
        p = self.path("t.tsv")
        figures.write_tsv(p, ["a", "b"], [{"a": 1, "b": None}, {"a": 0.5, "b": True}], "two\nlines")
        self.assertEqual(self.read(p), "# two\n# lines\n# a\tb\n1\tNaN\n0.5\t1\n")

    def test_bars_drop_empty_series(self):
        p = self.path("b.tsv")
        opt = figures.write_bars(p, [("x", "whisker"), ("empty", None)], [("g1", [(1.0, 2.0), (None, None)])], "c")
        text = self.read(p)
        self.assertIn('"x"\t"whisker"', text)
        self.assertNotIn("empty", text)
        self.assertEqual(opt, "")
        opt = figures.write_bars(p, [("x", None)], [("g1", [(1.0, None)])], "c")
        self.assertEqual(opt, ",nowhisker")

    def test_blocks_and_scale(self):
        p = self.path("l.tsv")
        figures.write_blocks(p, [("s1", [(1, 2)]), ("s2", [(3, 4, "t")])], "c")
        self.assertIn('\n\n"s2"\t"y"\t"tic"\n3\t4\tt\n', self.read(p))
        self.assertEqual(figures.log_or_linear([1, 2, 3]), "linear")
        self.assertEqual(figures.log_or_linear([1, 100]), "logy,ymin=0.1")

    def test_latency_rows(self):
        fixtures.latency_run(self.tmp, "lat", 10000, 1, repeats=[9900, 10000, 10100])
        r, = rows.latency_rows(Results(self.tmp))
        self.assertEqual((r["placement"], r["label"], r["migrated"], r["count"]),
                         ("same-cpu", "pipe, thread, same CPU 0", False, 2000))


if __name__ == "__main__":
    unittest.main()
