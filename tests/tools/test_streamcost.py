"""test_streamcost - bench/stream-cost's arithmetic: medians per mode, losses summed, the
cost per message and per event against the untraced launches; free ports; run times."""

import unittest

from ipclab_tools import streamcost
from ipclab_tools.cli import UsageError


def row(mode, mean, p50, events=None, seconds=1.0, discarded=None, lost=None):
    return {"mode": mode, "rtt_mean_ns": mean, "rtt_p50_ns": p50, "round_trips": 1000, "seconds": seconds,
            "events": events, "discarded_events": discarded, "lost_packets": lost}


class StreamCost(unittest.TestCase):
    def test_summary(self):
        rows = [row("untraced", 10000, 9000), row("untraced", 12000, 9500), row("untraced", 11000, 9200),
                row("local", 12000, 10000, 4400, 2.0, 0, 0), row("local", 13000, 10400, 4400, 2.0, 0, 0),
                row("local", 14000, 10800, 4400, 1.0, 0, 0),
                row("relay", 15000, 11000, 4400, 4.0, 2, 1), row("relay", 16000, 11200, 4400, 2.0, 0, 0),
                row("relay", 17000, 11400, 4400, 2.0, 3, 0)]
        s = streamcost.summarize(rows, 100)
        self.assertEqual(s["untraced"]["rtt_mean_ns"], 11000)
        self.assertIsNone(s["untraced"]["discarded_events"])
        self.assertEqual(s["local"]["rtt_mean_ns"], 13000)
        self.assertEqual(s["local"]["delta_rtt_ns"], 2000)
        self.assertEqual(s["local"]["cost_per_message_ns"], 1000)
        self.assertEqual(s["local"]["events_per_rtt"], 4.0)  # 4400 events / (1000 + 100 warm-up) round trips
        self.assertEqual(s["local"]["cost_per_event_ns"], 500)
        self.assertEqual(s["local"]["events_per_s"], 2200)
        self.assertEqual(s["local"]["delta_rtt_p50_ns"], 10400 - 9200)
        self.assertEqual(s["relay"]["discarded_events"], 5)
        self.assertEqual(s["relay"]["lost_packets"], 1)
        self.assertEqual(s["relay"]["cost_per_message_ns"], 2500)
        self.assertAlmostEqual(s["relay"]["over_local"], 16000 / 13000)
        self.assertEqual(s["relay"]["rtt_mean_range_ns"], [15000, 17000])

    def test_missing_values(self):
        s = streamcost.summarize([row("local", None, None)], 0)
        self.assertIsNone(s["local"]["rtt_mean_ns"])
        self.assertIsNone(s["local"]["cost_per_message_ns"])
        self.assertIsNone(s["relay"]["over_local"])

    def test_ports_and_times(self):
        ports = streamcost.free_ports(3)
        self.assertEqual(len(set(ports)), 3)
        self.assertTrue(all(0 < p < 65536 for p in ports))
        self.assertEqual(streamcost.run_seconds({"start_time": "2026-01-01T00:00:00.250000Z",
                                                 "end_time": "2026-01-01T00:00:02.000000Z"}), 1.75)
        self.assertIsNone(streamcost.run_seconds({"start_time": "soon"}))

    def test_usage(self):
        with self.assertRaisesRegex(UsageError, "--launches: 0 is out of range"):
            streamcost.main(["--launches", "0"])


if __name__ == "__main__":
    unittest.main()
