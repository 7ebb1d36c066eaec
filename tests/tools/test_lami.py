"""test_lami - the LAMI phases in-process: answers on stdout, errors on both streams, the
result tables (zero rows for a range without events)."""

import io
import json
import unittest

from fixtures import TempDir
from ipclab_tools import lami

EMPTY = {"time_range": None, "events": {"total": 0, "ipclab": 0}, "discarded_events": 0,
         "discarded_packets": 0, "complete": True,
         "messages": {"by_direction": [], "channels": []}, "signals": {"by_signo": []},
         "locks": {"locks": [], "threads": []}, "races": {"segments": []},
         "tasks": {k: {"count": 0} for k in ("spawn_to_start", "start_to_exit", "exit_to_reaped", "spawn_to_reaped")},
         "bus": {"states": []}}


def phase(argv):
    out, err = io.StringIO(), io.StringIO()
    rc = lami.main(argv, out, err)
    return rc, out.getvalue(), err.getvalue()


class Phases(TempDir):
    def test_version_and_metadata(self):
        self.assertEqual(phase(["--mi-version"]), (0, "1.0\n", ""))
        rc, out, err = phase(["--metadata"])
        self.assertEqual((rc, err), (0, ""))
        meta = json.loads(out)
        self.assertEqual(set(meta["table-classes"]), set(lami.TABLE_CLASSES))

    def test_compatibility(self):
        self.write("t/metadata", 'event { name = "ipclab_msg:msg_send"; };')
        self.write("f/metadata", 'event { name = "other"; };')
        self.assertEqual(phase(["--test-compatibility", self.path("t")]), (0, "", ""))
        rc, out, err = phase(["--test-compatibility", self.path("f")])
        self.assertEqual(rc, 1)
        self.assertEqual(json.loads(out)["error-code"], 1)
        self.assertEqual(err, "ipclab-lami: %s\n" % json.loads(out)["error-message"])

    def test_usage_errors_on_both_streams(self):
        for argv, want in ((["--bogus"], "unknown option"), ([], "no trace path"),
                           (["x", "--begin", "soon"], "not an integer"),
                           (["x", "--end", str(2 ** 64)], "out of range"),
                           (["x", "--begin", "5", "--end", "4"], "before --begin"),
                           (["x", "--limit", "-1"], "out of range")):
            rc, out, err = phase(argv)
            self.assertEqual(rc, 2, argv)
            self.assertIn(want, json.loads(out)["error-message"])
            self.assertEqual(err.count("\n"), 1)
            self.assertTrue(err.startswith("ipclab-lami: "))

    def test_help(self):
        rc, out, err = phase(["--help"])
        self.assertEqual((rc, err), (0, ""))
        self.assertIn("--test-compatibility", out)


class Tables(unittest.TestCase):
    def test_range_without_events_gives_every_table(self):
        t = lami.tables(EMPTY, 10, 20, None)
        self.assertEqual(sorted(x["class"] for x in t), sorted(lami.TABLE_CLASSES))
        self.assertTrue(all(x["data"] == [] for x in t if x["class"] != "summary"))
        self.assertTrue(all(x["time-range"]["begin"]["value"] == 10 for x in t))

    def test_empty_tables_left_out_when_there_are_events(self):
        d = dict(EMPTY, events={"total": 3, "ipclab": 3},
                 locks={"locks": [], "threads": [{"vtid": 7, "waits": 1, "wait_total_ns": 5, "wait_max_ns": 5,
                                                  "holds": 1, "hold_total_ns": 2, "hold_max_ns": 2}]})
        t = lami.tables(d, None, None, None)
        self.assertEqual(sorted(x["class"] for x in t), ["lock-threads", "summary"])
        self.assertEqual(t[1]["data"][0][0], {"class": "process", "tid": 7})
        self.assertEqual([x["class"] for x in lami.tables(d, None, None, 0)], ["summary"])  # --limit 0

    def test_timed_intervals(self):
        """The experiment's own view of its intervals and the tracing offset, one row per
        entry that has one (an entry without stamped intervals has none)."""
        def summ(count, p50, p99):
            return {"count": count, "min": p50 - 1, "p50": p50, "mean": p50 + 0.4, "p99": p99, "max": p99 + 1,
                    "stddev": 2.6}
        common = {"acquires": 1, "wait": {}, "hold": {}}
        lock = dict(common, lock=1, kind="mutex", experiment=summ(200, 2224, 3184), tracing_offset=summ(199, 131, 171))
        unstamped = dict(common, lock=2, kind="spin", experiment=summ(0, 1, 1), tracing_offset=summ(0, 1, 1))
        sig = {"signo": 10, "sends": 50, "receives": 50, "matched": 50, "unmatched_sends": 0, "unmatched_receives": 0,
               "latency": {}, "experiment": summ(50, 3000, 4000), "tracing_offset": {"count": 0}}
        d = dict(EMPTY, events={"total": 3, "ipclab": 3}, locks={"locks": [lock, unstamped], "threads": []},
                 signals={"by_signo": [sig]})
        rows = next(x for x in lami.tables(d, None, None, None) if x["class"] == "timed-intervals")["data"]
        self.assertEqual(len(rows[0]), len(lami.TABLE_CLASSES["timed-intervals"]["column-descriptions"]))
        self.assertEqual([[c.get("value") for c in r[:5]] + [c.get("value") for c in r[-3:]] for r in rows],
                         [["signal", "signal 10", 50, 2999, 3000, None, None, 0],
                          ["lock", "lock 1 (mutex)", 200, 2223, 2224, 131, 171, 199]])

    def test_cells(self):
        self.assertEqual(lami.dist(None), [{"class": "unknown"}] * 6)
        self.assertEqual(lami.trange(5, 3)["end"]["value"], 5)


if __name__ == "__main__":
    unittest.main()
