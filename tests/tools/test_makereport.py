"""test_makereport - the pipeline's choices: the previous results folder, its options."""

import os
import unittest

from fixtures import TempDir
from ipclab_tools import makereport
from ipclab_tools.cli import UsageError


class MakeReport(TempDir):
    def test_previous_results(self):
        for name in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z", "notes"):
            os.makedirs(self.path(name, "runs"))
        os.makedirs(self.path("20260104T000000Z"))  # no runs/: not a results folder
        now = self.path("20260103T000000Z")
        self.assertEqual(makereport.previous_results(now, self.tmp), self.path("20260102T000000Z"))
        self.assertIsNone(makereport.previous_results(now, self.path("none")))

    def test_clean_when_the_build_has_it(self):
        import io
        import stat
        from contextlib import redirect_stdout
        fake = self.write("build/bin/ipclab", "#!/bin/sh\n[ \"$1\" = clean ] || exit 2\n"
                          "[ \"$2\" = --help ] && exit 0\necho cleaned >%s\n" % self.path("log"))
        os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
        os.environ["BUILD"] = self.path("build")
        self.addCleanup(os.environ.pop, "BUILD", None)
        out = io.StringIO()
        with redirect_stdout(out):
            makereport.clean_leftovers()
        with open(self.path("log")) as f:
            self.assertEqual(f.read(), "cleaned\n")
        self.write("build/bin/ipclab", "#!/bin/sh\nexit 2\n")  # a build without the command
        with redirect_stdout(out):
            makereport.clean_leftovers()
        self.assertIn("ipclab clean: not in this build; skipped", out.getvalue())

    def test_options(self):
        a = makereport.parser().parse_args(["--full", "--untraced", "--speed"])
        self.assertEqual((a.matrix, a.tracing, a.speed), ("--full", "--untraced", True))
        a = makereport.parser().parse_args([])
        self.assertEqual((a.matrix, a.tracing, a.speed), ("--quick", "--traced", False))
        with self.assertRaises(UsageError):
            makereport.parser().parse_args(["--bogus"])


if __name__ == "__main__":
    unittest.main()
