"""test_runner - the matrix runner with a fake ipclab: one process owns the run state and
writes matrix.json once, at the end; statuses, skips, timeouts, leftovers."""

import io
import json
import os
import stat
import unittest
from contextlib import redirect_stderr, redirect_stdout

from fixtures import TempDir
from ipclab_tools import runner
from ipclab_tools.cli import NoResource, UsageError

# a stand-in for build/bin/ipclab: GROUP names the behaviour, --json=FILE is honoured
FAKE = r"""#!/bin/sh
json=
for a in "$@"; do case $a in --json=*) json=${a#--json=} ;; esac; done
out=$(dirname "$(dirname "$json")")
seen=false
[ -e "$out/matrix.json" ] && seen=true
case $1 in
argv) printf '{"schema": "ipclab-result/1", "experiment": "fake argv", "argv": "%s", "me": "%s"}' "$*" "$0" >"$json" ;;
lat) printf '{"experiment": "signal latency", "results": {"oneway": {"mean": 2000}, "repeats": [{"cpu": {"initiator": [0], "responder": [0]}}]}}' >"$json" ;;
ok) printf '{"schema": "ipclab-result/1", "experiment": "fake ok", "matrix_seen": %s}' "$seen" >"$json" ;;
skip) echo "fake: no such resource here" >&2; exit 3 ;;
fail) echo "fake: a check failed" >&2; exit 1 ;;
nojson) exit 0 ;;
hang) exec sleep 60 ;;
leak) : >"/dev/shm/ipclab-tools-test-$2"; printf '{}' >"$json" ;;
unleak) rm -f "/dev/shm/ipclab-tools-test-$2"; printf '{}' >"$json" ;;
esac
"""

MATRIX = """a\tipclab\tok run
b\tipclab:untraced\tskip run
c\tipclab:untraced\tfail run
d\tipclab:untraced\tnojson run
e\tipclab:untraced\tok run --cpu 999
f\tipclab:untraced\tleak {tag}-kept
g\tipclab:untraced\tleak {tag}-gone
h\tipclab:untraced\tunleak {tag}-gone
"""


