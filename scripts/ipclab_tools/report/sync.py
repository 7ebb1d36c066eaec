"""sync.py - the synchronisation section: lost updates without a lock, throughput per
lock kind, counting-semaphore occupancy over time, Event wake-up latency, lock hand-off
latency and the GIL speed-up curves."""

from .figures import log_or_linear, write_bars, write_blocks, write_tsv
from .page import check_cell, esc, n, rsd_cell
from ..fmt import fmt_g, fmt_pct, fmt_us, num, us

AREA = "sync"
KINDS = ["none", "atomic", "mutex", "spin", "sem", "flock"]
MODES = ["thread", "process"]


def race_part(ctx, pg):
    runs = ctx.res.find("sync race")
    if not runs:
        return
    rows = []
    for rid, doc in runs:
        p, r = doc.get("params") or {}, doc.get("results") or {}
        fair = r.get("fairness") or {}
        rows.append({"id": rid, "sync": p.get("sync"), "mode": p.get("mode"), "workers": p.get("workers"),
                     "delay": p.get("delay"), "increments": p.get("increments"), "expected": r.get("expected"),
                     "actual": r.get("actual"), "lost_updates": r.get("lost_updates"),
                     "lost_fraction": r.get("lost_fraction"), "ops_per_s": r.get("ops_per_s"),
                     "ns_per_increment": r.get("ns_per_increment"), "jain": fair.get("jain"),
                     "impl": (r.get("lock") or {}).get("impl"), "exit_code": doc.get("exit_code")})
    write_tsv(ctx.tsv("sync_race.tsv"), [k for k in rows[0]], rows,
              "sync race: W workers x N increments of one shared counter, per lock kind")
    # lost updates vs workers, one line per (delay, mode), --sync none
    pg.h(3, "Lost updates without a lock", "sync-race")
    none = [r for r in rows if r["sync"] == "none" and num(r["lost_fraction"])]
    by = {}
    for r in none:
        by.setdefault((r["delay"], r["mode"], r["increments"]), {})[r["workers"]] = r
    sweep = {k: v for k, v in by.items() if len(v) > 1}
    if sweep:
        series = []
        for (delay, mode, inc), pts in sorted(sweep.items(), key=lambda kv: (str(kv[0][1]), kv[0][0] or 0)):
            series.append(("delay %s, %s" % (delay, {"process": "processes", "thread": "threads"}.get(mode, mode)),
                           [(w, 100.0 * pts[w]["lost_fraction"]) for w in sorted(pts)]))
        tsv = ctx.tsv("sync_race_lost_fig.tsv")
        write_blocks(tsv, series, "figure: lost updates (%% of W x N) vs workers W, one block per delay")
        inc = sorted({k[2] for k in sweep})
        ctx.figure(pg, "lines.gp", tsv, "sync_race_lost",
                   "Lost updates without a lock: %s increments per worker" % "/".join(fmt_g(i) for i in inc),
                   "Share of increments lost (read, delay, write without a lock) vs number of workers, per "
                   "busy-loop delay between the read and the write",
                   "workers (log scale)", "lost updates (% of all increments)", "logx,points,key-left,ymin0")
        swept = [r for pts in sweep.values() for r in pts.values()]
        body = [[n(r["workers"], str), n(r["delay"], str), esc(r["mode"]), n(r["increments"], fmt_g),
                 n(r["expected"], fmt_g), n(r["actual"], fmt_g), n(r["lost_updates"], fmt_g),
                 n(r["lost_fraction"], fmt_pct), n(r["ns_per_increment"], lambda v: "%.1f" % v), esc(r["id"])]
                for r in sorted(swept, key=lambda r: (r["delay"] or 0, str(r["mode"]), r["workers"] or 0))]
        pg.table(["workers", "delay", "mode", "increments each", "expected", "counter", "lost", "lost %",
                  "ns / increment", "run"], body)
        pg.p("With one worker nothing is lost; with several, an increment is lost whenever two workers' "
             "read-modify-write sequences overlap. The delay (busy-loop iterations between the read and the "
             "write) widens the window. On 2 shared CPUs the workers overlap only when both get a CPU at once, "
             "so the counts move from run to run.", "note")
    # throughput per lock kind
    pg.h(3, "Throughput per lock kind, thread vs process", "sync-locks")
    # 2 workers, no delay; where --sync none also ran in the sweep, the run with the
    # increments the lock kinds used
    incs = [r["increments"] for r in rows if r["sync"] != "none"]
    common_inc = max(set(incs), key=incs.count) if incs else None
    sel = {}
    for r in rows:
        if r["workers"] == 2 and (r["delay"] or 0) == 0:
            k = (r["sync"], r["mode"])
            if k not in sel or r["increments"] == common_inc:
                sel[k] = r
    names = [k for k in KINDS if any((k, m) in sel for m in MODES)]
    if names:
        groups = [(k, [(sel[(k, m)]["ops_per_s"] / 1e6 if (k, m) in sel and num(sel[(k, m)]["ops_per_s"]) else None, None)
                        for m in MODES])
                  for k in names]
        tsv = ctx.tsv("sync_race_kinds_fig.tsv")
        nw = write_bars(tsv, [("threads", None), ("processes", None)], groups,
                   "figure: increments per second (millions) per lock kind, 2 workers, threads vs processes")
        vals = [v for _g, vs in groups for v, _h in vs]
        scale = log_or_linear(vals)
        ctx.figure(pg, "bars.gp", tsv, "sync_race_kinds",
                   "Shared-counter increments per second by lock kind, 2 workers",
                   "Increments per second (all workers together) by how the increment is protected",
                   "million increments / s%s" % (", log scale" if scale.startswith("logy") else ""), scale + ",values" + nw)
        body = []
        for k in names:
            for m in MODES:
                r = sel.get((k, m))
                if r:
                    body.append([esc(k), esc(r["impl"]), esc(m), n(r["ops_per_s"], lambda v: fmt_g(v / 1e6)),
                                 n(r["ns_per_increment"], lambda v: "%.1f" % v), n(r["lost_updates"], fmt_g),
                                 n(r["jain"], lambda v: "%.2f" % v), esc(r["id"])])
        pg.table(["lock", "implementation", "mode", "M increments/s", "ns / increment", "lost", "Jain fairness",
                  "run"], body)
        pg.p("Without a lock the counter is fast and wrong; every lock keeps it exact. <i>Jain fairness</i> "
             "(1 = all workers equally far when the first finished) shows how a lock hands the CPU around.",
             "note")


