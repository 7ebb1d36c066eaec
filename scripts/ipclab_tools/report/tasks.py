"""tasks.py - the tasks section: creation cost by method (process vs thread), fork cost
vs the creator's resident memory, context switch vs working set, a worker pool vs one
process per task, memory per idle task, isolation checks and the process-vs-thread
summary."""

from .figures import log_or_linear, write_bars, write_blocks, write_tsv
from .page import check_cell, esc, n, rsd_cell, steps_table
from ..fmt import fmt_g, fmt_pct, fmt_us, num, us

AREA = "tasks"
PROCESS_LIKE = {"fork", "vfork", "posix_spawn"}  # a new address space; the others share ours


def spawn_part(ctx, pg):
    runs = [(rid, doc) for rid, doc in ctx.res.find("task spawn") if not (doc.get("params") or {}).get("sweep")]
    if not runs:
        return
    pg.h(3, "Creation cost by method", "task-spawn")
    rows = []
    for rid, doc in runs:
        p, r = doc.get("params") or {}, doc.get("results") or {}
        m = p.get("method")
        label = m + (" (exec ipclab)" if p.get("exec") == "self" else " (exec nop)" if m == "posix_spawn" else "")
        label += " + %d MiB" % p["touch_mb"] if num(p.get("touch_mb")) and p.get("touch_mb") else ""
        ts, tr, tre = r.get("to_start") or {}, r.get("to_return") or {}, r.get("to_reaped") or {}
        rows.append({"id": rid, "method": m, "label": label, "kind": "process" if m in PROCESS_LIKE else "thread",
                     "return_p50_ns": tr.get("p50"), "start_p50_ns": ts.get("p50"), "start_p99_ns": ts.get("p99"),
                     "start_mean_ns": ts.get("mean"), "reaped_p50_ns": tre.get("p50"), "reaped_p99_ns": tre.get("p99"),
                     "measured": r.get("measured"), "parent_rss_kb": r.get("parent_rss_kb")})
    write_tsv(ctx.tsv("task_spawn.tsv"), list(rows[0]), rows,
              "task spawn: creation call return, first stamp of the new task, reaped (ns) per method")
    groups = [(r["label"], [(us(r["start_p50_ns"]), us(r["start_p99_ns"])) if r["kind"] == "process" else (None, None),
                            (us(r["start_p50_ns"]), us(r["start_p99_ns"])) if r["kind"] == "thread" else (None, None)])
              for r in rows]
    tsv = ctx.tsv("task_spawn_fig.tsv")
    write_bars(tsv, [("new process (own address space)", "whiskers: p50 to p99"),
                     ("thread / shared address space (clone CLONE_VM, pthread)", None)], groups,
               "figure: creation to the new task's first instruction (µs), p50 and p99, per method")
    allv = [v for _g, vals in groups for pair in vals for v in pair]
    scale = log_or_linear(allv)
    ctx.figure(pg, "bars.gp", tsv, "task_spawn", "Task creation: call to the new task's first stamp, p50 (whisker to p99)",
               "Creation cost by method: from the creation call to the new task's first instruction, coloured by "
               "whether the task gets its own address space",
               "creation → start (µs%s)" % (", log scale" if scale.startswith("logy") else ""), scale + ",overlay,values")
    body = [[esc(r["label"]), esc(r["kind"]), n(r["return_p50_ns"], fmt_us), n(r["start_p50_ns"], fmt_us),
             n(r["start_p99_ns"], fmt_us), n(r["reaped_p50_ns"], fmt_us), n(r["measured"], str), esc(r["id"])]
            for r in rows]
    pg.table(["method", "kind", "call returns p50 (µs)", "task starts p50", "p99", "reaped p50", "samples", "run"], body)
    pg.p("<i>call returns</i>: the creation call returns in the creator; <i>task starts</i>: the new task's first "
         "timestamp in shared memory; <i>reaped</i>: <code>waitpid</code>/<code>pthread_join</code> returned "
         "(– for detached threads). vfork suspends the parent until the child execs or exits.", "note")