class Runner(TempDir):
    def setUp(self):
        super().setUp()
        self.tag = "%d" % os.getpid()
        fake = self.write("build/bin/ipclab", FAKE)
        os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
        os.environ["BUILD"] = self.path("build")
        self.addCleanup(os.environ.pop, "BUILD", None)
        self.addCleanup(lambda: [os.unlink(p) for p in ("/dev/shm/ipclab-tools-test-%s-kept" % self.tag,
                                                         "/dev/shm/ipclab-tools-test-%s-gone" % self.tag)
                                 if os.path.exists(p)])

    def run_matrix(self, text, *extra):
        m = self.write("m.matrix", text)
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            rc = runner.main(["--matrix", m, "--out", self.path("out"), "--untraced"] + list(extra))
        with open(self.path("out", "matrix.json")) as f:
            return rc, json.load(f), out.getvalue(), err.getvalue()

    def test_statuses_and_one_manifest(self):
        rc, doc, out, err = self.run_matrix(MATRIX.format(tag=self.tag))
        self.assertEqual(rc, 1)  # c and d failed
        by = {r["id"]: r for r in doc["runs"]}
        self.assertEqual({k: (r["status"], r["exit_code"]) for k, r in by.items()},
                         {"a": ("ok", 0), "b": ("skipped", 3), "c": ("failed", 1), "d": ("failed", 0),
                          "e": ("skipped", 3), "f": ("ok", 0), "g": ("ok", 0), "h": ("ok", 0)})
        self.assertEqual(by["b"]["reason"], "fake: no such resource here")
        self.assertIn("no valid result JSON", by["d"]["reason"])
        self.assertEqual(by["e"]["reason"], "needs CPU 999, which is not online")
        with open(by["a"]["json"]) as f:
            self.assertIs(json.load(f)["matrix_seen"], False)  # matrix.json is written at the end only
        self.assertEqual(by["f"]["leftovers"], ["/dev/shm/ipclab-tools-test-%s-kept" % self.tag])
        self.assertEqual(by["g"]["leftovers"], [])
        self.assertEqual(by["g"]["leftovers_transient"], ["/dev/shm/ipclab-tools-test-%s-gone" % self.tag])
        self.assertEqual((doc["counts"], doc["interrupted"], doc["exit_code"], doc["runs_done"]),
                         ({"ok": 4, "skipped": 2, "failed": 2}, False, 1, 8))
        self.assertIn("[8/8] h ok", out)
        self.assertIn("still left behind at the end: f: /dev/shm/ipclab-tools-test-%s-kept" % self.tag, err)
        self.assertTrue(os.path.exists(self.path("out", "env.json")))
        with open(self.path("out", "commands.txt")) as f:
            self.assertEqual(len(f.read().splitlines()), 7)  # e never ran

    def test_timeout(self):
        os.environ["IPCLAB_RUN_TIMEOUT"] = "1"
        self.addCleanup(os.environ.pop, "IPCLAB_RUN_TIMEOUT", None)
        rc, doc, _out, _err = self.run_matrix("x\tipclab:untraced\thang run\n")
        self.assertEqual(rc, 1)
        self.assertEqual((doc["runs"][0]["status"], doc["runs"][0]["exit_code"]), ("failed", 124))
        self.assertIn("timed out after 1s", doc["runs"][0]["reason"])

    def test_refusals(self):
        m = self.write("m.matrix", "a\tipclab\tok run\n")
        os.makedirs(self.path("full"))
        self.write("full/x", "")
        with self.assertRaisesRegex(UsageError, "refusing to overwrite"):
            with redirect_stdout(io.StringIO()):
                runner.main(["--matrix", m, "--out", self.path("full")])
        os.environ["BUILD"] = self.path("nobuild")
        with self.assertRaisesRegex(NoResource, "build it first"):
            runner.main(["--matrix", m, "--out", self.path("o2")])
        with self.assertRaisesRegex(UsageError, "matrix file not found"):
            runner.main(["--matrix", self.path("none")])

    def test_ab_session(self):
        """Two builds, launches alternated A B, B A, ...; --repeat R becomes R launches of
        --repeat 1 (at least --launches); the first launch is also runs/ID.json."""
        other = self.write("other/build/bin/ipclab", FAKE)  # a checkout built with make
        os.chmod(other, os.stat(other).st_mode | stat.S_IXUSR)
        m = self.write("m.matrix", "x\tipclab\targv run --repeat 3\ny\tipclab:untraced\targv run\n"
                                   "p\tperf-pipe\t--cpus 0 --mode thread --loops 1\n")
        out = io.StringIO()
        with redirect_stdout(out), redirect_stderr(io.StringIO()):
            rc = runner.main(["--matrix", m, "--out", self.path("s"), "--ab", self.path("build"), self.path("other"),
                              "--launches", "2"])
        self.assertEqual(rc, 0)
        with open(self.path("s", "matrix.json")) as f:
            doc = json.load(f)
        order = [(r["id"], r["variant"], r["launch"]) for r in doc["runs"]]
        self.assertEqual(order, [("x", "A", 1), ("x", "B", 1), ("x", "B", 2), ("x", "A", 2), ("x", "A", 3),
                                 ("x", "B", 3), ("y", "A", 1), ("y", "B", 1), ("y", "B", 2), ("y", "A", 2)])
        with open(self.path("s", "B", "launches", "x", "3.json")) as f:
            launch = json.load(f)
        self.assertIn("--repeat 1 ", launch["argv"])
        self.assertTrue(launch["me"].startswith(self.path("other")))
        with open(self.path("s", "A", "runs", "x.json")) as f:
            self.assertTrue(json.load(f)["argv"].endswith("1.json --quiet"))
        for side in "AB":
            with open(self.path("s", side, "session.json")) as f:
                sess = json.load(f)
            self.assertEqual(sess["side"], side)
        self.assertEqual(doc["ab"]["session"], sess["session"])
        self.assertFalse(os.path.exists(self.path("s", "A", "runs", "p.json")))  # references are not run
        with self.assertRaisesRegex(UsageError, "no bin/ipclab"):
            runner.main(["--matrix", m, "--ab", self.path("build"), self.path("other", "build", "bin")])

    def test_reference_pairs(self):
        """A reference runs as pairs with the run it names; a tool whose peers were never
        seen running gives no ratio ("placement not observed") after 2 x --pairs pairs."""
        tool = self.write("path/pmqtest", "#!/bin/sh\nfor a in \"$@\"; do case $a in --json=*) "
                          "printf '{\"thread\": {\"0\": {\"receiver\": {\"min\": 1, \"avg\": 2.0, \"max\": 3}, "
                          "\"sender\": {\"samples\": 10}}}, \"return_code\": 0}' >\"${a#--json=}\" ;; esac; done\n")
        os.chmod(tool, os.stat(tool).st_mode | stat.S_IXUSR)
        os.environ["PATH"] = self.path("path") + os.pathsep + os.environ["PATH"]
        self.addCleanup(os.environ.__setitem__, "PATH", os.environ["PATH"].split(os.pathsep, 1)[1])
        rc, doc, _out, _err = self.run_matrix("l\tipclab\tlat run --repeat 3\n"
                                              "r\trt-tests\tpmqtest -a 0 -l 10 --compare l\n", "--refs-only",
                                              "--pairs", "2")
        self.assertEqual((rc, [r["id"] for r in doc["runs"]]), (0, ["r"]))
        with open(self.path("out", "runs", "r.json")) as f:
            ref = json.load(f)
        self.assertEqual([p["order"] for p in ref["pairs"]], ["ipclab first", "tool first"] * 2)
        self.assertEqual(ref["pairs"][0]["ipclab"]["l"]["ratio"], 1.0)
        self.assertEqual(ref["ratios"]["l"]["verdict"], "placement not observed")
        self.assertEqual(ref["params"]["repeat"], 4)
        with open(self.path("out", "logs", "r.pair1.l.json")) as f:
            self.assertIn("oneway", json.load(f)["results"])

    def test_dry_run(self):
        m = self.write("m.matrix", "a\tipclab\tok run\nb\tipclab:untraced\tok run\n")
        out = io.StringIO()
        with redirect_stdout(out):
            self.assertEqual(runner.main(["--matrix", m, "--dry-run"]), 0)
        self.assertIn("3 runs", out.getvalue())
        self.assertIn("[2/3] a (traced)", out.getvalue())
        self.assertFalse(os.path.exists(self.path("out")))


if __name__ == "__main__":
    unittest.main()
