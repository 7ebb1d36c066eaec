"""test_matrix - matrix files parsed and checked before anything runs."""

import unittest

from fixtures import TempDir
from ipclab_tools import matrix
from ipclab_tools.cli import UsageError

GOOD = """# a comment

lat\tipclab\tipc latency --cpu 0 --repeat 3
lat.u\tipclab:untraced\tsignal list
perf\tperf-pipe\t--cpus 0 --mode thread --loops 100 --repeat 2 --compare lat
rt\trt-tests\tsvsematest -a 0 -f -l 50 --repeat 5 --compare lat,lat.u
"""


class Parse(TempDir):
    def parse(self, text, only=None):
        return matrix.parse(self.write("m.matrix", text), only)

    def test_good(self):
        lines, by_id = self.parse(GOOD)
        self.assertEqual([(l.id, l.kind) for l in lines], [("lat", "ipclab"), ("lat.u", "ipclab:untraced"),
                                                            ("perf", "perf-pipe"), ("rt", "rt-tests")])
        self.assertEqual(by_id["perf"].opts, {"cpus": "0", "mode": "thread", "loops": 100, "repeat": 2})
        self.assertEqual(by_id["rt"].opts["fork"], True)
        self.assertEqual(by_id["rt"].compare, ["lat", "lat.u"])
        self.assertEqual(lines[0].lineno, 3)

    def test_only(self):
        lines, _ = self.parse(GOOD, "lat*,rt")
        self.assertEqual([l.id for l in lines], ["lat", "lat.u", "rt"])
        with self.assertRaisesRegex(UsageError, "no matrix line selected"):
            self.parse(GOOD, "nothing*")

    def test_errors_name_the_line(self):
        cases = [("x ipclab signal list", ":1: expected ID<TAB>KIND<TAB>ARGS"),
                 ("b@d\tipclab\tsignal list", "bad ID"),
                 ("a\tipclab\tsignal list\na\tipclab\tsignal list", ":2: duplicate ID 'a'"),
                 ("a\tipclab\tsignal", "needs GROUP EXPERIMENT"),
                 ("a\tipclab\tsignal list --json=x", "added by the runner"),
                 ("a\tother\tx", "unknown KIND"),
                 ("a\tperf-pipe\t--cpus 0 --mode thread", "perf-pipe needs valid"),
                 ("a\tperf-pipe\t--cpus 0 --mode thread --loops 1 --bogus 1", "unknown argument '--bogus'"),
                 ("a\trt-tests\tpmqtest -f -l 5 --compare a", "has no -f"),
                 ("a\trt-tests\tpmqtest -l 5", "needs --compare"),
                 ("a\trt-tests\tpmqtest --compare a", "needs -l LOOPS"),
                 ("a\trt-tests\tcyclictest -l 5 --compare a", "needs TOOL first"),
                 ("a\trt-tests\tpmqtest -l 5 --compare zz", "names no line")]
        for text, want in cases:
            with self.assertRaises(UsageError) as c:
                self.parse(text)
            self.assertIn(want, c.exception.message, text)

    def test_missing_file(self):
        with self.assertRaisesRegex(UsageError, "matrix file not found"):
            matrix.parse(self.path("none"))


class Options(unittest.TestCase):
    def test_option_value(self):
        self.assertEqual(matrix.option_value(["a", "--cpu", "0,1"], "--cpu"), "0,1")
        self.assertEqual(matrix.option_value(["--cpus=2"], "--cpu", "--cpus"), "2")
        self.assertIsNone(matrix.option_value(["--cpu"], "--cpu"))

    def test_with_option(self):
        self.assertEqual(matrix.with_option(["x", "--repeat", "5"], "--repeat", 1), ["x", "--repeat", "1"])
        self.assertEqual(matrix.with_option(["x", "--repeat=5"], "--repeat", 1), ["x", "--repeat=1"])
        self.assertEqual(matrix.with_option(["x"], "--repeat", 1), ["x", "--repeat", "1"])


if __name__ == "__main__":
    unittest.main()
