"""test_report - the report from a small results folder: sections from the one table, in
order; the tracer's own files never called leftovers; the shared rows."""

import io
import os
import re
import unittest
from contextlib import redirect_stderr, redirect_stdout

import fixtures
from fixtures import TempDir
from ipclab_tools import report
from ipclab_tools.cli import UsageError
from ipclab_tools.report import assemble, page


class Report(TempDir):
    def folder(self, leftovers):
        fixtures.latency_run(self.tmp, "lat", 10000, 1, repeats=[9900, 10000, 10100])
        self.write_json("matrix.json", {"matrix": "m", "matrix_name": "m", "tracing": "untraced",
                                        "counts": {"ok": 1, "skipped": 0, "failed": 0},
                                        "runs": [{"index": 1, "id": "lat", "kind": "ipclab", "variant": "untraced",
                                                  "status": "ok", "exit_code": 0, "elapsed_s": 1.0,
                                                  "leftovers": leftovers}]})
        self.write_json("env.json", {"sysinfo": {"cpus": 2}, "commands": []})

    def html(self):
        out, errors = assemble.build(self.tmp, False)
        with open(out) as f:
            return f.read(), errors

    def test_sections_follow_the_table(self):
        self.folder([])
        text, errors = self.html()
        self.assertEqual(errors, [])
        anchors = re.findall(r'<h2 id="([^"]+)"', text)
        want = [s.anchor for s in assemble.SECTIONS if s.anchor not in ("speed", "compare", "effects", "aa", "expectations")]
        self.assertEqual(anchors, want)
        nav = re.findall(r'<li><a href="#([^"]+)">', text)
        self.assertEqual(nav, want)
        self.assertEqual(len({s.anchor for s in assemble.SECTIONS}), len(assemble.SECTIONS))
        self.assertTrue(os.path.exists(self.path("data", "latency.tsv")))
        self.assertIn('class="banner good"', text)

    def test_tracer_wait_files_are_not_leftovers(self):
        self.folder(["/dev/shm/lttng-ust-wait-8", "/dev/shm/lttng-ust-wait-8-0"])
        text, _ = self.html()
        self.assertIn('class="banner good"', text)
        self.assertNotIn("left behind</span>", text)
        self.folder(["/dev/shm/lttng-ust-wait-8", "/dev/shm/ipclab-shm-1-2"])
        text, _ = self.html()
        self.assertIn("some runs left IPC objects or sessions behind", text)
        self.assertIn("/dev/shm/ipclab-shm-1-2", text)
        self.assertNotIn("lttng-ust-wait-8", text.split('id="env"')[0].split('id="warnings"')[1])

    def test_optional_sections(self):
        self.folder([])
        self.write_json("compare.json", {"a": "x/A", "b": "x/B", "rows": []})
        text, _ = self.html()
        self.assertIn('<h2 id="compare">', text)

    def test_bench_sections(self):
        self.folder([])
        self.write_json("aa.json", {"schema": "ipclab-compare/1", "rows": [
            {"id": "lat", "metric": "rtt", "ci_pct": [-2.0, 3.0], "change_pct": 1.0, "verdict": "no change"},
            {"id": "lat", "metric": "oneway", "ci_pct": [1.0, 4.0], "verdict": "slower", "change_pct": 2.0}],
            "aa": {"rows": 2, "judged": 2, "false_alarms": 1, "rate": 0.5, "goal": 0.05, "met": False,
                   "alarms": [{"id": "lat", "metric": "oneway", "verdict": "slower", "change_pct": 2.0,
                               "ci_pct": [1.0, 4.0], "p": 0.01}]}})
        self.write_json("effect-rates.json", {"runs_per_demo": 100, "rules": {"race": "lost updates"}, "rows": [
            {"demo": "race", "mode": "thread", "command": "ipclab sync race", "effect": "lost updates", "runs": 100,
             "counts": {"shown": 100, "not shown": 0, "inconclusive": 0, "failed": 0}, "rate": 1.0, "goal": 0.99,
             "met": True, "reasons": []},
            {"demo": "shm", "mode": "process", "command": "ipclab ipc shm", "effect": "torn", "runs": 100,
             "counts": {"shown": 90, "not shown": 0, "inconclusive": 10, "failed": 0}, "rate": 0.9, "goal": 0.99,
             "met": False, "reasons": [{"reason": "one CPU", "runs": 10}]}]})
        text, _ = self.html()
        self.assertIn('<h2 id="aa">', text)
        self.assertIn('<h2 id="effects">', text)
        warnings = text.split('id="warnings"')[1].split("<h2")[0]
        self.assertIn("A/A check", warnings)
        self.assertIn("shm (process) showed its effect in 90.0 % of 100 runs", warnings)
        self.assertNotIn("race (thread)", warnings)
        self.assertIn("90th percentile 1.0 % over 2 rows", text)

    def test_expectations(self):
        self.folder([])
        pt = lambda mb, fork, pth: {"touch_mb": mb, "variants": [{"method": "fork", "to_reaped": {"p50": fork}},
                                                                   {"method": "pthread", "to_reaped": {"p50": pth}}]}
        self.write_json("runs/sweep.json", fixtures.envelope("task spawn", {"sweep": True}, {
            "points": [pt(1, 100, 50), pt(16, 200, 50), pt(256, 300, 50)]}))
        self.write_json("runs/ev.json", fixtures.envelope("sync event", {"mode": "thread"},
                                                          {"immediate_wait_ns": 300, "impl": {"name": "futex"}}))
        text, _ = self.html()
        sec = text.split('<h2 id="expectations">')[1].split("<h2")[0]
        self.assertIn("fork creation to reaped, p50 at 256 MiB / at 1 MiB", sec)
        self.assertIn("3.00\u00d7", sec)
        self.assertIn('<span class="flag">not met</span>', sec)  # 3x is not > 4x
        self.assertIn("wait on an event already set (futex, thread)", sec)
        self.assertIn("expectations: sweep: fork creation", text.split('id="warnings"')[1].split("<h2")[0])

    def test_lifecycle_steps(self):
        self.folder([])
        self.write_json("runs/life.json", fixtures.envelope("task lifecycle", {}, {
            "passed": 1, "failed": 1, "objects": {"process": {"name": "p", "pid": 5}, "thread": {"name": "t", "tid": 6}},
            "steps": [{"n": 1, "kind": "process", "op": "start()", "expected": "a pid", "actual": "pid 5", "pass": True},
                      {"n": 2, "kind": "thread", "op": "join(0.05)", "expected": "timeout", "actual": "returned",
                       "pass": False}]}))
        text, _ = self.html()
        part = text.split('id="task-lifecycle"')[1].split("<h3")[0]
        self.assertIn("join(0.05)", part)
        self.assertIn('<span class="flag">FAIL</span>', part)
        self.assertIn("1 passed, 1 failed", part)

    def test_queue_and_shm(self):
        self.folder([])
        self.write_json("runs/ipc.queue.json", fixtures.envelope("ipc queue", {"capacity": 4, "size": 64}, {
            "passed": 1, "failed": 0, "kinds": {"posix": {"passed": 1, "steps": 1}},
            "steps": [{"n": 1, "kind": "posix", "op": "put on full, O_NONBLOCK", "expected": "EAGAIN",
                       "actual": "EAGAIN", "pass": True}]}))
        shm = {"checks": {"value_read_back": True, "array_read_back": True, "counter_never_back": True},
               "reads": 1000, "writes_during_reads": 900, "overlap_fraction": 0.5, "memory": {"kind": "anonymous"}}
        self.write_json("runs/shm.mutex.json", fixtures.envelope("ipc shm", {"lock": "mutex", "mode": "process"},
                                                                 dict(shm, torn_reads=3, torn_fraction=0.003)))
        self.write_json("runs/shm.none.json", fixtures.envelope("ipc shm", {"lock": "none", "mode": "thread"}, dict(
            shm, torn_reads=0, torn_fraction=0.0, inconclusive="the writer never overlapped",
            effect={"shown": False, "why": "the writer never overlapped"})))
        text, _ = self.html()
        part = text.split('id="ipc-queue"')[1].split("<h3")[0]
        self.assertIn("put on full, O_NONBLOCK", part)
        self.assertIn("posix 1 of 1 steps passed", part)
        part = text.split('id="ipc-shm"')[1].split("<h3")[0]
        self.assertLess(part.index("shm.none"), part.index("shm.mutex"))  # unprotected first
        self.assertIn("inconclusive: the writer never overlapped", part)
        self.assertIn('<span class="flag">FAIL</span>', part)  # torn reads under a mutex
        with open(self.path("data", "ipc_shm.tsv")) as f:
            self.assertEqual(len([l for l in f if l.startswith("shm.")]), 2)

    def test_traced_fork_note(self):
        self.folder([])
        for rid, who, u, t in (("fork", "proxy", 100000, 140000), ("fork.self", "self", 100000, 10000000)):
            for v, val in (("", u), (".traced", t)):
                self.write_json("runs/%s%s.json" % (rid, v), fixtures.envelope(
                    "task spawn", {"method": "fork", "child_trace": who}, {"to_start": {"p50": val}}))
            self.write_json("traces/%s/ipclab-trace.json" % rid, {"traced": True, "events": {"total": 8}})
        with redirect_stderr(io.StringIO()):  # "analysing traces/fork" (no CTF there: not the point)
            text, _ = self.html()
        self.assertIn("run <code>fork</code>: 100 µs untraced, 140 µs traced, <b>1.4×</b>", text)
        self.assertIn("run <code>fork.self</code>: 100 µs untraced, 10000 µs traced, <b>100×</b>", text)

    def test_stream_cost(self):
        self.folder([])
        text, _ = self.html()
        self.assertIn("Not measured in this run", text.split('id="tracing-stream"')[1].split("<h3")[0])
        summ = {"untraced": {"launches": 5, "rtt_mean_ns": 10000},
                "local": {"launches": 5, "rtt_mean_ns": 12000, "events": 4400, "discarded_events": 0,
                          "lost_packets": 0, "cost_per_message_ns": 1000},
                "relay": {"launches": 5, "rtt_mean_ns": 15000, "events": 4400, "discarded_events": 3,
                          "lost_packets": 0, "cost_per_message_ns": 2500, "over_local": 1.25}}
        self.write_json("stream-cost.json", {"experiment": "ipclab ipc latency", "launches": 5, "summary": summ})
        text, _ = self.html()
        part = text.split('id="tracing-stream"')[1].split("<h3")[0]
        self.assertIn("<b>2500</b>", part)
        self.assertIn("Streamed / local round-trip mean: <b>1.25\u00d7</b>", part)
        self.assertEqual(part.count('<tr class="warn">'), 1)  # the relay's discarded events

    def test_cli(self):
        with self.assertRaisesRegex(UsageError, "no such results directory"):
            report.main([self.path("none")])
        os.makedirs(self.path("runs"))
        with self.assertRaisesRegex(UsageError, "no run results"):
            report.main([self.tmp])
        self.folder([])
        out = io.StringIO()
        with redirect_stdout(out):
            self.assertEqual(report.main([self.tmp, "--no-figures"]), 0)
        self.assertEqual(out.getvalue().strip(), self.path("report.html"))

    def test_page_cells(self):
        self.assertEqual(page.rsd_cell(0.2), ("20.0 %", "n flag"))
        self.assertEqual(page.check_cell(False)[0], '<span class="flag">FAIL</span>')
        self.assertEqual(page.esc("<a>"), "&lt;a&gt;")


if __name__ == "__main__":
    unittest.main()
