"""ipclab-compare - is B faster, slower or the same as A? Median change per metric.

A and B are results folders (results/<timestamp>/ of make bench / make report: runs/ID.json,
hist/ID.tsv). For every run ID in both, every latency summary in its results (any object
with a p50: rtt, oneway_ab, wake_latency, lateness, ...; the tree is walked, the per-repeat
list "repeats" excepted) and every throughput number (a key ending in _per_s: msgs_per_s,
mib_per_s, tasks_per_s, ...; "ideal_*" excepted: computed, not measured) gives one row:
A's and B's p50 (for throughput: the reported value, the median of repeats), the change of
B vs A, a confidence interval of that change and a verdict. Latency: lower is better.
Throughput: higher is better.

Each row says which method it used (--method auto picks the first that has the data):

  bootstrap     both runs have a histogram of this summary (hist/ID.tsv, a block whose
                count, p50, min and max agree with the summary; at least 30 samples): the
                median is resampled from each bucket distribution (N draws with
                replacement, N = the run's sample count; --resamples resamples, seeded by
                --seed, the run ID and the metric, so the output is reproducible). Each
                resample's median is drawn from its exact sampling distribution (the
                ceil(N/2)-th order statistic of N draws: a binomial tail), which is the
                same as drawing N values and taking their median, without drawing them.
                CI: percentile interval of B*/A* - 1. Verdict: the CI excludes 0.
                Caveat: the samples of one run are treated as independent; run-to-run
                variation (repeat_rel_stddev_p50) is not in this interval. A verdict
                whose per-repeat p50s (results.repeats[]) overlap is downgraded to "no
                change" and the note says what the bootstrap alone would have said;
                --method mann-whitney tests the repeats themselves.
  mann-whitney  at least 3 per-repeat values on each side (results.repeats[].rtt_p50 for
                a summary "rtt", .oneway_p50 for "oneway_ab" (what ipclab writes);
                points[].repeats[].msgs_per_s for "msgs_per_s"): two-
                sided Mann-Whitney U test (exact, ties included, for small samples; normal
                approximation with tie correction above 60 values), verdict if p <= alpha,
                direction from the Hodges-Lehmann shift; CI: the distribution-free
                interval of the Hodges-Lehmann shift of log values (a ratio B/A - 1;
                of the values relative to A's median repeat if one is <= 0).
                When the repeat counts cannot reach p <= alpha at all (3 + 3 repeats:
                smallest p = 0.1 > 0.05) the verdict is "insufficient data".
  summary       only summaries (no matching histograms, fewer than 3 repeats): no test,
                verdict "insufficient data", no CI. A change is shown, not judged.

Output: a table (ID, metric, method, A p50, B p50, change, CI, verdict, note: why a row
has no verdict, or a caution), the methods used, and notes (runs in one folder only,
params that differ, metrics in one run only). --json: the same, one object per row
("ipclab-compare/1": id, metric, kind, better, method, a, b, change_pct, ci_pct [lo, hi]
or null, estimate_pct, p (Mann-Whitney), n_a, n_b, verdict, note, reason). Unreadable run
files are skipped with a warning on stderr.

Exit status: 0 compared (whatever the verdicts); 2 usage error, a missing folder, a folder
without runs/, no run ID in both folders, or --json FILE not writable (one line on stderr).
"""

import json
import math
import os
import random
import statistics
import sys

from . import hist, metrics, stats
from .cli import ArgumentParser, UsageError, int_type, run
from .fmt import fmt_duration_ns, fmt_rate, fmt_signed_pct, num
from .results import read_runs_dir

PROG = "ipclab-compare"
SCHEMA = "ipclab-compare/1"
MIN_HIST_SAMPLES = 30
MIN_REPEATS = 3
INSUFFICIENT = "insufficient data"
METHODS = ("auto", "bootstrap", "mann-whitney")


# ------------------------------------------------------------------ reading results

