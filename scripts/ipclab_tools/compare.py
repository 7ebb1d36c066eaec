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

  launches      both folders come from launches (an interleaved A/B session: bench/run
                --ab, or --run below): every launch is a separate process, so the values
                of the launches carry the run-to-run variation: two-sided Mann-Whitney U
                test on the per-launch p50s (throughput: values), verdict if p <= alpha,
                Hodges-Lehmann interval of the ratio B/A - 1; A and B p50 are the medians
                over the launches.
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

Then two rules have the last word. A/A noise: a change no larger than the measured A/A
noise of its row (how far the same build moved between two interleaved measurements:
the larger of that row's median change and Hodges-Lehmann shift in an A/A comparison,
aa.json, which make bench writes; --noise FILE, or found in B, A or beside them) is "no
change", never
slower/faster. Drift: two folders measured at different times (not one interleaved
session: their session.json files differ) stay comparable, but every verdict between them
is confounded by drift ("confounded": true, and the note says so on slower/faster rows).

--run BUILD_A BUILD_B [MATRIX] measures first: bench/run --ab runs the matrix's ipclab
lines with both builds alternately, launch by launch (A B, B A, ...), each line at least
--launches times per build (a --repeat R line as R launches of --repeat 1), into
results/<UTC>-ab/{A,B}; then compares those two folders by their launches and writes
compare.json there. BUILD: a build directory (BUILD/bin/ipclab) or a checkout built with
make (its build/bin/ipclab); to compare two commits, check each out (git worktree add)
and make. MATRIX: a matrix file, quick or full (default quick).

Output: a table (ID, metric, method, A p50, B p50, change, CI, verdict, note: why a row
has no verdict, or a caution), the methods used, and notes (runs in one folder only,
params that differ, metrics in one run only). --json: the same, one object per row
("ipclab-compare/1": id, metric, kind, better, method, a, b, change_pct, ci_pct [lo, hi]
or null, estimate_pct, p (Mann-Whitney), n_a, n_b, verdict, note, reason, noise_pct,
confounded; and at the top interleaved, drift, noise). Unreadable run
files are skipped with a warning on stderr.