def sweep_part(ctx, pg):
    runs = [(rid, doc) for rid, doc in ctx.res.find("task spawn") if (doc.get("params") or {}).get("sweep")]
    if not runs:
        return
    pg.h(3, "fork cost vs the creator's resident memory", "task-forkmem")
    rid, doc = runs[-1]
    r = doc.get("results") or {}
    rows, ser = [], {}
    for pt in r.get("points") or []:
        for v in pt.get("variants") or []:
            rss_mb = v["parent_rss_kb"] / 1024.0 if num(v.get("parent_rss_kb")) else None
            tr, tre = v.get("to_return") or {}, v.get("to_reaped") or {}
            rows.append({"touch_mb": pt.get("touch_mb"), "method": v.get("method"), "backing": v.get("backing"),
                         "parent_rss_mb": rss_mb, "parent_pte_kb": v.get("parent_pte_kb"), "measured": v.get("measured"),
                         "return_p50_ns": tr.get("p50"), "reaped_p50_ns": tre.get("p50"), "return_p99_ns": tr.get("p99")})
            if num(rss_mb):
                for key, what in (("return_p50_ns", "call returns"), ("reaped_p50_ns", "reaped")):
                    if num(rows[-1][key]):
                        ser.setdefault("%s: %s, p50" % (v.get("method"), what), []).append((rss_mb, us(rows[-1][key])))
    write_tsv(ctx.tsv("task_forkmem.tsv"), list(rows[0]) if rows else ["touch_mb"], rows,
              "task spawn --sweep: creation cost (ns) vs the creator's resident memory (MiB)")
    order = sorted(ser, key=lambda k: (not k.startswith(doc["params"].get("method") or "fork"), k))
    tsv = ctx.tsv("task_forkmem_fig.tsv")
    write_blocks(tsv, [(k, sorted(ser[k])) for k in order],
                 "figure: p50 creation cost (µs) vs the creator's resident memory (MiB), log-log")
    ctx.figure(pg, "lines.gp", tsv, "task_forkmem",
               "fork vs pthread_create as the creator's resident memory grows (p50)",
               "Creation cost vs the creator's resident set: fork copies page tables (and marks pages "
               "copy-on-write), a thread shares them",
               "creator's resident memory (MiB, log scale)", "p50 (µs, log scale)", "logx,logy,points,key-left")
    body = [[n(x["touch_mb"], str), esc(x["method"]), esc(x["backing"]), n(x["parent_rss_mb"], lambda v: "%.0f" % v),
             n(x["parent_pte_kb"], str), n(x["return_p50_ns"], fmt_us), n(x["return_p99_ns"], fmt_us),
             n(x["reaped_p50_ns"], fmt_us), n(x["measured"], str)] for x in rows]
    pg.table(["touched MiB", "method", "pages", "creator RSS (MiB)", "creator page tables (KiB)",
              "call returns p50 (µs)", "p99", "reaped p50", "samples"], body)
    growth = r.get("reaped_p50_growth") or {}
    if growth:
        pg.p("Growth of the reaped p50 from the smallest to the largest memory: " +
             ", ".join("%s %s×" % (esc(k), fmt_g(v)) for k, v in growth.items()) + "; run <code>%s</code>." % esc(rid),
             "note")