def hist_for_summary(blocks, summary, path_names):
    """(HistMedian, None) of the histogram block that holds this summary's samples, or
    (None, why not)."""
    if blocks is None:
        return None, "histogram file unreadable"
    cnt, p50, smin, smax = (summary.get(k) for k in ("count", "p50", "min", "max"))
    if not all(num(v) for v in (cnt, p50, smin, smax)):
        return None, "summary lacks count/p50/min/max"
    leaf = path_names[-1]
    scored = []
    for blk in blocks:
        if blk.bad or not blk.buckets:
            continue
        if any(blk.header(k) is not None and blk.header(k) != summary.get(k) for k in ("count", "min", "max", "p50")):
            continue
        buckets = sorted(blk.buckets)
        ovf = blk.overflow or 0
        total = sum(c for _, c in buckets) + ovf
        if total != cnt:
            continue
        values, counts = [], []
        for lo, c in buckets:
            if c:
                values.append(hist.bucket_value(lo, smin, smax))
                counts.append(c)
        if ovf:
            values.append(smax)
            counts.append(ovf)
        # the block's median, as ipclab computes it, must be the summary's p50
        rank, cum, med = (total + 1) // 2, 0, smax
        for v, c in zip(values, counts):
            cum += c
            if cum >= rank:
                med = v
                break
        if med != p50:
            continue
        name = blk.name
        score = (4 if name == ".".join(path_names) else 3 if name == leaf
                 else 2 if name in path_names else 0)
        scored.append((score, name, values, counts))
    if not scored:
        return None, "no histogram block agrees with the summary"
    scored.sort(key=lambda t: -t[0])
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None, "histogram blocks %s and %s both fit the summary" % (scored[0][1], scored[1][1])
    _, _, values, counts = scored[0]
    if sum(counts) < MIN_HIST_SAMPLES:
        return None, "only %d samples in the histogram (need %d)" % (sum(counts), MIN_HIST_SAMPLES)
    return stats.HistMedian(values, counts), None


# ------------------------------------------------------------------ comparing

def verdict_of(kind, direction):
    """direction > 0: B higher; < 0: B lower; 0: no change."""
    if direction == 0:
        return "no change"
    higher_is_slower = kind == "latency"
    return "slower" if (direction > 0) == higher_is_slower else "faster"


def unit_of(kind, label):
    return "ns" if kind == "latency" else label.rsplit(".", 1)[-1].rsplit("_per_s", 1)[0] + "/s"


def new_row(rid, label, kind, va, vb):
    a, b = metrics.value_of(kind, va), metrics.value_of(kind, vb)
    return {"id": rid, "metric": label, "kind": kind,
            "better": "lower" if kind == "latency" else "higher", "unit": unit_of(kind, label),
            "method": "summary", "a": a, "b": b, "change_pct": 100.0 * (b / a - 1.0) if a else None,
            "ci_pct": None, "estimate_pct": None, "p": None, "test": None, "n_a": None, "n_b": None,
            "verdict": INSUFFICIENT, "reason": None, "note": ""}


def try_bootstrap(row, path, kind, va, vb, ctx):
    """The bootstrap verdict of a latency row if both runs have fitting histograms; returns
    True if it decided the row, else (False, reason, short note)."""
    names = [p for p in path if isinstance(p, str)]
    ha, why_a = hist_for_summary(ctx["hist_a"], va, names) if ctx["has_hist_a"] else (None, "no histogram file")
    hb, why_b = hist_for_summary(ctx["hist_b"], vb, names) if ctx["has_hist_b"] else (None, "no histogram file")
    if ha is None or hb is None:
        whys = (why_a or "", why_b or "")
        short = ("no histograms" if "no histogram file" in whys
                 else "< %d samples" % MIN_HIST_SAMPLES if any(w.startswith("only") for w in whys)
                 else "histograms do not fit")
        return False, "bootstrap: A: %s; B: %s" % (why_a or "ok", why_b or "ok"), short
    rng = random.Random("%s:%s:%s" % (ctx["seed"], row["id"], row["metric"]))
    res = stats.bootstrap_ratio(ha, hb, ctx["resamples"], ctx["alpha"], rng)
    row.update(method="bootstrap", n_a=ha.n, n_b=hb.n)
    if res is None or not row["a"]:
        row["reason"] = "a median of 0 ns in A: no relative change"
        return True, None, None
    lo, hi, est = res
    row["ci_pct"] = [100.0 * lo, 100.0 * hi]
    row["estimate_pct"] = 100.0 * est
    row["verdict"] = verdict_of(kind, 1 if lo > 0 else -1 if hi < 0 else 0)
    # run-to-run noise is not in this interval: a verdict the repeats do not back is not claimed
    ra = metrics.repeat_values(ctx["res_a"], path, kind)
    rb = metrics.repeat_values(ctx["res_b"], path, kind)
    if row["verdict"] != "no change" and len(ra) >= 2 and len(rb) >= 2 \
            and min(rb) <= max(ra) and min(ra) <= max(rb):
        row["note"] = "repeat p50s overlap (bootstrap said %s)" % row["verdict"]
        row["verdict"] = "no change"
        row["reason"] = ("the per-repeat p50s overlap (A %s, B %s): run-to-run variation, "
                         "not in this interval, may explain the change"
                         % (", ".join("%g" % v for v in ra), ", ".join("%g" % v for v in rb)))
    return True, None, None


