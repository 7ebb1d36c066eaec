"""test_placement - CPU lists, requested and observed placements, sampling a running tool."""

import os
import subprocess
import unittest

from ipclab_tools import placement


class Placement(unittest.TestCase):
    def test_cpu_lists(self):
        self.assertEqual(placement.parse_cpu_list("0-3,6"), [0, 1, 2, 3, 6])
        self.assertEqual(placement.parse_cpu_list("1\n"), [1])
        with self.assertRaises(ValueError):
            placement.parse_cpu_list("3-1")
        self.assertEqual(placement.first_missing("0,1", [0, 1]), None)
        self.assertEqual(placement.first_missing("0-3", [0, 1]), 2)
        self.assertIn(0, placement.online_cpus())

    def test_requested(self):
        self.assertEqual(placement.of_params({"placement": "same-cpu", "cpu": [0, 0]}),
                         ("same-cpu", "same CPU (both on 0)", "same CPU 0"))
        self.assertEqual(placement.of_params({"placement": "cross-cpu", "cpu": [0, 1]})[2], "cross-CPU 0\u21921")
        self.assertEqual(placement.of_params({}), ("unpinned", "unpinned", "unpinned"))
        self.assertEqual(placement.short({"placement": "same-cpu", "cpu": [1, 1]}), "same CPU 1")

    def test_observed(self):
        res = {"repeats": [{"cpu": {"initiator": [0, 0], "responder": [1, -1]}}, {"cpu": {"initiator": [0]}}]}
        ini, resp = placement.observed(res)
        self.assertEqual((ini, resp), ({0}, {1}))
        self.assertEqual(placement.observed_text(ini, resp), "initiator 0, responder 1")
        self.assertEqual(placement.observed({}), (None, None))
        self.assertEqual(placement.kind_of_cpus([{0}, {0}]), "same-cpu")
        self.assertEqual(placement.kind_of_cpus([{0}, {1}]), "cross-cpu")
        self.assertEqual(placement.kind_of_cpus([{0, 1}, {1}]), "mixed")
        self.assertIsNone(placement.kind_of_cpus([set(), set()]))

    def test_stat_parsing(self):
        fields = "R " + " ".join(str(i) for i in range(4, 53))  # field 3 .. 52
        self.assertEqual(placement.task_state_cpu("12 (a b) c) " + fields), ("R", 39))

    def test_run_placement_and_match(self):
        seen = {"results": {"repeats": [{"cpu": {"initiator": [0], "responder": [0]}}]}}
        asked = {"params": {"placement": "cross-cpu", "cpu": [1, 0]}}
        self.assertEqual(placement.of_run(seen), ("same-cpu", [[0], [0]]))
        self.assertEqual(placement.of_run(asked), ("cross-cpu", [[1], [0]]))
        self.assertEqual(placement.of_run({}), ("unpinned", []))
        self.assertTrue(placement.match(("same-cpu", [[0], [0]]), ("same-cpu", [[0], [0], [0]])))
        self.assertTrue(placement.match(("cross-cpu", [[1], [0]]), ("cross-cpu", [[0], [1]])))
        self.assertFalse(placement.match(("same-cpu", [[0]]), ("same-cpu", [[1]])))
        self.assertFalse(placement.match(("mixed", [[0, 1]]), ("mixed", [[0, 1]])))
        self.assertFalse(placement.match((None, []), ("same-cpu", [[0]])))

    def test_sampler_sees_a_busy_peer(self):
        """A child spinning on the CPU it is pinned to is a peer, on that CPU."""
        cpu = placement.online_cpus()[-1]
        r, w = os.pipe()
        p = subprocess.Popen(["taskset", "-c", str(cpu), "sh", "-c", "echo go; while :; do :; done"],
                             stdout=subprocess.PIPE, stdin=r)
        os.close(r)
        try:
            p.stdout.readline()
            s = placement.Sampler(period=0.001)
            s.start(p.pid)
            for _ in range(60000):  # until the spinning child is seen running (it always is, soon)
                if s.running:
                    break
                s._stop.wait(0.001)  # pylint: disable=protected-access
            self.assertEqual(s.stop(), {p.pid: {cpu}})
            self.assertEqual(s.placement(), (None, [[cpu]]))  # one peer: where the pair ran is unknown
        finally:
            p.kill()
            p.wait()
            p.stdout.close()
            os.close(w)

    def test_sampling_a_process_tree(self):
        """A child that forks a grandchild: both seen, each on an online CPU."""
        r, w = os.pipe()
        p = subprocess.Popen(["sh", "-c", "sleep 5 & echo $!; read x; kill $!"], stdin=r, stdout=subprocess.PIPE)
        os.close(r)
        try:
            grandchild = int(p.stdout.readline())  # the fork happened: it is in the tree now
            seen = placement.tasks_of(p.pid)
            self.assertIn(grandchild, seen)
            self.assertIn(p.pid, seen)
            self.assertGreaterEqual(len(seen), 2)
            self.assertTrue({cpu for _state, cpu in seen.values()} <= set(placement.online_cpus()))
            s = placement.Sampler(period=0.001)
            s.start(p.pid)
            s.stop()
            self.assertIn(p.pid, s.tasks)
        finally:
            os.write(w, b"\n")
            os.close(w)
            p.wait()
            p.stdout.close()


if __name__ == "__main__":
    unittest.main()
