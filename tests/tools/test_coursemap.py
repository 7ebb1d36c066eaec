"""test_coursemap - the course map: every course row has an ipclab command, every command
names an experiment that exists and options it has, every row points to a part of the
report, and the README's table is the map's."""

import glob
import os
import re
import subprocess
import unittest

from ipclab_tools import coursemap
from ipclab_tools.paths import REPO, build_dir

# the course's APIs (issue 14 item 3): each class, with every method the course uses, is in
# the Python column of one row
APIS = (("Process", ()), ("Pool", ("apply_async", "map", "close", "join")), ("Pipe", ()),
        ("Queue", ("put", "get", "full", "empty", "qsize", "close")), ("Value", ()), ("Array", ()),
        ("os.kill", ()), ("signal", ("alarm", "pause", "signal")), ("SIGCHLD", ("SIG_IGN",)),
        ("Semaphore", ("acquire", "release", "get_value")), ("Event", ("wait", "set", "clear", "is_set")),
        ("Lock", ("with",)), ("Thread", ("daemon",)))
ITEMS = ("GIL", "driver", "Process vs thread")


def ipclab():
    b = os.environ.get("IPCLAB_BUILD") or build_dir()
    path = os.path.join(b, "bin", "ipclab")
    return path if os.access(path, os.X_OK) else None


class CourseMap(unittest.TestCase):
    def setUp(self):
        self.rows = coursemap.load()

    def test_every_course_item_has_a_row_with_a_command(self):
        text = " ".join("%s %s" % (r.item, r.api) for r in self.rows)
        for item in ITEMS:
            self.assertIn(item, text)
        for cls, methods in APIS:
            rows = [r for r in self.rows if cls in r.api]
            self.assertTrue(rows, "no row for %s" % cls)
            for m in methods:
                self.assertTrue(any(re.search(r"\b%s\b" % re.escape(m), r.api) for r in rows),
                                "%s.%s is in no row" % (cls, m))
        self.assertTrue(all(r.commands for r in self.rows))

    def test_every_command_runs(self):
        """Each command's experiment is in `ipclab list`, and `ipclab COMMAND --help` exits 0:
        every option before --help parses, values range-checked."""
        exe = ipclab()
        if exe is None:
            self.skipTest("ipclab not built (IPCLAB_BUILD or build/bin/ipclab)")
        listed = set(re.findall(r"^  (\S+ \S+) ", subprocess.run([exe, "list"], capture_output=True, text=True,
                                                                   check=True).stdout, re.M))
        for r in self.rows:
            for cmd in r.commands:
                exp = " ".join(cmd.split()[:2])
                self.assertIn(exp, listed, "%s: no experiment '%s'" % (r.item, exp))
                p = subprocess.run([exe] + cmd.split() + ["--help"], capture_output=True, text=True, check=False)
                self.assertEqual(p.returncode, 0, "%s: 'ipclab %s --help': %s" % (r.item, cmd, p.stderr.strip()))

    def test_every_anchor_is_in_the_report(self):
        src = " ".join(open(p).read() for p in glob.glob(os.path.join(REPO, "scripts", "ipclab_tools", "report",
                                                                     "*.py")))
        for r in self.rows:
            self.assertIn('"%s"' % r.anchor, src, "%s: no report part #%s" % (r.item, r.anchor))

    def test_readme_holds_the_map(self):
        with open(os.path.join(REPO, "README.md")) as f:
            self.assertEqual(coursemap.readme_section(f.read()), coursemap.markdown(self.rows),
                             "README's course map differs from bench/course.map: regenerate it with bench/course-map")


if __name__ == "__main__":
    unittest.main()