Exit status: 0 compared (whatever the verdicts); 2 usage error, a missing folder, a folder
without runs/, no run ID in both folders, or --json FILE not writable (one line on stderr).
"""

import datetime
import json
import math
import os
import random
import statistics
import sys

from . import hist, metrics, runner, stats
from .cli import ArgumentParser, UsageError, int_type, run
from .fmt import fmt_duration_ns, fmt_rate, fmt_signed_pct, num
from .paths import BENCH, REPO
from .results import read_launches, read_runs_dir, try_json

PROG = "ipclab-compare"
SCHEMA = "ipclab-compare/1"
MIN_HIST_SAMPLES = 30
MIN_REPEATS = 3
INSUFFICIENT = "insufficient data"
METHODS = ("auto", "launches", "bootstrap", "mann-whitney")
MIN_LAUNCHES = 2


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
    # a verdict needs the test and the interval to agree (with ties they can differ a little)
    excludes_zero = row["ci_pct"] is None or row["ci_pct"][0] > 0 or row["ci_pct"][1] < 0
    row["verdict"] = verdict_of(kind, (1 if est > 0 else -1 if est < 0 else 0) if p <= alpha and excludes_zero
                                else 0)


def compare_metric(rid, label, path, kind, va, vb, ctx):
    row = new_row(rid, label, kind, va, vb)
    reasons, shorts = [], []
    want = ctx["method"]
    la, lb = ctx["launches_a"].get((label, kind), []), ctx["launches_b"].get((label, kind), [])
    if want in ("auto", "launches"):
        if len(la) >= MIN_LAUNCHES and len(lb) >= MIN_LAUNCHES:
            # A and B: the medians over the launches, not one launch's value
            row["a"], row["b"] = statistics.median(la), statistics.median(lb)
            row["change_pct"] = 100.0 * (row["b"] / row["a"] - 1.0) if row["a"] else None
            rank_test(row, kind, la, lb, ctx["alpha"], "launches")
            return row
        if want == "launches":
            row["reason"] = "launches: %d in A, %d in B (need %d each: an interleaved session, bench/run --ab)" % (
                len(la), len(lb), MIN_LAUNCHES)
            row["note"] = "%d+%d launches" % (len(la), len(lb))
            return row
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


def launch_values(docs):
    """{(label, kind): [the metric's value in each launch]} of the launch documents of a run."""
    out = {}
    for doc in docs:
        res = doc.get("results")
        if not isinstance(res, dict):
            continue
        for lab, _path, kind, v in metrics.walk(res):
            x = metrics.value_of(kind, v)
            if num(x):
                out.setdefault((lab, kind), []).append(float(x))
    return out


def session_of(folder):
    """(session id, side) of a folder written by an interleaved A/B session, else (None, None)."""
    doc, _err = try_json(os.path.join(folder, "session.json"))
    if isinstance(doc, dict) and isinstance(doc.get("session"), str) and doc.get("side") in ("A", "B"):
        return doc["session"], doc["side"]
    return None, None


def noise_of(doc):
    """{(id, metric): noise %} of an A/A comparison (compare JSON): how far the same build
    moved between two interleaved measurements, the larger of its median change and its
    Hodges-Lehmann shift."""
    out = {}
    for r in doc.get("rows") or []:
        moved = [abs(r[k]) for k in ("estimate_pct", "change_pct") if num(r.get(k))]
        if moved:
            out[(r.get("id"), r.get("metric"))] = max(moved)
    return out


def find_noise(opt, a_dir, b_dir):
    """(path, {(id, metric): noise %}) of the A/A noise to apply: --noise FILE, none with
    --noise none, else aa.json in B, in A, or beside them (make bench writes it)."""
    if opt == "none":
        return None, {}
    cands = [opt] if opt else [os.path.join(d, "aa.json") for d in (b_dir, a_dir, os.path.dirname(os.path.abspath(b_dir)))]
    for c in cands:
        doc, err = try_json(c)
        if isinstance(doc, dict) and str(doc.get("schema", "")).startswith("ipclab-compare/"):
            return c, noise_of(doc)
        if opt:
            raise UsageError("--noise %s: not an A/A comparison (%s)" % (opt, err or "no ipclab-compare schema"))
    return None, {}


def judge(row, noise, interleaved):
    """The last word on a row: a change within the measured A/A noise is no change; a
    verdict between two folders measured at different times is labelled confounded."""
    row["noise_pct"] = noise.get((row["id"], row["metric"]))
    row["confounded"] = not interleaved
    effect = row["estimate_pct"] if num(row["estimate_pct"]) else row["change_pct"]
    if row["verdict"] in ("slower", "faster") and num(row["noise_pct"]) and num(effect) \
            and abs(effect) <= row["noise_pct"]:
        row["reason"] = ("%s by %+.1f %%, within the A/A noise of this row (the same build moved by up to "
                         "%.1f %%)" % (row["verdict"], effect, row["noise_pct"]))
        row["note"] = ", ".join(x for x in (row["note"], "within A/A noise \u00b1%.1f%%" % row["noise_pct"]) if x)
        row["verdict"] = "no change"
    if row["verdict"] in ("slower", "faster") and not interleaved:
        row["note"] = ", ".join(x for x in (row["note"], "confounded by drift") if x)


def false_alarms(rep, goal=0.05):
    """The A/A verdict of a comparison of a build with itself: how many rows it judged (a
    verdict other than insufficient data) and how many of those it called slower or faster."""
    judged = [r for r in rep["rows"] if r["verdict"] != INSUFFICIENT]
    alarms = [r for r in judged if r["verdict"] in ("slower", "faster")]
    rate = len(alarms) / len(judged) if judged else None
    return {"rows": len(rep["rows"]), "judged": len(judged), "false_alarms": len(alarms), "rate": rate,
            "goal": goal, "met": rate is not None and rate <= goal,
            "alarms": [{"id": r["id"], "metric": r["metric"], "verdict": r["verdict"], "change_pct": r["change_pct"],
                        "ci_pct": r["ci_pct"], "p": r["p"]} for r in alarms]}


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
    (sa, side_a), (sb, side_b) = session_of(a_dir), session_of(b_dir)
    interleaved = sa is not None and sa == sb and side_a != side_b
    noise_path, noise = find_noise(opts.get("noise"), a_dir, b_dir)
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
                   has_hist_a=os.path.exists(ha_path), has_hist_b=os.path.exists(hb_path),
                   launches_a=launch_values(read_launches(a_dir, rid)),
                   launches_b=launch_values(read_launches(b_dir, rid)))
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
            row = compare_metric(rid, lab, path, kind, va, vb, ctx)
            judge(row, noise, interleaved)
            rows.append(row)
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
        "interleaved": interleaved,
        "drift": ("A and B were measured in one interleaved session (%s): drift hit both alike" % sa if interleaved
                  else "A and B were measured at different times: machine drift between them hits one side only, "
                       "so every verdict is confounded by drift (for one that is not, run both builds "
                       "interleaved: scripts/ipclab-compare --run BUILD_A BUILD_B)"),
        "noise": noise_path,
        "noise_rows": len(noise),
        "methods": {
            "launches": "per-launch values of an interleaved session (each launch a separate process), two-sided "
                        "Mann-Whitney U test (verdict when p <= alpha), Hodges-Lehmann CI of the ratio B/A",
            "bootstrap": "median resampled from both histograms (%d resamples, seed %s); "
                         "percentile CI of B/A - 1; verdict when the CI excludes 0" % (opts["resamples"], opts["seed"]),
            "mann-whitney": "per-repeat values, two-sided Mann-Whitney U test (verdict when p <= alpha and the interval excludes 0), "
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
    out.write("A: %s (%d runs)\nB: %s (%d runs)\n%d runs in both\n%s\n%s\n\n"
              % (rep["a"], rep["runs_a"], rep["b"], rep["runs_b"], len(rep["common"]), rep["drift"],
                 "A/A noise: %s (%d rows): a change within it is no change" % (rep["noise"], rep["noise_rows"])
                 if rep["noise"] else "A/A noise: none measured (make bench writes aa.json)"))
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
                       "[--resamples N] [--seed S] [--noise FILE|none]\n       %(prog)s --run BUILD_A BUILD_B "
                       "[MATRIX] [--launches N] [--only PATTERN] [--out DIR] [options]",
                       description=doc.split("\nExit status")[0], epilog="Exit status" + doc.split("\nExit status")[1])
    p.add_argument("folders", nargs="*", metavar="A B", help="two results folders: A measured first (the baseline), "
                   "B judged against it; with --run: two builds and a matrix")
    p.add_argument("--json", metavar="FILE", help="also write the comparison as JSON to FILE ('-': to standard "
                   "output, instead of the table)")
    p.add_argument("--alpha", type=alpha_type, default=0.05, help="significance level, 0 < A < 0.5 (default "
                   "0.05: 95 %% intervals)")
    p.add_argument("--method", choices=METHODS, default="auto", help="auto (default), launches, bootstrap or "
                   "mann-whitney (only that method; rows without its data get \"insufficient data\")")
    p.add_argument("--resamples", type=int_type("--resamples", 100, 1000000), default=1000,
                   help="bootstrap resamples (default 1000, 100..1000000)")
    p.add_argument("--seed", type=seed_type, default=1, help="bootstrap seed (default 1)")
    p.add_argument("--noise", metavar="FILE", help="the A/A comparison whose per-row change is the noise floor "
                   "(default: aa.json in B, in A or beside them, if any; 'none': no floor)")
    p.add_argument("--run", action="store_true", help="measure first: an interleaved A/B session of the two "
                   "builds (bench/run --ab BUILD_A BUILD_B; MATRIX: a matrix file, quick or full; default quick) "
                   "into --out DIR, then compare DIR/A and DIR/B by their launches")
    p.add_argument("--launches", type=int_type("--launches", 2, 1000), default=5, help="with --run: launches per "
                   "side and line, at least (default 5)")
    p.add_argument("--only", metavar="PATTERN", help="with --run: only the matrix lines matching these globs")
    p.add_argument("--out", metavar="DIR", help="with --run: the session folder (default results/<UTC>-ab)")
    return p


def run_session(args):
    """--run: the interleaved A/B session, then its folders compared; returns (A, B) or the
    runner's exit status when it was interrupted."""
    if not 2 <= len(args.folders) <= 3:
        raise UsageError("--run needs BUILD_A BUILD_B [MATRIX], got %d arguments (try --help)" % len(args.folders))
    m = args.folders[2] if len(args.folders) == 3 else "quick"
    if m in ("quick", "full"):
        m = os.path.join(BENCH, m + ".matrix")
    out = args.out or os.path.join(REPO, "results", datetime.datetime.now(datetime.timezone.utc)
                                   .strftime("%Y%m%dT%H%M%SZ") + "-ab")
    argv = ["--ab", args.folders[0], args.folders[1], "--matrix", m, "--out", out, "--launches", str(args.launches)]
    if args.only:
        argv += ["--only", args.only]
    rc = runner.main(argv)
    if rc is not None and rc >= 128:
        return rc
    if rc:
        sys.stderr.write("%s: warning: some launches failed (%s/matrix.json); their rows have fewer launches\n"
                         % (PROG, out))
    if not args.json:
        args.json = os.path.join(out, "compare.json")
    return os.path.join(out, "A"), os.path.join(out, "B")


def main(argv):
    args = parser().parse_args(argv)
    if args.json == "":
        raise UsageError("--json needs a file name ('-' for standard output)")
    if args.run:
        ab = run_session(args)
        if isinstance(ab, int):
            return ab
        a, b = ab
    elif len(args.folders) != 2:
        raise UsageError("need two results folders A and B, got %d (try --help)" % len(args.folders))
    else:
        a, b = args.folders
    opts = {"alpha": args.alpha, "method": args.method, "resamples": args.resamples, "seed": args.seed,
            "noise": args.noise}
    rep = compare(a, b, opts)
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
