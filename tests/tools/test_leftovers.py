"""test_leftovers - what a run left behind; the tracer's own wait files are not leftovers."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest

from ipclab_tools import leftovers


class Leftovers(unittest.TestCase):
    def test_tracer_files_are_recognised(self):
        for name in ("lttng-ust-wait-8", "lttng-ust-wait-8-0", "lttng-ust-wait-8-1000"):
            self.assertTrue(leftovers.tracer_owned("/dev/shm/" + name), name)
        for entry in ("/dev/shm/lttng-ust-wait-8-x", "/dev/shm/lttng-ust-wait-", "/dev/shm/ipclab-shm-1-2",
                      "/dev/mqueue/lttng-ust-wait-8", "/dev/shm/xlttng-ust-wait-8",
                      "SysV semaphore id 3 key 0x00000000"):
            self.assertFalse(leftovers.tracer_owned(entry), entry)

    def test_snapshot_and_difference(self):
        name = "/dev/shm/ipclab-tools-test-%d" % os.getpid()
        before = leftovers.snapshot()
        self.assertFalse(any(leftovers.tracer_owned(e) for e in before))
        with open(name, "w"):
            pass
        try:
            after = leftovers.snapshot()
            self.assertEqual(leftovers.new_since(before, after), [name])
            self.assertTrue(leftovers.still_there(name))
        finally:
            os.unlink(name)
        self.assertFalse(leftovers.still_there(name))

    def test_sysv_and_daemons(self):
        self.assertFalse(leftovers.still_there("SysV semaphore id 999999999 key 0x00000000"))
        self.assertFalse(leftovers.still_there("LTTng daemon lttng-sessiond pid 999999999"))
        self.assertFalse(leftovers.still_there("LTTng daemon lttng-sessiond pid %d" % os.getpid()))  # not one
        for d in leftovers.daemons():
            self.assertRegex(d, r"^LTTng daemon lttng-(sessiond|consumerd) pid [0-9]+$")
        self.assertTrue(leftovers.still_there("anything else"))


    def test_only_our_daemons(self):
        """A process named lttng-sessiond that is our child is ours; for another root it is
        not; once it ended it is not listed (zombie), and reap_orphans collects it."""
        with tempfile.TemporaryDirectory() as d:
            fake = os.path.join(d, "lttng-sessiond")
            shutil.copy(shutil.which("sleep"), fake)
            p = subprocess.Popen([fake, "600"])
            other = subprocess.Popen([shutil.which("sleep"), "600"])
            try:
                # Popen returns once the child has released our memory in exec, before exec
                # gives it its new name: wait (bounded) until /proc shows that name
                deadline = time.monotonic() + 60
                while leftovers.comm_of(p.pid) != "lttng-sessiond" and time.monotonic() < deadline:
                    os.sched_yield()
                entry = "LTTng daemon lttng-sessiond pid %d" % p.pid
                self.assertIn(entry, leftovers.daemons(os.getpid()))
                self.assertNotIn(entry, leftovers.daemons(other.pid))
                self.assertTrue(leftovers.still_there(entry))
            finally:
                for q in (p, other):
                    q.kill()
            other.wait()
            # p is a zombie child now (not waited for): not a daemon, then reaped
            while leftovers.stat_of(p.pid) not in (None, ("Z", os.getpid())):
                os.sched_yield()  # the kill is asynchronous: wait for the state it leads to
            self.assertNotIn(entry, leftovers.daemons(os.getpid()))
            self.assertFalse(leftovers.still_there(entry))
            leftovers.reap_orphans()
            self.assertIsNone(leftovers.stat_of(p.pid))


if __name__ == "__main__":
    unittest.main()
