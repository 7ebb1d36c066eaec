"""refs.py - the references section: rt-tests (sigwaittest, pmqtest, svsematest,
ptsematest) and perf bench sched pipe, each run interleaved with the ipclab run it is
set against, as ratios of means."""

import statistics

from .. import placement
from .figures import write_tsv
from .page import esc, n
from .thresholds import REF_TOLERANCE, RT_TOLERANCE
from ..fmt import fmt_pct, fmt_us, num
from ..stats import ratio
from ..refpairs import oneway_mean


def ipclab_oneway(doc):
    """(mean, p50, min) one-way ns of an ipclab run, whatever the experiment."""
    r = doc.get("results") or {}
    if doc.get("experiment") == "ipc latency":
        ab = r.get("oneway_ab") or {}
        mins = [x.get("min") for x in (r.get("oneway_ab") or {}, r.get("oneway_ba") or {}) if num(x.get("min"))]
        return oneway_mean(r), ab.get("p50"), min(mins) if mins else None
    ow = r.get("oneway") or {}
    return ow.get("mean"), ow.get("p50"), ow.get("min")


def rt_rows(ctx):
    rows = []
    for rid in ctx.res.order():
        doc = ctx.res.runs.get((rid, "reference"))
        if not doc or not str(doc.get("schema", "")).startswith("ipclab-rt-ref/"):
            continue
        p, r = doc.get("params") or {}, doc.get("results") or {}
        targets = [t for t in str(p.get("compare") or "").split(",") if t]
        for t in targets:
            ours = ctx.res.runs.get((t, "untraced"))
            mean = p50 = mn = None
            op = {}
            if ours:
                mean, p50, mn = ipclab_oneway(ours)
                op = ours.get("params") or {}
            rt_mean = r.get("oneway_mean_ns")
            rr = ratio(mean, rt_mean)
            same_pl = (op.get("placement") == p.get("placement")) if ours else None
            rows.append({
                "id": rid, "tool": p.get("tool"), "mode": p.get("mode"), "placement": p.get("placement"),
                "placement_note": p.get("placement_note"), "loops": p.get("loops"), "repeat": p.get("repeat"),
                "interval_us": p.get("interval_us"), "rt_mean_ns": rt_mean, "rt_min_ns": r.get("oneway_min_ns"),
                "rt_max_ns": r.get("oneway_max_ns"), "rt_rsd": r.get("repeat_rel_stddev_mean"),
                "rt_what": r.get("what"), "ipclab_id": t, "ipclab_experiment": ours.get("experiment") if ours else None,
                "ipclab_what": describe(ours) if ours else None,
                "ipclab_mode": op.get("mode"), "ipclab_placement": placement.short(op) if ours else None,
                "ipclab_mean_ns": mean, "ipclab_p50_ns": p50, "ipclab_min_ns": mn,
                "ipclab_rsd": (ours.get("results") or {}).get("repeat_rel_stddev_mean") if ours else None,
                "ratio_mean": rr, "outside": num(rr) and abs(rr - 1) > RT_TOLERANCE,
                "same_placement": same_pl, "same_mode": (op.get("mode") == p.get("mode")) if ours else None,
                "status": ctx.status_note(t) if not ours else "",
                "paired": t in (doc.get("ratios") or {})})
    return rows


def describe(doc):
    p = doc.get("params") or {}
    e = doc.get("experiment")
    if e == "signal latency":
        return "signal latency --method %s (%s signals)" % (p.get("method"), p.get("signal"))
    if e == "ipc latency":
        return "ipc latency --transport %s (%s B)" % (p.get("transport"), p.get("size"))
    if e == "sync handoff":
        return "sync handoff --lock %s" % p.get("lock")
    return e


