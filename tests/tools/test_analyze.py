"""test_analyze - ipclab-analyze's checks before babeltrace2 runs: times, ranges, the graph,
the error-chain reader."""

import io
import os
import unittest
from contextlib import redirect_stdout

from fixtures import TempDir
from ipclab_tools import analyze
from ipclab_tools.cli import UsageError

CHAIN = """ERROR:    [Babeltrace CLI] (babeltrace2.c:2546)
  Cannot create the processing graph.
CAUSED BY [libbabeltrace2] (graph.c:1)
  Component initialization method failed: comp-name="src"
CAUSED BY [src: 'source.ctf.fs'] (fs.c:2)
  Cannot decode packet header: file "/x/stream" is truncated
"""


class Times(unittest.TestCase):
    def test_nanoseconds(self):
        self.assertEqual(analyze.parse_time("1700000000000300000", "--begin"),
                         ("1700000000.000300000", 1700000000000300000))
        self.assertEqual(analyze.parse_time("-1500", "--begin"), ("-0.000001500", -1500))
        self.assertEqual(analyze.parse_time(str(2 ** 63 - 1), "--end")[1], 2 ** 63 - 1)

    def test_other_formats(self):
        self.assertEqual(analyze.parse_time("12.5", "--begin"), ("12.5", 12500000000))
        self.assertEqual(analyze.parse_time("2026-01-02 10:11:12.5", "--begin"), ("2026-01-02 10:11:12.5", None))
        self.assertEqual(analyze.parse_time("10:11", "--begin"), ("10:11", None))

    def test_usage_errors(self):
        for bad in ("yesterday", "", "1e9", str(2 ** 63), "-" + str(2 ** 63 + 1), "99999999999999999999.5",
                    "0x10", "12:"):
            with self.assertRaises(UsageError, msg=bad):
                analyze.parse_time(bad, "--begin")

    def test_range_order(self):
        self.assertEqual(analyze.check_range("5", None), ("0.000000005", None))
        with self.assertRaisesRegex(UsageError, "before --begin"):
            analyze.check_range("10", "9")
        self.assertEqual(analyze.check_range("10:00", "09:00")[1], "09:00")  # dates are babeltrace2's business


class Graph(TempDir):
    def test_whole_trace_graph(self):
        for d in ("t/a", "t/b"):
            self.write(d + "/metadata", "x")
        args = analyze.graph([self.path("t")], "/plugins", "/out.json", None, None, None)
        self.assertEqual(args[:2], ["--plugin-path=/plugins", "run"])
        self.assertEqual(args.count("-x"), 2)
        self.assertEqual(args[-4:], ["-c", "sink:sink.ipclab.analyze", "-p", 'output="/out.json"'])

    def test_range_graph(self):
        args = analyze.graph(["t"], "/p", None, 'a"b', "1.0", None)
        self.assertIn("--begin=1.0", args)
        self.assertEqual(args[-2:], ["-p", 'tsv-dir="a\\"b"'])

    def test_first_cause(self):
        self.assertEqual(analyze.first_cause(CHAIN), 'Cannot decode packet header: file "/x/stream" is truncated')
        self.assertEqual(analyze.first_cause("nothing"), "no reason given")

    def test_print_command_and_usage(self):
        self.write("t/metadata", "/* CTF 1.8 */")
        plugins = self.path("plugins")
        self.write("plugins/babeltrace-plugin-ipclab.so", "")
        out = io.StringIO()
        with redirect_stdout(out):
            self.assertEqual(analyze.main(["--plugin-path", plugins, "--print-command", self.path("t")]), 0)
        self.assertIn(" run -c src0:source.ctf.fs -p ", out.getvalue())
        with self.assertRaisesRegex(UsageError, "not a time"):
            analyze.main(["--begin", "soon", self.path("t")])
        with self.assertRaisesRegex(UsageError, "missing TRACE"):
            analyze.main([])
        with self.assertRaisesRegex(UsageError, "no such directory"):
            analyze.main(["--plugin-path", plugins, os.path.join(self.tmp, "none")])


class Live(TempDir):
    URL = "net://127.0.0.1:5344/host/vm/ipclab-relay-x-1-ab"

    def test_live_url(self):
        self.assertEqual(analyze.parse_live_url(self.URL), ("net://127.0.0.1:5344", "vm", "ipclab-relay-x-1-ab"))
        self.assertEqual(analyze.parse_live_url("net4://h/host/a/b"), ("net4://h", "a", "b"))
        for bad in ("http://h/host/a/b", "net://h/host/a", "net://h/host/a/b/c", "net:///host/a/b", "x"):
            with self.assertRaisesRegex(UsageError, "not a live session URL"):
                analyze.parse_live_url(bad)

    def test_live_graph(self):
        args = analyze.live_graph(self.URL, "/p", "/r.json", None, "/dev/stdout")
        self.assertEqual(args[:4], ["--plugin-path=/p", "run", "-c", "src:source.ctf.lttng-live"])
        self.assertEqual(args[4:6], ["-p", 'inputs=["%s"],session-not-found-action="end"' % self.URL])
        self.assertEqual(args[6:], ["-c", "sink:sink.ipclab.analyze", "-p", 'summary="/dev/stdout",output="/r.json"',
                                    "-x", "src:sink"])

    def test_live_usage(self):
        plugins = self.path("plugins")
        self.write("plugins/babeltrace-plugin-ipclab.so", "")
        with self.assertRaisesRegex(UsageError, "not TRACE"):
            analyze.main(["--live", self.URL, "t"])
        with self.assertRaisesRegex(UsageError, "do not apply to --live"):
            analyze.main(["--live", self.URL, "--begin", "1"])
        with self.assertRaisesRegex(UsageError, "not a live session URL"):
            analyze.main(["--live", "net://h/x", "--plugin-path", plugins])
        out = io.StringIO()
        with redirect_stdout(out):
            self.assertEqual(analyze.main(["--plugin-path", plugins, "--print-command", "--live", self.URL]), 0)
        self.assertIn(" run -c src:source.ctf.lttng-live -p ", out.getvalue())


if __name__ == "__main__":
    unittest.main()
