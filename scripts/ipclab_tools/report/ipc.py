"""ipc.py - the IPC section: round trip per transport (process vs thread, same CPU vs
cross-CPU) against the shared-memory floor, throughput vs message size, and the pipe
latency histograms."""

import os

from .. import hist
from ..refpairs import oneway_mean
from .. import placement
from .figures import log_or_linear, write_bars, write_blocks, write_hist_tsv, write_tsv
from .page import Page, check_cell, esc, n, rel, rsd_cell, steps_table
from ..fmt import fmt_g, fmt_pct, fmt_us, fmt_x, num, us
from ..stats import ratio

AREA = "IPC"
# the order of src/ipc/transports.def ('ipclab ipc transports'); others are appended
TRANSPORTS = ["pipe", "fifo", "unix-stream", "unix-dgram", "tcp", "udp", "eventfd", "posix-mq",
              "sysv-msg", "shm-posix-sem", "shm-sysv-sem", "shm-condvar", "shm-spin"]
PLACEMENTS = [("same-cpu", "same CPU"), ("cross-cpu", "cross-CPU")]
MODES = ["process", "thread"]


def pick_median(runs, value):
    """The run whose VALUE is the median of several runs of one configuration (full
    matrix rounds), and how many there were."""
    runs = [r for r in runs if num(value(r))]
    if not runs:
        return None, 0
    runs.sort(key=value)
    return runs[(len(runs) - 1) // 2], len(runs)


def latency_table(ctx):
    """{(transport, mode, placement): row} from every untraced 16-byte ipc latency run."""
    groups = {}
    for rid, doc in ctx.res.find("ipc latency", size=16):
        p, r = doc.get("params") or {}, doc.get("results") or {}
        rtt = r.get("rtt") or {}
        if not num(rtt.get("p50")):
            continue
        key = (p.get("transport"), p.get("mode"), p.get("placement") or "unpinned")
        groups.setdefault(key, []).append({
            "id": rid, "transport": key[0], "mode": key[1], "placement": key[2],
            "placement_text": placement.short(p), "count": rtt.get("count"),
            "p50_ns": rtt.get("p50"), "p90_ns": rtt.get("p90"), "p99_ns": rtt.get("p99"),
            "p999_ns": rtt.get("p999"), "max_ns": rtt.get("max"), "mean_ns": rtt.get("mean"),
            "oneway_mean_ns": oneway_mean(r),
            "rsd_p50": r.get("repeat_rel_stddev_p50"), "rsd_mean": r.get("repeat_rel_stddev_mean"),
            "repeat": p.get("repeat"), "iterations": p.get("iterations")})
    out = {}
    for key, runs in groups.items():
        row, k = pick_median(runs, lambda x: x["p50_ns"])
        if row:
            row["runs"] = k
            out[key] = row
    return out


def floor_table(ctx):
    """{placement: row} from the untraced ipc floor runs without --transport."""
    groups = {}
    for rid, doc in ctx.res.find("ipc floor", transport=None):
        p, r = doc.get("params") or {}, doc.get("results") or {}
        rtt = r.get("rtt") or {}
        if num(rtt.get("p50")):
            groups.setdefault(p.get("placement") or "unpinned", []).append({
                "id": rid, "p50_ns": rtt.get("p50"), "p99_ns": rtt.get("p99"), "mean_ns": rtt.get("mean"),
                "rsd_p50": r.get("repeat_rel_stddev_p50"), "yields": r.get("same_cpu_yields"),
                "untimed_ns": r.get("rtt_untimed"), "placement_text": placement.short(p)})
    out = {}
    for pl, runs in groups.items():
        row, k = pick_median(runs, lambda x: x["p50_ns"])
        row["runs"] = k
        out[pl] = row
    return out


def ordered(names):
    return [t for t in TRANSPORTS if t in names] + sorted(t for t in names if t not in TRANSPORTS)


def latency_part(ctx, pg):
    lat = latency_table(ctx)
    floor = floor_table(ctx)
    pg.h(3, "Round trip per transport, 16-byte messages", "ipc-latency")
    if not lat:
        pg.p("No 16-byte <code>ipc latency</code> runs in this directory.", "note")
        return lat, floor
    transports = ordered({k[0] for k in lat})
    # one TSV with every row (tables), one per placement for the figures
    cols = ["transport", "mode", "placement", "id", "runs", "repeat", "iterations", "p50_us", "p90_us",
            "p99_us", "p999_us", "max_us", "mean_us", "oneway_mean_us", "rsd_p50", "rsd_mean",
            "floor_p50_us", "x_floor_p50"]
    rows = []
    for t in transports:
        for pl in [p for p, _ in PLACEMENTS] + ["unpinned"]:
            for m in MODES:
                r = lat.get((t, m, pl))
                if not r:
                    continue
                f = floor.get(pl)
                r["x_floor"] = ratio(r["p50_ns"], f["p50_ns"]) if f else None
                rows.append(dict(r, **{k + "_us": us(r.get(k + "_ns")) for k in
                                       ("p50", "p90", "p99", "p999", "max", "mean", "oneway_mean")},
                                 floor_p50_us=us(f["p50_ns"]) if f else None, x_floor_p50=r["x_floor"]))
    write_tsv(ctx.tsv("ipc_latency.tsv"), cols, rows,
              "ipc latency, 16-byte messages: round trip (µs) per transport, mode and placement,\n"
              "from runs/ID.json (the median run when a configuration ran several times);\n"
              "x_floor_p50 = p50 / p50 of 'ipc floor' at the same placement")
    pg.p("Round trip of one 16-byte message each way (ping-pong), measured by the initiator. Bars: p50; "
         "whiskers: p50 to p99. Same CPU: both peers pinned to CPU 0 (every hand-off is a context switch); "
         "cross-CPU: initiator on CPU 0, responder on CPU 1 (every hand-off is a wake-up on the other CPU). "
         "The floor (<code>ipc floor</code>: two threads bouncing one cache line, no system call) is the "
         "last group. Log scale when the bars span more than 30×.", "note")
    for pl, ptitle in PLACEMENTS:
        have = [t for t in transports if any((t, m, pl) in lat for m in MODES)]
        if not have:
            continue
        groups = []
        for t in have:
            vals = []
            for m in MODES:
                r = lat.get((t, m, pl))
                vals.append((us(r["p50_ns"]), us(r["p99_ns"])) if r else (None, None))
            groups.append((t, vals))
        f = floor.get(pl)
        if f:
            groups.append(("floor (cache line)", [(None, None), (us(f["p50_ns"]), us(f["p99_ns"]))]))
        tsv = ctx.tsv("ipc_latency_%s.tsv" % pl)
        write_bars(tsv, [("process p50", "whiskers: p50 to p99"), ("thread p50", None)], groups,
                   "figure: ipc latency round trip, %s (µs): p50 and p99 per transport and mode" % ptitle)
        allv = [v for _g, vals in groups for pair in vals for v in pair]
        ctx.figure(pg, "bars.gp", tsv, "ipc_latency_%s" % pl,
                   "Round trip per transport, 16 B, %s: p50 (whisker to p99)" % ptitle,
                   "Round trip per transport, %s, process vs thread (p50 bars, whiskers to p99)" % ptitle,
                   "round trip (µs%s)" % (", log scale" if log_or_linear(allv).startswith("logy") else ""),
                   log_or_linear(allv) + (",wide" if len(groups) > 10 else ""))
        ranking(ctx, pg, lat, floor, pl, ptitle, have)
    # every run, collapsed
    body = []
    for r in rows:
        body.append([esc(r["transport"]), esc(r["mode"]), esc(r["placement_text"]), n(r["p50_ns"], fmt_us),
                     n(r["p90_ns"], fmt_us), n(r["p99_ns"], fmt_us), n(r["max_ns"], fmt_us), n(r["mean_ns"], fmt_us),
                     n(r["oneway_mean_ns"], fmt_us), rsd_cell(r["rsd_p50"]), rsd_cell(r["rsd_mean"]),
                     esc(r["id"]) + (" (median of %d)" % r["runs"] if r["runs"] > 1 else "")])
    sub = Page()
    sub.table(["transport", "mode", "placement", "p50", "p90", "p99", "max", "mean", "one-way mean",
               "rel. stddev p50", "rel. stddev mean", "run"], body)
    pg.add("<details><summary>All %d latency rows (µs; <a href=\"%s\">data</a>)</summary>%s</details>\n"
           % (len(body), esc(rel(ctx.tsv("ipc_latency.tsv"), ctx.dir)), "".join(sub.parts)))
    return lat, floor


def ranking(ctx, pg, lat, floor, pl, ptitle, transports):
    """The ranking table of one placement: transports by process p50, ratio to the floor."""
    f = floor.get(pl)
    key_mode = "process" if any((t, "process", pl) in lat for t in transports) else "thread"
    order = sorted(transports, key=lambda t: (lat.get((t, key_mode, pl)) or {}).get("p50_ns") or float("inf"))
    body, cls = [], []
    for i, t in enumerate(order):
        cells = [n(i + 1, str), "<b>%s</b>" % esc(t)]
        flags = []
        for m in MODES:
            r = lat.get((t, m, pl))
            if not r:
                cells += ["–"] * 4
                continue
            noisy = ctx.flag_noisy(AREA, r["id"], "round trip p50, %s, %s, %s" % (t, m, ptitle), r["rsd_p50"])
            if noisy:
                flags.append("%s noisy" % m)
            cells += [(fmt_us(r["p50_ns"]), "n flag" if noisy else "n"), n(r["p99_ns"], fmt_us),
                      n(r["x_floor"], lambda v: fmt_x(v, 1)), rsd_cell(r["rsd_p50"])]
        cells.append('<span class="flag">%s</span>' % esc(", ".join(flags)) if flags else "")
        body.append(cells)
        cls.append(None)
    pg.p("<b>Ranking, %s</b> (sorted by %s p50; µs). <i>× floor</i> = p50 / the floor's p50 at the same "
         "placement%s. Rel. stddev = repeat-to-repeat spread of the p50; above %s the cell is flagged noisy."
         % (esc(ptitle), key_mode,
            " (%s µs, %s%s)" % (fmt_us(f["p50_ns"]), esc(f["placement_text"]),
                                "; on one CPU the two threads must yield to each other, so this floor is a "
                                "pair of sched_yield() calls" if f.get("yields") else "") if f else
            " (no floor run at this placement)", fmt_pct(0.05, 0)), "note")
    pg.table(["#", "transport", "process p50", "p99", "× floor", "rel. stddev", "thread p50", "p99", "× floor",
              "rel. stddev", "flags"], body, cls)


def throughput_part(ctx, pg):
    pg.h(3, "Throughput vs message size", "ipc-throughput")
    # the --sweep runs (a single-size run, e.g. the traced one, has no curve to draw)
    runs = [(rid, doc) for rid, doc in ctx.res.find("ipc throughput") if (doc.get("params") or {}).get("sweep")]
    if not runs:
        pg.p("No <code>ipc throughput --sweep</code> runs in this directory.", "note")
        return
    combos = {(doc["params"].get("mode"), doc["params"].get("placement")) for _r, doc in runs}
    series, rows, tbl = [], [], []
    sizes = set()
    for rid, doc in runs:
        p, r = doc.get("params") or {}, doc.get("results") or {}
        pts = []
        cells = {}
        for pt in r.get("points") or []:
            ver = pt.get("verification") or {}
            if not num(pt.get("mib_per_s")) or pt.get("mib_per_s") <= 0 or not ver.get("received"):
                continue  # a size the run could not send (it exits 3 there: see the note)
            pts.append((pt["size"], pt["mib_per_s"]))
            sizes.add(pt["size"])
            noisy = ctx.flag_noisy(AREA, rid, "throughput %s at %d B" % (p.get("transport"), pt["size"]),
                                   pt.get("rel_stddev"))
            cells[pt["size"]] = (pt["mib_per_s"], pt.get("msgs_per_s"), pt.get("rel_stddev"), noisy)
            rows.append({"id": rid, "transport": p.get("transport"), "mode": p.get("mode"),
                         "placement": p.get("placement"), "size": pt["size"], "mib_per_s": pt["mib_per_s"],
                         "msgs_per_s": pt.get("msgs_per_s"), "rel_stddev": pt.get("rel_stddev"),
                         "count": pt.get("count"), "noisy": noisy})
        title = p.get("transport") if len(combos) == 1 else "%s (%s, %s)" % (
            p.get("transport"), p.get("mode"), placement.short(p))
        if pts:
            series.append((title, sorted(pts)))
        why = []
        for s in r.get("skipped_sizes") or []:
            why.append("%s B: %s" % (s.get("size"), s.get("reason")) if isinstance(s, dict) else str(s))
        st = ctx.status_note(rid)
        if st:
            why.append(st)
        tbl.append((title, rid, cells, "; ".join(why)))
    write_tsv(ctx.tsv("ipc_throughput.tsv"),
              ["id", "transport", "mode", "placement", "size", "mib_per_s", "msgs_per_s", "rel_stddev", "count", "noisy"],
              rows, "ipc throughput --sweep: one-way streaming per message size, every message verified\n"
              "(median of the repeats; rel_stddev = repeat-to-repeat spread)")
    tsv = ctx.tsv("ipc_throughput_fig.tsv")
    write_blocks(tsv, series, "figure: MiB/s (y) vs message size in bytes (x), one block per transport")
    pnames = {"same-cpu": "same CPU", "cross-cpu": "cross-CPU", None: "unpinned"}
    mode_txt = "; ".join("%s, %s" % ({"process": "processes", "thread": "threads"}.get(m, m), pnames.get(pl, pl))
                         for m, pl in sorted(combos, key=str))
    pg.p("One-way streaming: the sender writes messages back to back, the receiver checks each one's sequence "
         "number and checksum (a lost, duplicated, reordered or corrupted message fails the run). MiB/s is the "
         "median of the repeats; %s. Sizes include the 16-byte header." % esc(mode_txt), "note")
    ctx.figure(pg, "lines.gp", tsv, "ipc_throughput", "Throughput vs message size (%s)" % mode_txt,
               "Throughput vs message size, one line per transport (log-log)",
               "message size (log scale)", "throughput (MiB/s, log scale)", "logx,logy,points,key-left,bytes")
    sizes = sorted(sizes)
    body = []
    for title, rid, cells, why in tbl:
        row = [esc(title)]
        for s in sizes:
            c = cells.get(s)
            row.append(("%s%s" % (fmt_g(c[0]), "*" if c[3] else ""), "n flag" if c[3] else "n") if c else ("–", "n"))
        row.append(esc(why) if why else "")
        body.append(row)
    pg.table(["transport"] + [fmt_size(s) for s in sizes] + ["sizes not measured"], body)
    pg.p("MiB/s; <span class=\"flag\">red*</span>: repeat-to-repeat relative stddev above 5 %% (noisy). "
         "A queue-based transport stops at its kernel limit (<code>fs.mqueue.msgsize_max</code>, "
         "<code>kernel.msgmax</code>): the run exits 3 there and the larger sizes are missing. "
         "<a href=\"%s\">data</a>" % esc(rel(ctx.tsv("ipc_throughput.tsv"), ctx.dir)), "note")


def fmt_size(b):
    for unit, k in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if b >= k and b % k == 0:
            return "%d %s" % (b // k, unit)
    return "%d B" % b


def hist_part(ctx, pg, lat_rows):
    """Latency histograms of the pipe runs (log-log), with the traced twin overlaid."""
    pg.h(3, "Pipe latency histograms", "ipc-hist")
    made = 0
    for r in lat_rows:
        if r["variant"] != "untraced" or r["transport"] != "pipe":
            continue
        hpath = os.path.join(ctx.dir, "hist", r["id"] + ".tsv")
        if not os.path.exists(hpath):
            continue
        blocks = hist.buckets_by_name(hpath)
        series = []
        for key, title in (("rtt", "round trip"), ("oneway_ab", "one-way A→B"), ("oneway_ba", "one-way B→A")):
            if blocks.get(key):
                series.append((title, hist.rebin(blocks[key])))
        tpath = os.path.join(ctx.dir, "hist", r["id"] + ".traced.tsv")
        if os.path.exists(tpath):
            tb = hist.buckets_by_name(tpath)
            if tb.get("rtt"):
                series.append(("round trip, traced", hist.rebin(tb["rtt"])))
        if not series:
            continue
        out = ctx.tsv("hist_%s.tsv" % r["id"])
        write_hist_tsv(out, series, "figure: %s; x: bin edges in µs, y: samples per 1/%d octave (counts of %s "
                       "grouped %d buckets a bin)" % (r["id"], hist.BINS_PER_OCTAVE, rel(hpath, ctx.dir),
                                                      64 // hist.BINS_PER_OCTAVE))
        ctx.figure(pg, "hist.gp", out, "hist_" + r["id"],
                   "pipe latency histogram: %s mode, %s" % (r["mode"], r["placement_text"]),
                   "%s — %s mode, %s; log-log, samples per 1/%d octave" % (r["id"], r["mode"], r["placement_text"],
                                                                          hist.BINS_PER_OCTAVE))
        made += 1
    if not made:
        pg.p("No pipe latency histograms (bench/run writes them beside ipc latency runs).", "note")


def queue_part(ctx, pg):
    """Message queues full, empty, size limits and order: ipc queue's checked steps."""
    runs = ctx.res.find("ipc queue")
    if not ctx.part(pg, "Message queues: full, empty, size, order", "ipc-queue", runs):
        return
    rid, doc = runs[-1]
    r, p = doc.get("results") or {}, doc.get("params") or {}
    steps_table(pg, r.get("steps") or [], "queue")
    kinds = r.get("kinds") or {}
    pg.p("<code>ipc queue</code> (run <code>%s</code>), a queue of %s messages of %s bytes: %s. What the course's "
         "<code>Queue.put/get/full/empty/qsize</code> rest on: a full queue refuses (non-blocking) or blocks the "
         "sender, an empty one the receiver, an oversized message is refused, POSIX queues deliver by priority, "
         "System V queues in order; every wait has a deadline, so no step can hang. %s"
         % (esc(rid), esc(p.get("capacity")), esc(p.get("size")),
            "; ".join("%s %s of %s steps passed" % (esc(k), esc(v.get("passed")), esc(v.get("steps")))
                      for k, v in sorted(kinds.items())) or "no steps", esc(ctx.status_note(rid))), "note")


SHM_LOCK_ORDER = {"none": 0, "seqlock": 1, "mutex": 2}


def shm_effect_cell(effect, inconclusive):
    """An unprotected run's effect: shown (why), or inconclusive (flagged, why)."""
    if effect.get("shown") is False or inconclusive:
        return ('<span class="flag">inconclusive: %s</span>' % esc(effect.get("why") or inconclusive), "")
    return (esc(effect.get("why") or "–"), "")


def shm_part(ctx, pg):
    """Shared memory (Value, Array, a record) with and without a lock: torn reads counted."""
    runs = sorted(ctx.res.find("ipc shm"), key=lambda x: SHM_LOCK_ORDER.get((x[1].get("params") or {}).get("lock"), 9))
    if not ctx.part(pg, "Shared memory: torn reads with and without a lock", "ipc-shm", runs):
        return
    rows, body, cls = [], [], []
    for rid, doc in runs:
        r, p = doc.get("results") or {}, doc.get("params") or {}
        chk = r.get("checks") or {}
        eff = r.get("effect") or {}
        rows.append({"id": rid, "lock": p.get("lock"), "mode": p.get("mode"),
                     "memory": (r.get("memory") or {}).get("kind"), "record_words": p.get("record_words"),
                     "reads": r.get("reads"), "writes_during_reads": r.get("writes_during_reads"),
                     "overlap_fraction": r.get("overlap_fraction"), "torn_reads": r.get("torn_reads"),
                     "torn_fraction": r.get("torn_fraction"), "retries": r.get("retries"),
                     "counter_regressions": r.get("counter_regressions"), "inconclusive": r.get("inconclusive")})
        unprotected = p.get("lock") == "none"
        torn_ok = r.get("torn_reads") == 0 if not unprotected else None
        body.append([esc(rid), esc(p.get("lock")), esc(p.get("mode")), esc((r.get("memory") or {}).get("kind")),
                     n(r.get("reads"), fmt_g), n(r.get("writes_during_reads"), fmt_g),
                     n(r.get("overlap_fraction"), fmt_pct),
                     (("%s (%s)" % (fmt_g(r.get("torn_reads")), fmt_pct(r.get("torn_fraction"))))
                      if num(r.get("torn_reads")) else "–", "n"),
                     n(r.get("retries"), fmt_g),
                     check_cell(all(chk.get(k) is not False for k in ("value_read_back", "array_read_back",
                                                                     "counter_never_back")) if chk else None),
                     check_cell(torn_ok) if not unprotected else shm_effect_cell(eff, r.get("inconclusive")),
                     esc(ctx.status_note(rid))])
        cls.append("warn" if torn_ok is False or eff.get("shown") is False else None)
    write_tsv(ctx.tsv("ipc_shm.tsv"), ["id", "lock", "mode", "memory", "record_words", "reads", "writes_during_reads",
                                       "overlap_fraction", "torn_reads", "torn_fraction", "retries",
                                       "counter_regressions", "inconclusive"], rows,
              "ipc shm: one writer, one reader of a multi-word record in shared memory; torn reads counted")
    pg.table(["run", "lock", "mode", "memory", "reads", "writes during the reads", "overlap", "torn reads",
              "seqlock retries", "Value, Array, counter", "effect / check", ""], body, cls)
    pg.p("The course's <code>Value</code> and <code>Array</code> in shared memory: one side writes a record of "
         "several words (each write makes all words equal), the other reads it. Without a lock a read that "
         "overlaps a write sees words of two writes (<i>torn</i>); with a process-shared mutex or a seqlock "
         "(the reader retries when the sequence changed) none may be torn, else the run fails. <i>Overlap</i> is "
         "the share of the reading loop during which the writer wrote: without overlap (one CPU, a writer not yet "
         "scheduled) no tearing can show and the unprotected run says inconclusive (exit 4) instead of "
         "\"nothing happened\". A single aligned word (the counter column) is never torn.", "note")


def section(ctx, pg):
    lat_rows = ctx.latency
    pg.p("Transports compared by the same timing code (<code>ipc latency</code>, <code>ipc floor</code>, "
         "<code>ipc throughput</code>). Medians and ratios measured in one run are the numbers to quote; "
         "absolute times move with the load of this shared 2-CPU machine.", "note")
    latency_part(ctx, pg)
    throughput_part(ctx, pg)
    hist_part(ctx, pg, lat_rows)
    queue_part(ctx, pg)
    shm_part(ctx, pg)
    return True