def rt_part(ctx, pg):
    pg.h(3, "rt-tests", "ref-rt")
    rows = rt_rows(ctx)
    if not rows:
        pg.p("No rt-tests reference runs (rt-tests not installed, or filtered out).", "note")
        return
    write_tsv(ctx.tsv("ref_rt.tsv"),
              ["id", "tool", "mode", "placement", "loops", "repeat", "interval_us", "rt_mean_ns", "rt_min_ns", "rt_max_ns",
               "rt_rsd", "ipclab_id", "ipclab_mode", "ipclab_placement", "ipclab_mean_ns", "ipclab_p50_ns",
               "ipclab_min_ns", "ratio_mean", "outside"], rows,
              "rt-tests references: one-way mean of the tool (whole µs per sample) vs the ipclab run it is set\n"
              "against; ratio_mean = ipclab one-way mean / tool mean; outside = beyond 1 +- %g" % RT_TOLERANCE)
    pg.p("Each rt-tests tool runs right after the ipclab run it is compared with (same placement: <code>-a 0</code> "
         "pins both of its peers to CPU 0, like <code>--cpu 0</code>; <code>-f</code> forks processes), "
         "<code>-i 0</code> so that it ping-pongs back to back as ipclab does (by default it sleeps 1 ms between "
         "samples, which lets the CPU idle and adds wake-up latency), a few thousand loops, repeated. Both sides "
         "report a <b>one-way</b> latency: the sender's timestamp before the call to the receiver's after it "
         "returns. The tools read <code>gettimeofday</code> and keep <b>whole microseconds</b> per sample "
         "(their min and max are quantised to 1 µs; a mean over thousands of samples is not); ipclab reads "
         "CLOCK_MONOTONIC in ns. Ratio = ipclab mean / tool mean, flagged outside 1 ± %s. The tools report no "
         "median, so the means are compared, tails included: on this shared machine a few preemptions of a "
         "millisecond or more (see the tool's max) move a mean by more than 10 %%, hence the repeats and their "
         "spread." % fmt_pct(RT_TOLERANCE, 0), "note")
    body, cls = [], []
    for r in rows:
        verdict = ("judged pair by pair, above" if r["paired"] else
                   '<span class="flag">outside ±%s</span>' % fmt_pct(RT_TOLERANCE, 0) if r["outside"]
                   else "within ±%s" % fmt_pct(RT_TOLERANCE, 0) if num(r["ratio_mean"])
                   else '<span class="flag">no pair%s</span>' % (": " + esc(r["status"]) if r["status"] else ""))
        notes = []
        if r["same_placement"] is False:
            notes.append("placement differs")
        if r["same_mode"] is False:
            notes.append("mode differs")
        body.append([esc(r["id"]), esc(r["tool"]), esc(r["mode"]), esc(r["placement_note"]),
                     n(r["rt_mean_ns"], fmt_us), ("%s / %s" % (fmt_us(r["rt_min_ns"]), fmt_us(r["rt_max_ns"])), "n"),
                     (fmt_pct(r["rt_rsd"]), "n flag" if num(r["rt_rsd"]) and r["rt_rsd"] > 0.05 else "n"),
                     esc(r["ipclab_what"] or r["ipclab_id"]) + "<br><small>%s</small>" % esc(r["ipclab_id"]),
                     esc("%s, %s" % (r["ipclab_mode"], r["ipclab_placement"])) if r["ipclab_mode"] else "–",
                     n(r["ipclab_mean_ns"], fmt_us), n(r["ipclab_p50_ns"], fmt_us), n(r["ipclab_min_ns"], fmt_us),
                     ("%.3f" % r["ratio_mean"] if num(r["ratio_mean"]) else "–", "n flag" if r["outside"] else "n ok"),
                     verdict + ("; " + esc(", ".join(notes)) if notes else "")])
        cls.append(None)
        if r["rt_rsd"] is not None:
            ctx.flag_noisy("references", r["id"], "%s one-way mean over repeats" % r["tool"], r["rt_rsd"])
        if r["outside"] and not r["paired"]:
            ctx.warn("references", "%s vs %s: ratio of one-way means %.3f, outside 1 ± %s"
                     % (esc(r["tool"]), esc(r["ipclab_id"]), r["ratio_mean"], fmt_pct(RT_TOLERANCE, 0)))
    pg.table(["reference", "tool", "mode", "tool placement", "tool mean (µs)", "tool min / max", "tool rel. stddev",
              "ipclab run", "ipclab mode, placement", "ipclab one-way mean", "p50", "min", "ratio of means",
              "verdict"], body, cls)
    whats = {}
    for r in rows:
        whats.setdefault(r["tool"], r["rt_what"])
    pg.p("What each tool times: " + "; ".join("<b>%s</b>: %s" % (esc(k), esc(v)) for k, v in whats.items()) +
         ". ipclab's transports carry a 16-byte message with a sequence number and timestamp (<code>ipc "
         "latency</code>)" + ("; its shm-sysv-sem transport is a ring guarded by an empty and a full semaphore "
                               "(a wait and a post per message on each side), so svsematest is also set against "
                               "<code>sync handoff --lock sysvsem</code>, two semaphores handed back and forth as "
                               "svsematest does" if "svsematest" in whats else "") + ".", "note")


