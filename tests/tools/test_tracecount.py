"""test_tracecount - counting a trace in a child that may abort; the human summary."""

import importlib.util
import os
import shutil
import subprocess
import unittest

from fixtures import TempDir
from ipclab_tools import tracecount
from ipclab_tools.cli import Failure, UsageError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
RESULT = {"total": 3, "by_name": {"a:x": 2, "b:y": 1}, "by_vpid": {"7": 3}, "by_name_vpid": {},
          "discarded_events": 0, "discarded_packets": 1, "complete": False}


class Count(TempDir):
    def test_render(self):
        text = tracecount.render_human("/t", RESULT)
        self.assertIn("total: 3 events\n", text)
        self.assertIn("  a:x 2\n", text)
        self.assertIn("discarded: 0 events, 1 packets\n", text)
        self.assertIn("complete: NO", text)

    def test_usage(self):
        with self.assertRaisesRegex(UsageError, "missing TRACE_DIR"):
            tracecount.main([])
        with self.assertRaisesRegex(UsageError, "no such directory"):
            tracecount.main([self.path("none")])
        with self.assertRaisesRegex(UsageError, "not a CTF trace"):
            tracecount.main([self.tmp])

    def test_corrupt_trace_is_a_failure_not_a_crash(self):
        if importlib.util.find_spec("bt2") is None:
            self.skipTest("python3-bt2 not installed")
        self.write("t/metadata", "/* CTF 1.8 */\nthis is not TSDL {")
        with self.assertRaises(Failure) as c:
            tracecount.count_in_child(self.path("t"))
        self.assertIn(c.exception.code, (1, 2))

    def test_synthetic_trace(self):
        if not shutil.which("babeltrace2"):
            self.skipTest("babeltrace2 not installed")
        p = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "tests", "fixtures", "synth.py"), "--ctf",
                            self.path("s")], capture_output=True, check=False)
        if p.returncode != 0:
            self.skipTest("synth.py cannot write a CTF trace here: %s" % p.stderr.decode()[-200:])
        os.symlink(self.path("s"), self.path("link"))
        res = tracecount.count_in_child(self.path("link"))
        self.assertEqual(res["total"], 63)
        self.assertEqual(res["by_name"]["ipclab_msg:msg_send"], 9)
        self.assertTrue(res["complete"])


if __name__ == "__main__":
    unittest.main()