def rank_test(row, kind, ra, rb, alpha, method):
    """The Mann-Whitney verdict of row from per-repeat (or per-launch) values ra, rb:
    p-value, Hodges-Lehmann estimate and interval of the ratio B/A - 1, verdict."""
    m, n = len(ra), len(rb)
    row.update(method=method, n_a=m, n_b=n)
    _, p, how = stats.mann_whitney(ra, rb)
    row["p"] = p
    row["test"] = how
    pmin = stats.min_p_exact(m, n) if how == "exact" else 0.0
    if pmin > alpha:
        row["note"] = "%d+%d %s: p >= %.2g" % (m, n, "repeats" if method == "mann-whitney" else "launches", pmin)
        row["reason"] = ("%d + %d values cannot reach p <= %g (the smallest possible p is %.3g)"
                         % (m, n, alpha, pmin))
        return
    if min(ra + rb) > 0:
        # ratio B/A: the shift of the logarithms (the U test is the same on them)
        est, lo, hi = stats.hodges_lehmann([math.log(v) for v in ra], [math.log(v) for v in rb], alpha)
        rel = [None if v is None else 100.0 * math.expm1(v) for v in (est, lo, hi)]
    else:
        ref = statistics.median(ra)
        est, lo, hi = stats.hodges_lehmann(ra, rb, alpha)
        rel = [None if v is None or not ref else 100.0 * v / ref for v in (est, lo, hi)]
    row["estimate_pct"] = rel[0]
    if rel[1] is not None and rel[2] is not None:
        row["ci_pct"] = [rel[1], rel[2]]
    row["verdict"] = verdict_of(kind, (1 if est > 0 else -1 if est < 0 else 0) if p <= alpha else 0)


def compare_metric(rid, label, path, kind, va, vb, ctx):
    row = new_row(rid, label, kind, va, vb)
    reasons, shorts = [], []
    want = ctx["method"]
    if kind == "latency" and want in ("auto", "bootstrap"):
        done, why, short = try_bootstrap(row, path, kind, va, vb, ctx)
        if done:
            return row
        reasons.append(why)
        shorts.append(short)
    if want in ("auto", "mann-whitney"):
        ra = metrics.repeat_values(ctx["res_a"], path, kind)
        rb = metrics.repeat_values(ctx["res_b"], path, kind)
        if len(ra) >= MIN_REPEATS and len(rb) >= MIN_REPEATS:
            rank_test(row, kind, ra, rb, ctx["alpha"], "mann-whitney")
            return row
        reasons.append("mann-whitney: %d repeats in A, %d in B (need %d each)" % (len(ra), len(rb), MIN_REPEATS))
        shorts.append("%d+%d repeats" % (len(ra), len(rb)))
    elif kind == "throughput":
        reasons.append("--method bootstrap: throughput has no histogram")
        shorts.append("no histogram")
    row["reason"] = "; ".join(reasons)
    row["note"] = ", ".join(shorts)
    return row


def param_diff(pa, pb):
    if not isinstance(pa, dict) or not isinstance(pb, dict):
        return []
    return ["%s: %s vs %s" % (k, json.dumps(pa.get(k)), json.dumps(pb.get(k)))
            for k in sorted(set(pa) | set(pb)) if pa.get(k) != pb.get(k)]