def perf_part(ctx, pg, perf):
    pg.h(3, "perf bench sched pipe", "ref-perf")
    pg.p("perf bench reports usecs/op = wall time of the whole run / loops, one loop being one write+read round "
         "trip of a 4-byte message, task creation included, no warm-up. ipclab's mean is over measured round trips "
         "only (16-byte messages, after warm-up). Ratio = ipclab mean / perf mean; outside 1 ± %s is flagged. "
         "Same CPU: both sides pinned to the same CPU. perf bench cannot pin each peer, so its two-CPU runs are "
         "<b>unpinned on the listed CPUs</b> and compared with an unpinned ipclab run. ipclab's own work per round "
         "trip (clock reads, histogram records, sequence checks: <code>results.harness_ns_per_rtt</code>, measured "
         "in the same run) is what its loop adds to perf's."
         % fmt_pct(REF_TOLERANCE, 0), "note")
    if not perf:
        pg.p("No perf bench reference runs (perf not installed, or filtered out).", "note")
        return
    rows = []
    for p in perf:
        rows.append([esc(p["id"]), esc(p["ipclab_id"] or "–"), esc(p["mode"]),
                     esc(p["ipclab_placement"] or "–"), esc(p["placement_note"]),
                     n(p["ipclab_mean_ns"], fmt_us), n(p["ipclab_p50_ns"], fmt_us),
                     n(p["perf_mean_ns"], fmt_us),
                     ("%s" % fmt_pct(p["perf_rsd"]), "n flag" if p["perf_noisy"] else "n"),
                     ("%.3f" % p["ratio_mean"] if num(p["ratio_mean"]) else "–",
                      "n flag" if p["outside"] else "n ok"),
                     n(p["ratio_p50"], lambda v: "%.3f" % v),
                     n(p.get("harness_ns"), lambda v: "%.0f ns" % v),
                     '<span class="flag">outside ±%s</span>' % fmt_pct(REF_TOLERANCE, 0) if p["outside"]
                     else ("within ±%s" % fmt_pct(REF_TOLERANCE, 0) if num(p["ratio_mean"]) else "no pair")])
        if p["perf_noisy"]:
            ctx.flag_noisy("references", p["id"], "perf bench usecs/op over repeats", p["perf_rsd"])
    pg.table(["perf run", "ipclab run", "mode", "ipclab placement", "perf placement",
              "ipclab mean (µs)", "ipclab p50 (µs)", "perf mean (µs)", "perf rel. stddev",
              "ratio of means", "ipclab p50 / perf mean", "ipclab's own work per round trip", "verdict"], rows)
    same = {p["mode"]: p for p in perf if p["pinned"] and num(p["perf_mean_ns"])}
    for p in perf:
        q = same.get(p["mode"])
        if not p["pinned"] and q and num(p["perf_mean_ns"]):
            f = p["perf_mean_ns"] / q["perf_mean_ns"]
            pg.p("perf %s, unpinned on CPUs %s: mean %s µs = %.2f× its pinned same-CPU mean (%s µs)%s"
                 % (esc(p["mode"]), esc(p["cpus"]), fmt_us(p["perf_mean_ns"]), f, fmt_us(q["perf_mean_ns"]),
                    " — the scheduler most likely kept both tasks on one CPU (wake-affine)." if f < 1 + REF_TOLERANCE * 2
                    else "."), "note")
    groups = {}
    for p in perf:
        if num(p["ratio_mean"]):
            groups.setdefault((p["mode"], p["placement"]), []).append(p["ratio_mean"])
    if any(len(v) > 1 for v in groups.values()):
        pg.p("<b>Median ratio over interleaved rounds</b>")
        pg.table(["mode", "placement", "pairs", "median ratio", "min", "max"],
                 [[esc(k[0]), esc(k[1]), n(len(v), str), n(statistics.median(v), lambda x: "%.3f" % x),
                   n(min(v), lambda x: "%.3f" % x), n(max(v), lambda x: "%.3f" % x)]
                  for k, v in sorted(groups.items())])