def semaphore_part(ctx, pg):
    runs = ctx.res.find("sync semaphore")
    if not ctx.part(pg, "Counting semaphore: who is inside, over time", "sync-semaphore", runs):
        return
    series, rows = [], []
    permits = None
    for rid, doc in runs:
        p, r = doc.get("params") or {}, doc.get("results") or {}
        ser = r.get("series") or {}
        pts = [x for x in ser.get("points") or [] if isinstance(x, list) and len(x) >= 3]
        tag = "semaphore" if p.get("sync") == "sem" else "no semaphore"
        if pts:
            series.append(("workers inside (%s)" % tag, [(x[0] / 1e6, x[2]) for x in pts]))
            if p.get("sync") == "sem" and any(num(x[1]) for x in pts):
                series.append(("sem_getvalue()", [(x[0] / 1e6, x[1]) for x in pts if num(x[1])]))
        permits = permits or p.get("permits")
        w = r.get("wait") or {}
        rows.append({"id": rid, "sync": p.get("sync"), "mode": p.get("mode"), "permits": p.get("permits"),
                     "workers": p.get("workers"), "rounds": p.get("rounds"), "hold_us": p.get("hold_us"),
                     "max_inside": r.get("max_inside"), "bound_exceeded": r.get("bound_exceeded"),
                     "wait_p50_ns": w.get("p50"), "wait_p99_ns": w.get("p99"), "wall_ns": r.get("wall_ns"),
                     "samples": ser.get("samples"), "period_ns": ser.get("period_ns")})
    if series and permits:
        tmax = max(pt[0] for _t, pts in series for pt in pts)
        series.append(("permits K = %s" % permits, [(0, permits), (tmax, permits)]))
    tsv = ctx.tsv("sync_semaphore_fig.tsv")
    write_blocks(tsv, series, "figure: workers inside the guarded region and sem_getvalue() vs time (ms)")
    write_tsv(ctx.tsv("sync_semaphore.tsv"), list(rows[0]), rows, "sync semaphore: one row per run")
    ctx.figure(pg, "lines.gp", tsv, "sync_semaphore",
               "Workers inside a region guarded by a counting semaphore (K = %s) vs unguarded" % permits,
               "Occupancy sampled every %s µs: with the semaphore at most K workers are inside; without it all are"
               % fmt_g(us(rows[0]["period_ns"])),
               "time since start (ms)", "workers inside / semaphore value", "steps,dash-last,ymin0,yint")
    body = [[esc(r["sync"]), esc(r["mode"]), n(r["permits"], str), n(r["workers"], str), n(r["hold_us"], str),
             n(r["max_inside"], str),
             ('<span class="flag">yes</span>', "") if r["bound_exceeded"] else ("no", ""),
             n(r["wait_p50_ns"], fmt_us), n(r["wait_p99_ns"], fmt_us), esc(r["id"])] for r in rows]
    pg.table(["sync", "mode", "permits K", "workers", "hold (µs)", "max inside", "bound exceeded",
              "wait p50 (µs)", "wait p99 (µs)", "run"], body)