def load_side(path, warnings):
    docs, _files, warns = read_runs_dir(path)
    warnings += ["%s: %s, skipped" % w for w in warns]
    return docs


def compare(a_dir, b_dir, opts):
    warnings = []
    runs_a = load_side(a_dir, warnings)
    runs_b = load_side(b_dir, warnings)
    common = sorted(set(runs_a) & set(runs_b))
    if not common:
        raise UsageError("no run ID in both folders (A: %d runs, B: %d runs)" % (len(runs_a), len(runs_b)))
    rows, notes, without = [], [], []
    for rid in common:
        da, db = runs_a[rid], runs_b[rid]
        if da.get("experiment") != db.get("experiment"):
            notes.append("%s: experiment differs (%s vs %s), not compared"
                         % (rid, da.get("experiment"), db.get("experiment")))
            continue
        diff = param_diff(da.get("params"), db.get("params"))
        if diff:
            notes.append("%s: params differ: %s" % (rid, "; ".join(diff)))
        res_a, res_b = da.get("results"), db.get("results")
        if not isinstance(res_a, dict) or not isinstance(res_b, dict):
            notes.append("%s: no results object, not compared" % rid)
            continue
        ma = metrics.walk(res_a)
        mb = {(lab, kind): (path, v) for lab, path, kind, v in metrics.walk(res_b)}
        ha_path = os.path.join(a_dir, "hist", rid + ".tsv")
        hb_path = os.path.join(b_dir, "hist", rid + ".tsv")
        ctx = dict(opts, res_a=res_a, res_b=res_b,
                   has_hist_a=os.path.exists(ha_path), has_hist_b=os.path.exists(hb_path))
        ctx["hist_a"] = hist.read(ha_path) if ctx["has_hist_a"] else None
        ctx["hist_b"] = hist.read(hb_path) if ctx["has_hist_b"] else None
        n = 0
        seen = set()
        for lab, path, kind, va in ma:
            seen.add((lab, kind))
            if (lab, kind) not in mb:
                notes.append("%s: %s only in A" % (rid, lab))
                continue
            _pb, vb = mb[(lab, kind)]
            if kind == "latency" and not (num(va.get("count")) and va["count"] > 0
                                          and num(vb.get("count")) and vb["count"] > 0):
                notes.append("%s: %s has no samples, not compared" % (rid, lab))
                continue
            rows.append(compare_metric(rid, lab, path, kind, va, vb, ctx))
            n += 1
        for (lab, kind) in mb:
            if (lab, kind) not in seen:
                notes.append("%s: %s only in B" % (rid, lab))
        if n == 0 and not ma and not mb:
            without.append(rid)
    if without:
        notes.append("no latency summary or throughput number in: %s" % ", ".join(without))
    counts = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    return {
        "schema": SCHEMA,
        "a": a_dir, "b": b_dir,
        "alpha": opts["alpha"], "confidence": 1 - opts["alpha"],
        "method_option": opts["method"], "resamples": opts["resamples"], "seed": opts["seed"],
        "methods": {
            "bootstrap": "median resampled from both histograms (%d resamples, seed %s); "
                         "percentile CI of B/A - 1; verdict when the CI excludes 0" % (opts["resamples"], opts["seed"]),
            "mann-whitney": "per-repeat values, two-sided Mann-Whitney U test (verdict when p <= alpha), "
                            "Hodges-Lehmann CI of the ratio B/A",
            "summary": "only summaries: no test, no verdict",
        },
        "runs_a": len(runs_a), "runs_b": len(runs_b), "common": common,
        "only_in_a": sorted(set(runs_a) - set(runs_b)), "only_in_b": sorted(set(runs_b) - set(runs_a)),
        "rows": rows, "verdicts": counts, "notes": notes, "warnings": warnings,
    }


# ------------------------------------------------------------------ output

def fmt_value(v, row):
    return fmt_duration_ns(v) if row["kind"] == "latency" else fmt_rate(v, row["unit"])


