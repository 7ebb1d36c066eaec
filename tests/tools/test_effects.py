"""test_effects - how a concurrency demo's run is judged, and the rates bench/effect-rates
writes (with a fake ipclab)."""

import io
import json
import os
import stat
import unittest
from contextlib import redirect_stderr, redirect_stdout

from fixtures import TempDir
from ipclab_tools import effects
from ipclab_tools.cli import UsageError

# shows the effect on runs whose counter file holds an odd number; exit 4 every 5th run
FAKE = r"""#!/bin/sh
json=
for a in "$@"; do case $a in --json=*) json=${a#--json=} ;; esac; done
n=$(cat "$COUNTER" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >"$COUNTER"
if [ $((n % 5)) = 0 ]; then echo "fake: the workers never overlapped" >&2; exit 4; fi
printf '{"results": {"lost_updates": %d}}' $((n % 2)) >"$json"
"""

RACE = effects.DEMOS[0]


class Verdict(unittest.TestCase):
    def test_rules(self):
        self.assertEqual(effects.verdict(0, {"results": {"lost_updates": 3}}, RACE), "shown")
        self.assertEqual(effects.verdict(0, {"results": {"lost_updates": 0}}, RACE), "not shown")
        self.assertEqual(effects.verdict(4, None, RACE), "inconclusive")
        self.assertEqual(effects.verdict(1, {"results": {"lost_updates": 3}}, RACE), "failed")
        self.assertEqual(effects.verdict(0, None, RACE), "failed")
        # the experiment's own verdict wins over the rule
        self.assertEqual(effects.verdict(0, {"results": {"lost_updates": 3, "effect": {"shown": False}}}, RACE),
                         "not shown")
        self.assertEqual(effects.verdict(0, {"results": {"lost_updates": 0, "inconclusive": None}}, RACE), "shown")
        self.assertEqual(effects.verdict(0, {"results": {"inconclusive": "one CPU"}}, RACE), "not shown")
        gil = next(d for d in effects.DEMOS if d.name == "gil")  # inconclusive null: it could run; the rule judges
        self.assertEqual(effects.verdict(0, {"results": {"inconclusive": None, "shape": {"speedup_at_max": 1.9}}}, gil),
                         "not shown")
        self.assertTrue(effects.semaphore_shown({"results": {"max_inside": 3, "permits": 2}}))
        self.assertFalse(effects.shm_shown({"results": {"torn_reads": 0}}))
        self.assertTrue(effects.gil_shown({"results": {"shape": {"speedup_at_max": 1.02}}}))
        self.assertFalse(effects.gil_free_shown({"results": {"shape": {"fraction_of_ideal": 0.5}}}))


class Rates(TempDir):
    def test_counts_and_json(self):
        fake = self.write("build/bin/ipclab", FAKE)
        os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
        os.environ.update(BUILD=self.path("build"), COUNTER=self.path("n"))
        self.addCleanup(os.environ.pop, "BUILD", None)
        self.addCleanup(os.environ.pop, "COUNTER", None)
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            self.assertEqual(effects.main(["--runs", "10", "--only", "race", "--json", self.path("e.json")]), 0)
        with open(self.path("e.json")) as f:
            doc = json.load(f)
        thread, process = doc["rows"]
        self.assertEqual((thread["mode"], process["mode"]), ("thread", "process"))
        # runs 1..10: 5 and 10 inconclusive; odd ones shown (1, 3, 7, 9); 2, 4, 6, 8 not shown
        self.assertEqual(thread["counts"], {"shown": 4, "not shown": 4, "inconclusive": 2, "failed": 0})
        self.assertEqual((thread["rate"], thread["met"]), (0.4, False))
        self.assertIn({"reason": "fake: the workers never overlapped", "runs": 2}, thread["reasons"])
        with self.assertRaisesRegex(UsageError, "no demo 'x'"):
            effects.main(["--only", "x"])


if __name__ == "__main__":
    unittest.main()
