"""test_speed - bench/analyze-speed's pieces: timing one child, the ratios and targets."""

import unittest

from fixtures import TempDir
from ipclab_tools import speed
from ipclab_tools.cli import Failure, UsageError

RES = {"events": {"ipclab": 10}, "messages": {"matched": 4, "in_flight_peak": 1}}


class Speed(TempDir):
    def test_timed(self):
        wall, cpu, rss = speed.timed(["true"], self.path("err"))
        self.assertTrue(wall >= 0 and cpu >= 0 and rss > 0)
        with self.assertRaisesRegex(Failure, "exit 1"):
            speed.timed(["false"], self.path("err"))

    def test_sizes(self):
        self.assertEqual(speed.sizes_type("100000,2000000"), [100000, 2000000])
        for bad in ("99999", "x", "1,2", "200000000"):
            with self.assertRaises(UsageError):
                speed.sizes_type(bad)

    def test_ratios_and_targets(self):
        runs = {name: [(1.0, cpu, 1000)] for name, cpu in (("counter", 1.0), ("plugin", 1.0), ("muxer", 2.0),
                                                            ("wrapper", 1.25), ("text", 2.0))}
        self.write("t/x", "12345")
        d = speed.size_doc(self.path("t"), "latency", False, runs, {"total": 1000, "complete": True}, RES)
        self.assertEqual(d["ratios"], {"plugin_vs_counter": 1.0, "plugin_vs_text": 2.0, "counter_vs_text": 2.0,
                                       "muxer_vs_counter": 0.5, "wrapper_vs_counter": 0.8})
        self.assertEqual(d["meets_targets"], {"plugin_vs_counter": True, "plugin_vs_text": False})
        self.assertEqual((d["trace"]["bytes"], d["trace"]["dir"], d["runs"]["plugin"]["events_per_s"]),
                         (5, None, 1000))


if __name__ == "__main__":
    unittest.main()
