"""test_report - the report from a small results folder: sections from the one table, in
order; the tracer's own files never called leftovers; the shared rows."""

import io
import os
import re
import unittest
from contextlib import redirect_stdout

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
        want = [s.anchor for s in assemble.SECTIONS if s.anchor not in ("speed", "compare")]
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
