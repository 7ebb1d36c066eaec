"""test_metrics - latency summaries and throughputs found in a result, with their repeats."""

import unittest

from ipclab_tools import metrics

RESULTS = {
    "rtt": {"p50": 100, "count": 5},
    "oneway_ab": {"p50": 50},
    "points": [{"size": 64, "msgs_per_s": 2.0, "repeats": [{"msgs_per_s": 1.9}, {"msgs_per_s": 2.1}]},
               {"size": 128, "msgs_per_s": 1.0}],
    "ideal_tasks_per_s": 5.0,
    "repeats": [{"rtt_p50": 99, "oneway_p50": 49}, {"rtt_p50": 101, "oneway_p50": 51}],
}


class Walk(unittest.TestCase):
    def test_labels_and_kinds(self):
        found = [(lab, kind) for lab, _p, kind, _v in metrics.walk(RESULTS)]
        self.assertEqual(found, [("rtt", "latency"), ("oneway_ab", "latency"),
                                 ("points[size=64].msgs_per_s", "throughput"),
                                 ("points[size=128].msgs_per_s", "throughput")])

    def test_list_labels_fall_back_to_indexes(self):
        self.assertEqual(metrics.list_labels([{"a": 1}, {"a": 1}]), ["[0]", "[1]"])
        self.assertEqual(metrics.list_labels([{"name": "x"}, {"name": "y"}]), ["[name=x]", "[name=y]"])

    def test_repeat_values(self):
        by = {lab: (p, k) for lab, p, k, _v in metrics.walk(RESULTS)}
        self.assertEqual(metrics.repeat_values(RESULTS, *by["rtt"]), [99.0, 101.0])
        self.assertEqual(metrics.repeat_values(RESULTS, *by["oneway_ab"]), [49.0, 51.0])
        self.assertEqual(metrics.repeat_values(RESULTS, *by["points[size=64].msgs_per_s"]), [1.9, 2.1])
        self.assertEqual(metrics.repeat_values(RESULTS, *by["points[size=128].msgs_per_s"]), [])

    def test_value_and_path(self):
        self.assertEqual(metrics.value_of("latency", {"p50": 3}), 3)
        self.assertEqual(metrics.value_of("throughput", 7.0), 7.0)
        self.assertEqual(metrics.get_path(RESULTS, ["points", 0, "size"]), 64)
        self.assertIsNone(metrics.get_path(RESULTS, ["points", 9]))


if __name__ == "__main__":
    unittest.main()
