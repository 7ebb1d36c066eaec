"""test_hist - the one reader of ipclab --hist files and the bucket geometry."""

import unittest

from fixtures import TempDir, hist_block, summarize
from ipclab_tools import hist


class Geometry(unittest.TestCase):
    def test_buckets(self):
        self.assertEqual([hist.lower_edge(v) for v in (0, 127, 128, 129, 255, 256, 257, 1000)],
                         [0, 127, 128, 128, 254, 256, 256, 1000])  # 2 ns wide from 128, 4 from 256
        self.assertEqual(hist.bucket_width(127), 1)
        self.assertEqual(hist.bucket_width(256), 4)
        self.assertEqual(hist.bucket_value(256, 0, 10 ** 9), 258)
        self.assertEqual(hist.bucket_value(256, 257, 257), 257)  # clamped to [min, max]

    def test_rebin_keeps_the_samples(self):
        pairs = [(100, 3), (200, 5), (204, 7), (4096, 2)]
        bins = hist.rebin(pairs)
        import math
        total = sum(d * math.log2(hi / lo) * hist.BINS_PER_OCTAVE for lo, hi, d in bins if d)
        self.assertAlmostEqual(total, 17)
        self.assertTrue(any(d == 0 for _lo, _hi, d in bins))  # the gap before 4096 is marked


class Read(TempDir):
    def test_blocks_and_headers(self):
        s, b = summarize([1000, 1100, 1200, 1300, 5000])
        p = self.write("h.tsv", hist_block("rtt", s, b) + "\n\n" + hist_block("oneway_ab", s, b[:2]))
        blocks = hist.read(p)
        self.assertEqual([x.name for x in blocks], ["rtt", "oneway_ab"])
        self.assertEqual((blocks[0].count, blocks[0].min, blocks[0].max, blocks[0].p50, blocks[0].overflow),
                         (5, 1000, 5000, s["p50"], 0))
        self.assertEqual(blocks[0].buckets, b)
        self.assertFalse(blocks[0].bad)
        self.assertEqual(hist.buckets_by_name(p)["oneway_ab"], b[:2])

    def test_bad_and_unreadable(self):
        p = self.write("bad.tsv", "# histogram: rtt\nnot\tnumbers\n5\t-1\n7\t2\n")
        (blk,) = hist.read(p)
        self.assertTrue(blk.bad)
        self.assertEqual(blk.buckets, [(7, 2)])
        self.assertIsNone(hist.read(self.path("missing.tsv")))
        self.assertEqual(hist.buckets_by_name(self.path("missing.tsv")), {})
        with open(self.path("bin.tsv"), "wb") as f:
            f.write(b"# histogram: x\n\xff\xfe\n")
        self.assertIsNone(hist.read(self.path("bin.tsv")))


if __name__ == "__main__":
    unittest.main()