def pairs_part(ctx, pg):
    """Every reference against the ipclab runs it names, pair by pair (refpairs.py): the
    median ratio of the pairs that ran alike, and a verdict against the goal."""
    rows = []
    for rid, doc in ctx.res.references(""):
        for t, s in (doc.get("ratios") or {}).items():
            pairs = doc.get("pairs") or []
            ours = ctx.res.runs.get((t, "untraced"))
            rows.append({"id": rid, "tool": doc.get("experiment"), "mode": (doc.get("params") or {}).get("mode"),
                         "ipclab_id": t, "ipclab_what": describe(ours) if ours else t,
                         "tool_placement": "/".join(sorted({p["tool"]["placement"] or "not observed" for p in pairs})),
                         "ipclab_placement": "/".join(sorted({(p["ipclab"].get(t) or {}).get("placement") or "–"
                                                               for p in pairs})),
                         "pairs": s.get("pairs"), "matched": s.get("matched"), "median": s.get("median"),
                         "min": s.get("min"), "max": s.get("max"), "median_all": s.get("median_all"),
                         "goal_lo": (s.get("goal") or [None, None])[0], "goal_hi": (s.get("goal") or [None, None])[1],
                         "verdict": s.get("verdict")})
    if not ctx.part(pg, "Ratios, pair by pair", "ref-pairs", rows,
                    "No reference ran in pairs (a results folder from before the pairs, or no reference tool)."):
        return
    write_tsv(ctx.tsv("ref_pairs.tsv"), ["id", "tool", "mode", "ipclab_id", "tool_placement", "ipclab_placement",
                                         "pairs", "matched", "median", "min", "max", "median_all", "goal_lo",
                                         "goal_hi", "verdict"], rows,
              "reference pairs: ipclab mean / tool mean per pair (one launch of each, alternately first);\n"
              "median over the pairs where both ran alike (same CPUs); goal [goal_lo, goal_hi]")
    pg.p("Each reference runs as pairs: one launch of the tool and one of every ipclab run it names, alternately "
         "first, at least 5 pairs. Where each side ran is recorded (ipclab: its peers' CPUs at the start and end of "
         "the run; the tool: sampled from <code>/proc/PID/task/*/stat</code> while it runs, the two tasks seen "
         "running most), and only pairs that ran alike are compared; otherwise the row says <i>different "
         "placement</i>. Ratio = ipclab mean / tool mean (one-way for rt-tests, round trip for perf bench); the "
         "goal is [0.90, 1.10] for rt-tests and [0.95, 1.05] for perf bench sched pipe. "
         "<code>bench/ref-ratios</code> prints these ratios without the rest of the matrix.", "note")
    body, cls = [], []
    for r in rows:
        ok = r["verdict"] == "within"
        body.append([esc(r["id"]), esc(r["tool"]), esc(r["mode"]), esc(r["ipclab_what"]) + "<br><small>%s</small>"
                     % esc(r["ipclab_id"]), esc(r["tool_placement"]), esc(r["ipclab_placement"]),
                     ("%s/%s" % (r["matched"], r["pairs"]), "n"),
                     ("%.3f" % r["median"] if num(r["median"]) else "–", "n ok" if ok else "n flag"),
                     ("%.3f–%.3f" % (r["min"], r["max"]) if num(r["min"]) else "–", "n"),
                     "[%.2f, %.2f]" % (r["goal_lo"], r["goal_hi"]) if num(r["goal_lo"]) else "",
                     ('<span class="ok">within</span>' if ok else '<span class="flag">%s</span>' % esc(r["verdict"]))])
        cls.append(None if ok else "warn")
        if not ok:
            ctx.warn("references", "%s vs %s: %s%s" % (esc(r["id"]), esc(r["ipclab_id"]), esc(r["verdict"]),
                                                      " (median ratio %.3f)" % r["median"] if num(r["median"]) else ""))
    pg.table(["reference", "tool", "mode", "ipclab run", "tool ran on", "ipclab ran on", "pairs alike",
              "median ratio", "range", "goal", "verdict"], body, cls)


def section(ctx, pg):
    perf = ctx.perf
    pairs_part(ctx, pg)
    rt_part(ctx, pg)
    perf_part(ctx, pg, perf)
    return True