def event_part(ctx, pg):
    runs = ctx.res.find("sync event")
    if not ctx.part(pg, "Event: set → wake latency by implementation", "sync-event", runs):
        return
    rows = {}
    for rid, doc in runs:
        p, r = doc.get("params") or {}, doc.get("results") or {}
        wl = r.get("wake_latency") or {}
        tw = (r.get("timed_wait") or {}).get("lateness") or {}
        checks = r.get("checks") or {}
        rows[(p.get("impl"), p.get("mode"))] = {
            "id": rid, "impl": p.get("impl"), "mode": p.get("mode"), "how": (r.get("impl") or {}).get("how"),
            "wake_p50_ns": wl.get("p50"), "wake_p99_ns": wl.get("p99"), "wake_mean_ns": wl.get("mean"),
            "timed_late_p50_ns": tw.get("p50"), "timed_late_max_ns": tw.get("max"),
            "asleep": (r.get("waiter_asleep") or {}).get("asleep_before_set"), "rounds": r.get("rounds"),
            "checks_pass": all(v is True for v in checks.values()) if checks else None,
            "repeat": p.get("repeat"), "rsd_p50": r.get("repeat_rel_stddev_p50")}
        ctx.flag_noisy("sync", rid, "event set→wake p50, %s, %s" % (p.get("impl"), p.get("mode")),
                       r.get("repeat_rel_stddev_p50"))
    impls = []
    for k in rows:
        if k[0] not in impls:
            impls.append(k[0])
    modes = [m for m in ("process", "thread") if any((i, m) in rows for i in impls)]
    groups = [(i, [(us(rows[(i, m)]["wake_p50_ns"]), us(rows[(i, m)]["wake_p99_ns"])) if (i, m) in rows else (None, None)
                   for m in modes]) for i in impls]
    tsv = ctx.tsv("sync_event_fig.tsv")
    write_bars(tsv, [("%s p50" % m, "whiskers: p50 to p99" if j == 0 else None) for j, m in enumerate(modes)], groups,
               "figure: Event set() -> waiter awake latency (µs), p50 and p99")
    write_tsv(ctx.tsv("sync_event.tsv"), list(next(iter(rows.values()))), list(rows.values()),
              "sync event: one row per implementation and mode")
    allv = [v for _g, vals in groups for pair in vals for v in pair]
    scale = log_or_linear(allv)
    ctx.figure(pg, "bars.gp", tsv, "sync_event", "Event wake-up latency: set() to the waiter running, p50 (whisker to p99)",
               "Wake-up latency of a waiter blocked on the Event, by implementation, process vs thread",
               "set → wake (µs%s)" % (", log scale" if scale.startswith("logy") else ""), scale)
    body = [[esc(r["impl"]), esc(r["how"]), esc(r["mode"]), n(r["wake_p50_ns"], fmt_us), n(r["wake_p99_ns"], fmt_us),
             n(r["wake_mean_ns"], fmt_us), n(r["timed_late_p50_ns"], fmt_us), n(r["timed_late_max_ns"], fmt_us),
             n(r["asleep"], str), check_cell(r["checks_pass"]), n(r["repeat"], str), rsd_cell(r["rsd_p50"]),
             esc(r["id"])] for r in rows.values()]
    pg.table(["impl", "how", "mode", "wake p50 (µs)", "p99", "mean", "timed wait late p50", "max",
              "waiter asleep at set()", "semantics", "repeats", "p50 spread", "run"], body)


