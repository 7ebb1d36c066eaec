"""bench/effect-rates - how often each concurrency demonstration shows its effect (issue 11
C): every demo run N times (default 100) in thread and process mode, one run after the
other, and counted: shown, not shown, inconclusive (exit 4: the run said it could not show
it, e.g. the workers never overlapped), failed. The rate is shown / runs; the goal is
>= 99 %. The result goes to a JSON file the report's "Effect rates" section reads.

An effect is read from the run's JSON: the experiment's own verdict when it gives one
(results.inconclusive: null when the effect showed, else why not; it then exits 4), else
the rule of the demo below."""

import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

from .cli import ArgumentParser, NoResource, UsageError, int_type, run as run_main
from .fmt import mmss, num
from .paths import build_dir
from .results import try_json, write_json_atomic

PROG = "bench/effect-rates"
SCHEMA = "ipclab-effect-rates/1"
GOAL = 0.99
RUN_TIMEOUT = 300


def _results(doc):
    return doc.get("results") if isinstance(doc.get("results"), dict) else {}


def race_shown(doc):
    """Lost updates: the final counter is below W x N."""
    v = _results(doc).get("lost_updates")
    return num(v) and v > 0


def semaphore_shown(doc):
    """More workers inside at once than the semaphore's K permits."""
    r = _results(doc)
    return r.get("bound_exceeded") is True or (num(r.get("max_inside")) and num(r.get("permits"))
                                                and r["max_inside"] > r["permits"])


def shm_shown(doc):
    """Torn reads: a reader saw a record half old, half new."""
    v = _results(doc).get("torn_reads")
    return num(v) and v > 0


GIL_MAX_SPEEDUP = 1.25     # GIL-bound threads: no more than this with 2 workers on 2 CPUs
FREE_MIN_FRACTION = 0.75   # threads without a GIL: at least this fraction of the ideal speed-up


def _speedup_at_max(doc):
    shape = _results(doc).get("shape") or {}
    return shape.get("speedup_at_max"), shape.get("fraction_of_ideal")


def gil_shown(doc):
    """GIL-bound threads do not speed up: speed-up at the most workers <= GIL_MAX_SPEEDUP."""
    s, _f = _speedup_at_max(doc)
    return num(s) and s <= GIL_MAX_SPEEDUP


def gil_free_shown(doc):
    """Threads without the GIL do: at least FREE_MIN_FRACTION of the ideal speed-up."""
    _s, f = _speedup_at_max(doc)
    return num(f) and f >= FREE_MIN_FRACTION


def stated_only(doc):
    """The experiment states it (results.effect.shown); without that, not shown."""
    return False


def exit_ok(doc):
    """The experiment checks its own steps: exit 0 is the effect shown (exit 1 a failed one)."""
    return True


class Demo:
    """One demonstration: name, the ipclab arguments, the modes it runs in (None: the
    experiment has no --mode), what its effect is, and the rule when the run does not say.
    judges_itself: results.inconclusive null means the effect showed; otherwise (sync gil)
    it only means the run could show it, and the rule judges."""

    def __init__(self, name, args, modes, effect, rule, judges_itself=True):
        self.name, self.args, self.modes, self.effect, self.rule = name, args, modes, effect, rule
        self.judges_itself = judges_itself


MODES = ("thread", "process")
DEMOS = [
    Demo("race", ["sync", "race", "--sync", "none"], MODES, "lost updates without a lock", race_shown),
    Demo("semaphore", ["sync", "semaphore", "--sync", "none"], MODES, "more than K workers inside", semaphore_shown),
    Demo("shm", ["ipc", "shm", "--lock", "none"], MODES, "torn reads without a lock", shm_shown),
    Demo("coalesce", ["signal", "coalesce", "--count", "100", "--method", "sigtimedwait"], MODES,
         "standard signals coalesce, real-time ones queue (sigtimedwait)", stated_only),
    Demo("coalesce-handler", ["signal", "coalesce", "--count", "100", "--method", "handler"], MODES,
         "standard signals coalesce, real-time ones queue (handler)", stated_only),
    Demo("sigchld-default", ["signal", "sigchld", "--policy", "default", "--children", "20"], (None,),
         "children stay zombies until reaped", stated_only),
    Demo("sigchld-ignore", ["signal", "sigchld", "--policy", "ignore", "--children", "20"], (None,),
         "SIG_IGN: the kernel reaps, no zombie", stated_only),
    Demo("sigchld-handler", ["signal", "sigchld", "--policy", "handler", "--children", "20"], (None,),
         "a reaping handler reaps every child though SIGCHLD coalesces", stated_only),
    Demo("alarm", ["signal", "alarm", "--ticks", "5"], (None,), "alarm/setitimer/pause semantics", exit_ok),
    Demo("bus", ["signal", "bus", "--script", "INT,QUIT,INT,TSTP"], (None,), "the driver and the conductor",
         exit_ok),
    Demo("gil", ["sync", "gil", "--workload", "cpu", "--model", "gil", "--workers", "2", "--work-ms", "50"], (None,),
         "GIL-bound threads do not speed up (2 workers)", gil_shown, judges_itself=False),
    Demo("gil-free", ["sync", "gil", "--workload", "cpu", "--model", "threads", "--workers", "2", "--work-ms", "50"],
         (None,), "threads without a GIL speed up (2 workers)", gil_free_shown, judges_itself=False),
]