def ctxsw_part(ctx, pg):
    runs = ctx.res.find("task ctxsw")
    if not ctx.part(pg, "Context switch vs working set", "task-ctxsw", runs):
        return
    rows, ser, sizes = [], {}, set()
    for rid, doc in runs:
        p, r = doc.get("params") or {}, doc.get("results") or {}
        for pt in r.get("points") or []:
            noisy = ctx.flag_noisy(AREA, rid, "context switch, %s, %s KiB" % (p.get("mode"), pt.get("working_set_kb")),
                                   pt.get("repeat_rel_stddev"))
            rows.append({"id": rid, "mode": p.get("mode"), "working_set_kb": pt.get("working_set_kb"),
                         "ctxsw_ns": pt.get("ctxsw_ns"), "ctxsw_mean_ns": pt.get("ctxsw_mean_ns"),
                         "round_p50_ns": (pt.get("round_trip") or {}).get("p50"),
                         "overhead_p50_ns": (pt.get("overhead") or {}).get("p50"),
                         "rsd": pt.get("repeat_rel_stddev"), "noisy": noisy, "cpu": pt.get("cpu")})
            sizes.add(pt.get("working_set_kb"))
            ser.setdefault(p.get("mode"), {})[pt.get("working_set_kb")] = pt.get("ctxsw_ns")
    sizes = sorted(s for s in sizes if num(s))
    write_tsv(ctx.tsv("task_ctxsw.tsv"), list(rows[0]), rows,
              "task ctxsw: context switch = p50(round)/2 - p50(overhead), ns, per mode and working set")
    tsv = ctx.tsv("task_ctxsw_fig.tsv")
    write_blocks(tsv, [(m, [(i + 1, v.get(s) / 1000.0 if num(v.get(s)) else None, "%s KiB" % s)
                            for i, s in enumerate(sizes)]) for m, v in ser.items()],
                 "figure: context switch (µs) by working set; x is the index of the size, column 3 its label")
    ctx.figure(pg, "lines.gp", tsv, "task_ctxsw", "Context switch on one CPU vs the working set each task touches",
               "Context-switch cost (lmbench lat_ctx style), process vs thread, both pinned to one CPU",
               "working set touched by each task between switches", "context switch (µs)",
               "points,xticlabels,key-left,ymin0")
    body = [[esc(x["mode"]), n(x["working_set_kb"], str), n(x["ctxsw_ns"], fmt_us), n(x["ctxsw_mean_ns"], fmt_us),
             n(x["round_p50_ns"], fmt_us), n(x["overhead_p50_ns"], fmt_us), rsd_cell(x["rsd"]), esc(x["id"])] for x in rows]
    pg.table(["mode", "working set (KiB)", "context switch p50-based (µs)", "mean-based", "token round p50",
              "same loop in one task p50", "rel. stddev", "run"], body)