def print_table(rep, out):
    rows = rep["rows"]
    conf = "%g%% CI" % (100 * rep["confidence"])
    head = ["ID", "metric", "method", "A p50", "B p50", "change", conf, "verdict", "note"]
    table = []
    for r in rows:
        ci = ("[%s, %s]" % (fmt_signed_pct(r["ci_pct"][0]), fmt_signed_pct(r["ci_pct"][1]))
              if r["ci_pct"] else "n/a")
        table.append([r["id"], r["metric"], r["method"], fmt_value(r["a"], r), fmt_value(r["b"], r),
                      fmt_signed_pct(r["change_pct"]), ci, r["verdict"], r["note"]])
    if not any(r["note"] for r in rows):
        head.pop()
        table = [t[:-1] for t in table]
    out.write("A: %s (%d runs)\nB: %s (%d runs)\n%d runs in both\n\n"
              % (rep["a"], rep["runs_a"], rep["b"], rep["runs_b"], len(rep["common"])))
    if not table:
        out.write("no latency summary or throughput number to compare in the common runs\n")
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(head, *table)]
        right = {3, 4, 5}
        for line in [head] + table:
            cells = [(str(c).rjust(w) if i in right else str(c).ljust(w))
                     for i, (c, w) in enumerate(zip(line, widths))]
            out.write("  ".join(cells).rstrip() + "\n")
        out.write("\nverdicts: %s\n" % ", ".join("%d %s" % (n, v) for v, n in sorted(rep["verdicts"].items())))
        out.write("methods (B vs A; latency: lower is better, throughput: higher is better):\n")
        for m in sorted({r["method"] for r in rows}):
            out.write("  %-13s %s\n" % (m, rep["methods"][m]))
    if rep["only_in_a"]:
        out.write("only in A: %s\n" % ", ".join(rep["only_in_a"]))
    if rep["only_in_b"]:
        out.write("only in B: %s\n" % ", ".join(rep["only_in_b"]))
    for n in rep["notes"]:
        out.write("note: %s\n" % n)


def alpha_type(s):
    try:
        v = float(s)
    except ValueError:
        v = float("nan")
    if not 0 < v < 0.5:
        raise UsageError("--alpha must be a number between 0 and 0.5, got '%s'" % s)
    return v


def seed_type(s):
    try:
        return int(s)
    except ValueError:
        return s


def parser():
    doc = __doc__.split("\n", 2)[2]
    p = ArgumentParser(prog=PROG, usage="%(prog)s A B [--json FILE] [--alpha A] [--method M] "
                       "[--resamples N] [--seed S]", description=doc.split("\nExit status")[0],
                       epilog="Exit status" + doc.split("\nExit status")[1])
    p.add_argument("a", metavar="A", help="results folder measured first (the baseline)")
    p.add_argument("b", metavar="B", help="results folder to judge against A")
    p.add_argument("--json", metavar="FILE", help="also write the comparison as JSON to FILE ('-': to standard "
                   "output, instead of the table)")
    p.add_argument("--alpha", type=alpha_type, default=0.05, help="significance level, 0 < A < 0.5 (default "
                   "0.05: 95 %% intervals)")
    p.add_argument("--method", choices=METHODS, default="auto", help="auto (default), bootstrap or mann-whitney "
                   "(only that method; rows without its data get \"insufficient data\")")
    p.add_argument("--resamples", type=int_type("--resamples", 100, 1000000), default=1000,
                   help="bootstrap resamples (default 1000, 100..1000000)")
    p.add_argument("--seed", type=seed_type, default=1, help="bootstrap seed (default 1)")
    return p


def main(argv):
    args = parser().parse_args(argv)
    if args.json == "":
        raise UsageError("--json needs a file name ('-' for standard output)")
    opts = {"alpha": args.alpha, "method": args.method, "resamples": args.resamples, "seed": args.seed}
    rep = compare(args.a, args.b, opts)
    text = json.dumps(rep, indent=1) + "\n"
    if args.json and args.json != "-":
        try:
            with open(args.json, "w") as f:
                f.write(text)
        except OSError as e:
            raise UsageError("cannot write %s: %s" % (args.json, e.strerror or e)) from None
    for w in rep["warnings"]:
        sys.stderr.write("%s: warning: %s\n" % (PROG, w))
    if args.json == "-":
        sys.stdout.write(text)
    else:
        print_table(rep, sys.stdout)
    return 0


def entry():
    run(main, PROG)