def verdict(rc, doc, demo):
    """'shown', 'not shown', 'inconclusive' (exit 4) or 'failed' of one run."""
    if rc == 4:
        return "inconclusive"
    if rc != 0 or not isinstance(doc, dict):
        return "failed"
    res = _results(doc)
    if demo.judges_itself and "inconclusive" in res:  # null when the effect showed
        return "shown" if res["inconclusive"] is None else "not shown"
    effect = res.get("effect")
    if isinstance(effect, dict) and isinstance(effect.get("shown"), bool):
        return "shown" if effect["shown"] else "not shown"
    return "shown" if demo.rule(doc) else "not shown"


def last_line(text):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return lines[-1] if lines else ""


def measure(ipclab, demo, mode, runs, work, progress):
    """Runs one demo `runs` times; returns its row."""
    counts = {"shown": 0, "not shown": 0, "inconclusive": 0, "failed": 0}
    reasons = {}
    args = demo.args + (["--mode", mode] if mode else [])
    for i in range(runs):
        out = os.path.join(work, "run.json")
        if os.path.exists(out):
            os.unlink(out)
        try:
            p = subprocess.run([ipclab] + args + ["--json=" + out, "--quiet"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=RUN_TIMEOUT, check=False)
            rc, err = p.returncode, p.stderr.decode(errors="replace")
        except subprocess.TimeoutExpired:
            rc, err = 124, "timed out after %d s" % RUN_TIMEOUT
        doc, _e = try_json(out)
        v = verdict(rc, doc, demo)
        counts[v] += 1
        if v in ("inconclusive", "failed", "not shown"):
            why = last_line(err) or ("exit %d" % rc if rc else "no effect in the result")
            reasons[why] = reasons.get(why, 0) + 1
        progress(i + 1)
    return {"demo": demo.name, "mode": mode, "command": "ipclab " + " ".join(args), "effect": demo.effect,
            "runs": runs, "counts": counts, "rate": counts["shown"] / runs if runs else None, "goal": GOAL,
            "met": runs > 0 and counts["shown"] / runs >= GOAL,
            "reasons": [{"reason": k, "runs": v} for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])]}


def parser():
    p = ArgumentParser(prog=PROG, usage="bench/effect-rates [--runs N] [--only DEMO[,DEMO...]] [--json FILE]",
                       description=__doc__.split("\n", 2)[2],
                       epilog="Demos: %s.\nEnvironment: BUILD (as for make).\nExit: 0 measured (whatever the "
                       "rates); 2 usage; 3 ipclab not built." % ", ".join(d.name for d in DEMOS))
    p.add_argument("--runs", type=int_type("--runs", 1, 100000), default=100, help="runs per demo and mode "
                   "(default 100)")
    p.add_argument("--only", metavar="DEMO", help="only these demos (comma-separated)")
    p.add_argument("--json", metavar="FILE", help="write the rates as JSON to FILE ('-': standard output)")
    return p


def main(argv):
    args = parser().parse_args(argv)
    demos = DEMOS
    if args.only:
        names = args.only.split(",")
        unknown = [n for n in names if n not in [d.name for d in DEMOS]]
        if unknown:
            raise UsageError("--only: no demo '%s' (%s)" % (unknown[0], ", ".join(d.name for d in DEMOS)))
        demos = [d for d in DEMOS if d.name in names]
    ipclab = os.path.join(build_dir(), "bin", "ipclab")
    if not os.access(ipclab, os.X_OK):
        raise NoResource("%s not found: build it first (make)" % ipclab)
    rows, t0 = [], time.monotonic()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with tempfile.TemporaryDirectory(prefix="ipclab-effects.") as work:
        for demo in demos:
            for mode in demo.modes:
                label = demo.name + (" (%s)" % mode if mode else "")

                def progress(i, label=label):
                    if i == args.runs or i % 25 == 0:
                        sys.stderr.write("%s: %s: %d/%d  elapsed %s\n" % (PROG, label, i, args.runs,
                                                                          mmss(time.monotonic() - t0)))
                rows.append(measure(ipclab, demo, mode, args.runs, work, progress))
    doc = {"schema": SCHEMA, "started": started, "runs_per_demo": args.runs, "goal": GOAL, "rows": rows,
           "rules": {d.name: (d.rule.__doc__ or "").strip() for d in DEMOS}}
    text = json.dumps(doc, indent=1) + "\n"
    if args.json == "-":
        sys.stdout.write(text)
        return 0
    if args.json:
        write_json_atomic(args.json, doc, indent=1)
    for r in rows:
        print("%-16s %-8s %5.1f %%  (%d shown, %d not shown, %d inconclusive, %d failed of %d)%s"
              % (r["demo"], r["mode"] or "-", 100 * r["rate"], r["counts"]["shown"], r["counts"]["not shown"],
                 r["counts"]["inconclusive"], r["counts"]["failed"], r["runs"], "" if r["met"] else "  < 99 %"))
    return 0


def entry():
    run_main(main, PROG)