def pool_part(ctx, pg):
    # the latest --sweep run (a single-kind run, e.g. the traced one, has no crossover)
    runs = [(rid, doc) for rid, doc in ctx.res.find("task pool") if (doc.get("params") or {}).get("sweep")]
    if not runs:
        return
    pg.h(3, "Worker pool vs a process per task", "task-pool")
    rid, doc = runs[-1]
    r = doc.get("results") or {}
    rows, ser, ideal, labels = [], {}, [], []
    pts = sorted(r.get("points") or [], key=lambda x: x.get("task_us") or 0)
    names = {"process": "process pool", "thread": "thread pool", "spawn-per-task": "a new process per task"}
    for i, pt in enumerate(pts):
        labels.append("%s µs" % pt.get("task_us"))
        idl = None
        for k, v in (pt.get("kinds") or {}).items():
            rows.append({"task_us": pt.get("task_us"), "kind": k, "tasks_per_s": v.get("tasks_per_s"),
                         "ideal_tasks_per_s": v.get("ideal_tasks_per_s"), "efficiency": v.get("efficiency"),
                         "overhead_us_per_task": v.get("overhead_us_per_task"), "workers": v.get("workers"),
                         "verified": v.get("verified"), "tasks": v.get("tasks"), "mismatches": v.get("mismatches")})
            ser.setdefault(names.get(k, k), []).append((i + 1, v.get("tasks_per_s"), labels[-1]))
            idl = idl or v.get("ideal_tasks_per_s")
        if num(idl):
            ideal.append((i + 1, idl, labels[-1]))
    write_tsv(ctx.tsv("task_pool.tsv"), list(rows[0]), rows, "task pool --sweep: tasks/s per kind and task length")
    series = [(k, ser[k]) for k in ser]
    if ideal:
        series.append(("ideal: workers / task length", ideal))
    tsv = ctx.tsv("task_pool_fig.tsv")
    write_blocks(tsv, series, "figure: tasks per second (log) by task length; x index, column 3 the length")
    ctx.figure(pg, "lines.gp", tsv, "task_pool", "Tasks per second vs task length: pool vs a new process per task",
               "Throughput of %s tasks on %s workers: a pool pays creation once, a process per task pays it every time"
               % (fmt_g((doc.get("params") or {}).get("tasks")), fmt_g((doc.get("params") or {}).get("workers"))),
               "CPU time each task spins", "tasks per second (log scale)", "logy,ysi,points,xticlabels,dash-last")
    body = [[n(x["task_us"], str), esc(names.get(x["kind"], x["kind"])), n(x["tasks_per_s"], fmt_g),
             n(x["ideal_tasks_per_s"], fmt_g), n(x["efficiency"], fmt_pct), n(x["overhead_us_per_task"], lambda v: "%.1f" % v),
             check_cell(x["mismatches"] == 0 if num(x["mismatches"]) else None)] for x in rows]
    pg.table(["task (µs)", "kind", "tasks/s", "ideal", "of ideal", "overhead / task (µs)", "results verified"], body)
    cr = r.get("crossover") or {}
    parts = []
    for k in ("vs_process_pool", "vs_thread_pool"):
        c = cr.get(k) or {}
        if num(c.get("model_task_us")):
            parts.append("%s: a process per task reaches %s of the pool's rate from tasks of about %s µs "
                         "(model from the per-task overheads %.1f µs vs %.1f µs)" % (
                             k.replace("vs_", "vs the ").replace("_", " "), fmt_pct(cr.get("fraction"), 0),
                             fmt_g(c["model_task_us"]), c.get("overhead_us_spawn") or 0, c.get("overhead_us_pool") or 0))
    if parts:
        pg.p("Crossover — " + "; ".join(esc(x) for x in parts) + ". Run <code>%s</code>." % esc(rid), "note")


def footprint_part(ctx, pg):
    runs = ctx.res.find("task footprint")
    if not ctx.part(pg, "Memory per idle task", "task-footprint", runs):
        return
    rid, doc = runs[-1]
    r = doc.get("results") or {}
    rows, ser = [], {}
    for pt in r.get("points") or []:
        row = {"tasks": pt.get("tasks")}
        for k in ("process", "thread"):
            for m in ("rss_kb", "pss_kb", "private_kb", "pte_kb"):
                row["%s_%s" % (k, m)] = (pt.get(k) or {}).get(m)
            for m, what in (("pss_kb", "Pss"), ("pte_kb", "page tables")):
                v = (pt.get(k) or {}).get(m)
                if num(v):
                    ser.setdefault("%s: %s" % ("processes" if k == "process" else "threads", what), []).append(
                        (pt.get("tasks"), v / 1024.0))
        rows.append(row)
    write_tsv(ctx.tsv("task_footprint.tsv"), list(rows[0]), rows,
              "task footprint: memory (KiB, smaps_rollup) of a parent and N idle processes or threads")
    tsv = ctx.tsv("task_footprint_fig.tsv")
    write_blocks(tsv, list(ser.items()), "figure: total memory (MiB) vs idle tasks N")
    ctx.figure(pg, "lines.gp", tsv, "task_footprint", "Memory of N idle tasks: processes vs threads",
               "Proportional set size (Pss: shared pages divided among their users) and page tables of the "
               "parent plus N idle tasks", "idle tasks N", "memory (MiB)", "points,key-left,ymin0")
    sl = r.get("slope_kb_per_task") or {}
    body = []
    for m, what in (("pss_kb", "Pss"), ("private_kb", "private"), ("rss_kb", "Rss (shared pages counted per task)"),
                    ("pte_kb", "page tables")):
        p_, t_ = (sl.get("process") or {}).get(m), (sl.get("thread") or {}).get(m)
        body.append([esc(what), n(p_, lambda v: "%.1f" % v), n(t_, lambda v: "%.1f" % v),
                     n(p_ / t_ if num(p_) and num(t_) and t_ else None, lambda v: "%.1f×" % v)])
    pg.table(["KiB per extra idle task (least-squares slope)", "process", "thread", "process / thread"], body)
    pg.p("%s Run <code>%s</code>." % (esc(r.get("not_counted") and "Not counted: " + r["not_counted"] + "."), esc(rid)),
         "note")