def handoff_part(ctx, pg):
    runs = ctx.res.find("sync handoff")
    if not ctx.part(pg, "Lock hand-off between two peers on one CPU", "sync-handoff", runs):
        return
    rows = {}
    for rid, doc in runs:
        p, r = doc.get("params") or {}, doc.get("results") or {}
        ow, rtt = r.get("oneway") or {}, r.get("rtt") or {}
        rows[(p.get("lock"), p.get("mode"), p.get("placement"))] = {
            "id": rid, "lock": p.get("lock"), "mode": p.get("mode"), "placement": p.get("placement"),
            "impl": (r.get("lock") or {}).get("impl"), "ow_p50_ns": ow.get("p50"), "ow_p99_ns": ow.get("p99"),
            "ow_mean_ns": ow.get("mean"), "rtt_p50_ns": rtt.get("p50"), "rtt_mean_ns": rtt.get("mean"),
            "repeat": p.get("repeat"), "rsd_p50": r.get("repeat_rel_stddev_p50")}
        ctx.flag_noisy("sync", rid, "hand-off round trip p50, %s, %s" % (p.get("lock"), p.get("mode")),
                       r.get("repeat_rel_stddev_p50"))
    locks, places = [], []
    for k in rows:
        if k[0] not in locks:
            locks.append(k[0])
        if k[2] not in places:
            places.append(k[2])
    series = [(m, pl) for pl in places for m in ("process", "thread") if any((lk, m, pl) in rows for lk in locks)]
    groups = [(lk, [(us(rows[(lk,) + s]["ow_p50_ns"]), us(rows[(lk,) + s]["ow_p99_ns"])) if (lk,) + s in rows
                    else (None, None) for s in series]) for lk in locks]
    tsv = ctx.tsv("sync_handoff_fig.tsv")
    pname = {"same-cpu": "same CPU", "cross-cpu": "cross-CPU"}
    write_bars(tsv, [("%s, %s p50" % (s[0], pname.get(s[1], s[1] or "unpinned")), "whiskers: p50 to p99" if j == 0 else None)
                     for j, s in enumerate(series)],
               groups, "figure: lock hand-off one-way latency (µs), p50 and p99")
    write_tsv(ctx.tsv("sync_handoff.tsv"), list(next(iter(rows.values()))), list(rows.values()),
              "sync handoff: one row per lock kind, mode and placement (ns)")
    allv = [v for _g, vals in groups for pair in vals for v in pair]
    scale = log_or_linear(allv)
    ctx.figure(pg, "bars.gp", tsv, "sync_handoff", "Lock hand-off: unlock by one peer to lock returning in the other",
               "One-way hand-off latency by lock kind (ptsematest/svsematest style), p50 bars with whiskers to p99",
               "one-way (µs%s)" % (", log scale" if scale.startswith("logy") else ""), scale)
    body = [[esc(r["lock"]), esc(r["impl"]), esc(r["mode"]), esc(r["placement"]), n(r["ow_p50_ns"], fmt_us),
             n(r["ow_p99_ns"], fmt_us), n(r["ow_mean_ns"], fmt_us), n(r["rtt_p50_ns"], fmt_us),
             n(r["repeat"], str), rsd_cell(r["rsd_p50"]), esc(r["id"])]
            for r in rows.values()]
    pg.table(["lock", "implementation", "mode", "placement", "one-way p50 (µs)", "p99", "mean", "round trip p50",
              "repeats", "p50 spread", "run"], body)


