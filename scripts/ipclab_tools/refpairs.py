"""refpairs.py - ipclab set against the reference tools pair by pair (issue 11 D): each
reference line of a matrix runs as P >= 5 pairs, one launch of the ipclab run it is
compared with and one of the tool, alternately first (ipclab, tool; tool, ipclab; ...),
so drift hits both. Where each side ran is recorded: ipclab's peers from its own
results.repeats[].cpu, the tool's sampled from /proc/PID/task/*/stat while it runs (the
tasks seen running). A pair counts only if both ran alike (placement.match); the ratio of
a line is the median over its matching pairs of ipclab's mean / the tool's mean, judged
against the goal: [0.90, 1.10] for rt-tests, [0.95, 1.05] for perf bench sched pipe.

bench/ref-ratios runs only those pairs and prints the ratios (for whoever works on a loop
that must agree with a reference tool)."""

import os
import statistics
import sys
import tempfile

from . import placement
from .cli import ArgumentParser, int_type, run as run_main
from .fmt import num
from .paths import BENCH
from .results import try_json

PROG = "bench/ref-ratios"
GOALS = {"rt-tests": (0.90, 1.10), "perf-pipe": (0.95, 1.05)}
MIN_PAIRS = 5


def oneway_mean(results):
    """Mean one-way latency (ns) over both directions of an ipc latency result."""
    a, b = results.get("oneway_ab") or {}, results.get("oneway_ba") or {}
    parts = [(x.get("mean"), x.get("count")) for x in (a, b) if num(x.get("mean")) and num(x.get("count"))]
    tot = sum(c for _m, c in parts)
    return sum(m * c for m, c in parts) / tot if tot else None


def ipclab_mean(doc, kind):
    """The mean an ipclab run is compared by: one-way for rt-tests (the tools time one
    direction), the round trip for perf bench (one loop = one write+read round trip)."""
    r = doc.get("results") or {}
    if kind == "perf-pipe":
        return (r.get("rtt") or {}).get("mean")
    if (doc.get("params") or {}).get("loop") in ("sigwaittest", "rt-tests"):
        # the tool's own loop: its one-way is A->B (B->A is an answer the tool does not time)
        return (r.get("oneway_ab") or {}).get("mean")
    if doc.get("experiment") == "ipc latency":
        return oneway_mean(r)
    return (r.get("oneway") or {}).get("mean")


def pair(k, order, tool_mean, tool_place, ipclab):
    """One pair's record: ipclab is {id: (doc or None)}; ratios only where both ran alike."""
    out = {"pair": k, "order": order, "tool": {"mean_ns": tool_mean, "placement": tool_place[0],
                                               "cpus": tool_place[1]}, "ipclab": {}}
    for rid, (doc, kind) in ipclab.items():
        if doc is None:
            out["ipclab"][rid] = {"mean_ns": None, "placement": None, "cpus": [], "same_placement": False,
                                  "ratio": None}
            continue
        mean, where = ipclab_mean(doc, kind), placement.of_run(doc)
        same = placement.match(where, tool_place)
        out["ipclab"][rid] = {"mean_ns": mean, "placement": where[0], "cpus": where[1], "same_placement": same,
                              "ratio": mean / tool_mean if num(mean) and num(tool_mean) and tool_mean > 0 else None}
    return out


def summary(pairs, rid, kind):
    """The verdict of one compared run over the pairs: the median ratio of the pairs that
    ran alike, judged against the goal; "different placement" when none did."""
    lo, hi = GOALS[kind]
    rows = [p["ipclab"].get(rid) or {} for p in pairs]
    ratios = [r["ratio"] for r in rows if num(r.get("ratio"))]
    matched = [r["ratio"] for r in rows if num(r.get("ratio")) and r.get("same_placement")]
    s = {"pairs": len(pairs), "with_ratio": len(ratios), "matched": len(matched), "goal": [lo, hi],
         "median": statistics.median(matched) if matched else None,
         "min": min(matched) if matched else None, "max": max(matched) if matched else None,
         "median_all": statistics.median(ratios) if ratios else None}
    if not ratios:
        s["verdict"] = "no pairs"
    elif not matched and all(p["tool"]["placement"] is None for p in pairs):
        s["verdict"] = "placement not observed"
    elif not matched:
        s["verdict"] = "different placement"
    elif len(matched) < MIN_PAIRS:
        s["verdict"] = "too few pairs"
    else:
        s["verdict"] = "within" if lo <= s["median"] <= hi else "outside"
    return s


def print_ratios(folder, out):
    """A table of the ratios of every reference run in a results folder."""
    lines = []
    runs = os.path.join(folder, "runs")
    for name in sorted(os.listdir(runs)) if os.path.isdir(runs) else []:
        doc, _e = try_json(os.path.join(runs, name))
        if not isinstance(doc, dict) or not isinstance(doc.get("ratios"), dict):
            continue
        for rid, s in doc["ratios"].items():
            tool_pl = sorted({p["tool"]["placement"] or "-" for p in doc.get("pairs") or []})
            our_pl = sorted({(p["ipclab"].get(rid) or {}).get("placement") or "-" for p in doc.get("pairs") or []})
            lines.append((name[:-5], rid, "/".join(tool_pl), "/".join(our_pl), "%d/%d" % (s["matched"], s["pairs"]),
                          "%.3f" % s["median"] if num(s["median"]) else "-",
                          "[%.2f, %.2f]" % tuple(s["goal"]), s["verdict"]))
    head = ("reference", "ipclab run", "tool ran", "ipclab ran", "pairs", "median ratio", "goal", "verdict")
    if not lines:
        out.write("no reference pairs in %s\n" % folder)
        return
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    for line in [head] + lines:
        out.write("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip() + "\n")


def main(argv):
    p = ArgumentParser(prog=PROG, usage="bench/ref-ratios [--matrix FILE] [--only PATTERN] [--pairs N] [--out DIR]",
                       description=__doc__.split("\n", 2)[2],
                       epilog="Runs bench/run --refs-only (the reference lines of the matrix, each as pairs with "
                       "the ipclab run it names) into --out (default: a temporary folder, removed), then prints "
                       "one line per reference and compared run. Exit: bench/run's (0 all ran, 1 a run failed).")
    p.add_argument("--matrix", default=os.path.join(BENCH, "quick.matrix"), help="the matrix (default quick)")
    p.add_argument("--only", metavar="PATTERN", help="only the reference lines matching these globs (ref.*)")
    p.add_argument("--pairs", type=int_type("--pairs", 1, 1000), default=MIN_PAIRS, help="pairs per reference, at least (default 5)")
    p.add_argument("--out", metavar="DIR", help="keep the results here")
    args = p.parse_args(argv)
    from . import runner  # pylint: disable=import-outside-toplevel
    with tempfile.TemporaryDirectory(prefix="ipclab-ref-ratios.") as tmp:
        out = args.out or os.path.join(tmp, "results")
        rargv = ["--matrix", args.matrix, "--refs-only", "--pairs", str(args.pairs), "--out", out]
        if args.only:
            rargv += ["--only", args.only]
        rc = runner.main(rargv)
        print_ratios(out, sys.stdout)
    return rc


def entry():
    run_main(main, PROG)