def isolation_part(ctx, pg):
    runs = ctx.res.find("task isolation")
    if not ctx.part(pg, "Isolation checks", "task-isolation", runs):
        return
    rid, doc = runs[-1]
    r = doc.get("results") or {}
    body = [[esc(c.get("name")), esc(c.get("expected")), esc(c.get("actual")), check_cell(c.get("pass"))]
            for c in r.get("checks") or []]
    pg.table(["check", "expected", "actual", "result"], body)
    pg.p("%s of %s checks passed (run <code>%s</code>): a crashing worker process dies alone, a crashing thread "
         "takes its process down; PR_SET_PDEATHSIG, detached threads and orphans behave as documented."
         % (esc(r.get("checks_passed")), esc((r.get("checks_passed") or 0) + (r.get("checks_failed") or 0)), esc(rid)),
         "note")


def summary_part(ctx, pg):
    runs = ctx.res.find("task summary")
    if not ctx.part(pg, "Process vs thread: the summary", "task-summary", runs):
        return
    rid, doc = runs[-1]
    rows = (doc.get("results") or {}).get("rows") or []
    write_tsv(ctx.tsv("task_summary.tsv"), ["metric", "unit", "process", "thread", "process_over_thread"], rows,
              "task summary: process vs thread, from quick in-process runs of the task experiments")

    def val(v, unit):
        if not num(v):
            return esc(v) if v is not None else "–"
        if unit == "ns":
            return fmt_us(v) + " µs"
        return "%s %s" % (fmt_g(v), esc(unit))
    body = [[esc(x.get("metric")), (val(x.get("process"), x.get("unit")), "n" if num(x.get("process")) else ""),
             (val(x.get("thread"), x.get("unit")), "n" if num(x.get("thread")) else ""),
             n(x.get("process_over_thread"), lambda v: "%.2f×" % v)] for x in rows]
    pg.table(["", "process", "thread", "process / thread"], body)
    pg.p("From <code>task summary</code> (run <code>%s</code>): short runs of the experiments above, in one "
         "process, for one table." % esc(rid), "note")


def lifecycle_part(ctx, pg):
    """The life of a process object and of a thread object: task lifecycle's checked steps."""
    runs = ctx.res.find("task lifecycle")
    if not ctx.part(pg, "The life of a process object and a thread object", "task-lifecycle", runs):
        return
    rid, doc = runs[-1]
    r = doc.get("results") or {}
    steps_table(pg, r.get("steps") or [], "object")
    objs = r.get("objects") or {}
    pg.p("<code>task lifecycle</code> (run <code>%s</code>): %s passed, %s failed; the process was <code>%s</code> "
         "(pid %s), the thread <code>%s</code> (tid %s). Daemons: %s."
         % (esc(rid), esc(r.get("passed")), esc(r.get("failed")), esc((objs.get("process") or {}).get("name")),
            esc((objs.get("process") or {}).get("pid")), esc((objs.get("thread") or {}).get("name")),
            esc((objs.get("thread") or {}).get("tid")),
            esc("; ".join("%s: %s" % kv for kv in sorted((r.get("daemon") or {}).items())))), "note")


def section(ctx, pg):
    spawn_part(ctx, pg)
    lifecycle_part(ctx, pg)
    sweep_part(ctx, pg)
    ctxsw_part(ctx, pg)
    pool_part(ctx, pg)
    footprint_part(ctx, pg)
    isolation_part(ctx, pg)
    summary_part(ctx, pg)
    if len(pg.parts) == 1:  # the heading only
        pg.p("No <code>task</code> runs in this directory.", "note")
    return True