def gil_part(ctx, pg):
    runs = ctx.res.find("sync gil")
    if not ctx.part(pg, "The GIL: speed-up with more workers", "sync-gil", runs):
        return
    by = {}
    for rid, doc in runs:
        p, r = doc.get("params") or {}, doc.get("results") or {}
        by.setdefault(p.get("workload"), []).append((rid, p, r))
    rows = []
    for wl in sorted(by, key=lambda w: (w != "cpu", w)):
        series, ideal = [], None
        for rid, p, r in by[wl]:
            pts = [pt for pt in r.get("points") or [] if num(pt.get("speedup"))]
            series.append((p.get("model"), [(pt["workers"], pt["speedup"]) for pt in pts]))
            if p.get("model") != "gil" and pts and ideal is None:
                ideal = [(pt["workers"], pt.get("ideal_speedup")) for pt in pts]
            for pt in pts:
                rows.append({"id": rid, "workload": wl, "model": p.get("model"), "workers": pt["workers"],
                             "speedup": pt["speedup"], "ideal_speedup": pt.get("ideal_speedup"),
                             "efficiency": pt.get("efficiency"), "cpu_per_wall": pt.get("cpu_per_wall"),
                             "wall_ns": pt.get("wall_ns"), "gil_switches": pt.get("gil_switches"),
                             "rsd": pt.get("repeat_rel_stddev"),
                             "expected": (r.get("shape") or {}).get("expected")})
        if ideal:
            ncpu = by[wl][0][2].get("nproc_online")
            series.append(("ideal without a GIL" + (": min(workers, %s CPUs)" % ncpu if wl == "cpu" else ": workers"),
                           ideal))
        tsv = ctx.tsv("sync_gil_%s_fig.tsv" % wl)
        write_blocks(tsv, series, "figure: speed-up (wall time of 1 worker / wall time of W) vs workers, %s work" % wl)
        p0 = by[wl][0][1]
        ctx.figure(pg, "lines.gp", tsv, "sync_gil_%s" % wl,
                   "GIL speed-up, %s-bound work (%s ms split among the workers)" % (wl, p0.get("work_ms")),
                   "Speed-up of a fixed amount of %s work split among 1..%s workers: threads, threads under one "
                   "global lock (a GIL), processes; dashed: the ideal" % (
                       "CPU" if wl == "cpu" else "blocking I/O-like", p0.get("workers")),
                   "workers", "speed-up (× one worker)", "points,dash-last,key-bottom,ymin0,xint")
    write_tsv(ctx.tsv("sync_gil.tsv"), list(rows[0]), rows, "sync gil: speed-up per workload, model and worker count")
    body = []
    for wl in by:
        for rid, p, r in by[wl]:
            sh = r.get("shape") or {}
            pts = {pt["workers"]: pt for pt in r.get("points") or []}
            body.append([esc(wl), esc(p.get("model")),
                         esc(", ".join("%s: %.2f" % (w, pts[w]["speedup"]) for w in sorted(pts) if num(pts[w].get("speedup")))),
                         n(sh.get("speedup_at_max"), lambda v: "%.2f" % v), n(sh.get("ideal_at_max"), str),
                         n(sh.get("fraction_of_ideal"), fmt_pct), esc(sh.get("expected")), esc(rid)])
    pg.table(["work", "model", "speed-up by workers", "at max", "ideal at max", "of ideal", "expected shape", "run"],
             body)
    pg.p("CPU work: threads without a GIL and processes can at best use the online CPUs; threads under one "
         "global lock stay near 1× whatever their number. I/O-like work (blocking waits, the lock released "
         "around them) overlaps for every model. On this shared machine the second CPU is often busy, which "
         "caps the CPU-bound curves below the ideal.", "note")


def section(ctx, pg):
    race_part(ctx, pg)
    semaphore_part(ctx, pg)
    event_part(ctx, pg)
    handoff_part(ctx, pg)
    gil_part(ctx, pg)
    if len(pg.parts) == 1:  # the heading only
        pg.p("No <code>sync</code> runs in this directory.", "note")
    return True

