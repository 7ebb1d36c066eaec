"""assemble.py - scripts/report's main work: read a results directory, convert every JSON
result into data/*.tsv (sections by area), draw the figures from those files and write
report.html: warnings first, then signals, IPC, sync, tasks, references, tracing cost,
the runs, noisy rows, the environment."""

import glob
import json
import os

from . import checks, course, expectations, ipc, refs, signals, sync, tasks, traceana
from .context import Ctx
from .figures import Figures, write_tsv
from .page import Page, esc, link, n
from .thresholds import NOISY
from ..fmt import fmt_g, fmt_ns, fmt_pct, fmt_us, fmt_x, num, us
from ..results import Results, try_json, write_text_atomic

def traced_fork_note(ctx, pairs):
    """What tracing costs a fork, from this run's traced task spawn --method fork pairs:
    children proxied (the creator emits their task_start/task_exit from the stamps they
    leave; forked without the tracer's fork hooks) and children tracing themselves (each
    registers with the session daemon before it runs)."""
    ratios = {}
    for p in pairs:
        t = ctx.res.runs.get((p["id"], "traced")) or {}
        tp = t.get("params") or {}
        if (t.get("experiment") == "task spawn" and tp.get("method") == "fork" and p["traced_really"]
                and num(p["traced"]) and num(p["untraced"]) and p["untraced"] > 0):
            ratios.setdefault(tp.get("child_trace") or "proxy", (p["id"], p["untraced"], p["traced"]))
    said = []
    for who, how in (("proxy", "children proxied (the creator emits each child's <code>task_start</code>/"
                               "<code>task_exit</code> from the stamps it leaves; children are forked without "
                               "the tracer's fork hooks)"),
                     ("self", "children tracing themselves (each registers with the session daemon before it "
                              "runs, as <code>liblttng-ust-fork.so</code> makes every forked child do)")):
        if who in ratios:
            rid, u, t = ratios[who]
            said.append("with %s, run <code>%s</code>: %s µs untraced, %s µs traced, <b>%s×</b>"
                        % (how, esc(rid), fmt_us(u), fmt_us(t), fmt_g(t / u)))
    if not said:
        return ("No traced <code>task spawn --method fork</code> pair in this run: what tracing costs a fork is "
                "not measured here (the quick matrix has <code>task.spawn.fork</code>, children proxied, and "
                "<code>task.spawn.fork.self</code>, children tracing themselves).")
    return ("A traced fork, creation to start p50: %s. The task timeline (spawn, start, exit, reaped) is complete "
            "either way; one pair is one sample." % "; ".join(said))


STREAM_MODES = (("untraced", "untraced"), ("local", "traced to the local disk"),
                ("relay", "traced to a relay daemon on the loopback"))


def stream_part(ctx, pg):
    """Streaming cost (bench/stream-cost): the same experiment untraced, traced to the
    local disk and streamed to a relay daemon."""
    pg.h(3, "Streaming to a relay daemon", "tracing-stream")
    doc, err = try_json(os.path.join(ctx.dir, "stream-cost.json"))
    if not isinstance(doc, dict):
        pg.p("Not measured in this run (<code>make bench</code> measures it with <code>bench/stream-cost</code>)%s."
             % ("" if err is None or "No such file" in str(err) else ": " + esc(err)), "note")
        return
    summ = doc.get("summary") or {}
    spread = (summ.get("untraced") or {}).get("rtt_mean_range_ns") or [None, None]
    noise = (spread[1] - spread[0]) / 2 if num(spread[0]) and num(spread[1]) else None  # per message
    rows, body, cls = [], [], []
    for key, label in STREAM_MODES:
        s = summ.get(key) or {}
        rows.append(dict(s, mode=key))
        lost = (s.get("discarded_events") or 0) + (s.get("lost_packets") or 0)
        cost = s.get("cost_per_message_ns")
        below = num(cost) and num(noise) and abs(cost) < noise
        body.append([esc(label), n(s.get("launches"), str), n(s.get("rtt_mean_ns"), fmt_us),
                     n(s.get("rtt_p50_ns"), fmt_us), n(s.get("events"), fmt_g), n(s.get("events_per_s"), fmt_g),
                     n(s.get("discarded_events"), fmt_g), n(s.get("lost_packets"), fmt_g),
                     ("<b>%s</b>" % fmt_ns(cost, 0), "n flag" if below else "n") if num(cost) else ("–", "n"),
                     n(s.get("delta_rtt_p50_ns"), lambda v: fmt_ns(v, 0)),
                     n(s.get("cost_per_event_ns"), lambda v: fmt_ns(v, 0))])
        cls.append("warn" if lost else None)
    write_tsv(ctx.tsv("stream_cost.tsv"), ["mode", "launches", "rtt_mean_ns", "rtt_p50_ns", "events", "events_per_s",
                                           "discarded_events", "lost_packets", "delta_rtt_ns", "delta_rtt_p50_ns",
                                           "cost_per_message_ns", "cost_per_event_ns"], rows,
              "bench/stream-cost: one experiment untraced, traced locally, streamed to a relay daemon (medians)")
    pg.table(["", "launches", "round trip mean (µs)", "p50 (µs)", "events recorded", "events/s", "discarded events",
              "lost packets", "cost per message, mean (ns)", "Δ round trip p50 (ns)", "cost per event, mean (ns)"],
             body, cls)
    over = (summ.get("relay") or {}).get("over_local")
    pg.p("<code>%s</code>, launched %s times in each mode in rotating order (medians over launches; the relay "
         "daemon on 127.0.0.1, started and stopped by <code>bench/stream-cost</code>). Cost per message = (traced − "
         "untraced round-trip mean) / 2 messages per round trip; per event, divided by the events each round trip "
         "recorded. A cost smaller than the spread of the untraced launches' round-trip means, per message (%s ns "
         "here; red), cannot be told from drift: the recording itself happens in the traced process either way (the "
         "tracepoint writes to the shared-memory ring buffer); local or streamed only changes where the consumer "
         "daemon sends full sub-buffers, a file or a TCP socket, off the measured path unless it competes for the "
         "CPU. The relay's events are counted in its own copy of the trace; discarded events and lost packets are "
         "LTTng's counts for each session (any is flagged).%s"
         % (esc(doc.get("experiment")), esc(doc.get("launches")), fmt_ns(noise, 0) if num(noise) else "–",
            " Streamed / local round-trip mean: <b>%s</b>." % fmt_x(over) if num(over) else ""), "note")


def tracing_section(ctx, pg):
    """Harness overhead, tracing cost (per message and per traced pair), the traces."""
    lat, trc, ovh, trs, pairs = ctx.latency, ctx.tracing, ctx.overhead, ctx.traces, ctx.pairs
    d = ctx.dir
    pg.p("Untraced runs give every number in this report. The matrix traces one or two runs per area "
         "(lines of KIND <code>ipclab</code>; <code>ipclab:untraced</code> lines are never traced): each traced "
         "twin runs the same command right after the untraced one, through <code>scripts/ipclab-trace</code>.",
         "note")
    pg.h(3, "Harness overhead", "overhead")
    if ovh:
        rows, cls = [], []
        for o in ovh:
            rows.append([esc(o["id"]), esc(o["quantity"]),
                         n(o["untraced"], lambda v: fmt_ns(v, 2) + " ns"), n(o["untraced_rsd"], fmt_pct),
                         n(o["traced"], lambda v: fmt_ns(v, 2) + " ns"), n(o["traced_rsd"], fmt_pct)])
            cls.append("warn" if o["traced"] is not None and not o["traced_really"] else None)
        pg.table(["run", "quantity", "untraced", "rel. stddev", "traced", "rel. stddev"], rows, cls)
        for o in [o for o in ovh if o["key"] == "tracepoint_ns" and num(o["traced"]) and num(o["untraced"])]:
            pg.p("Tracepoint call site: %s ns untraced (a load and a not-taken branch), %s ns traced "
                 "(%s events recorded): one recorded event costs <b>%s ns</b> in a tight loop."
                 % (fmt_ns(o["untraced"], 2), fmt_ns(o["traced"], 2), esc(o["events"]),
                    fmt_ns(o["traced"] - o["untraced"], 1)))
    else:
        pg.p("No <code>core overhead</code> run in this directory.", "note")

    pg.h(3, "Traced vs untraced, per traced run", "traced-pairs")
    if pairs:
        write_tsv(ctx.tsv("traced_pairs.tsv"), ["id", "experiment", "metric", "untraced", "traced", "delta",
                                                 "delta_rel", "events", "discarded"], pairs,
                  "every run traced too: its headline number untraced and traced, and the trace's event counts")
        body, cls = [], []
        for p in pairs:
            body.append([esc(p["id"]), esc(p["experiment"]), esc(p["metric"] or "–"), n(p["untraced"], fmt_g),
                         n(p["traced"], fmt_g), n(p["delta"], fmt_g), n(p["delta_rel"], fmt_pct),
                         n(p["events"], fmt_g), n(p["discarded"], str),
                         "" if p["traced_really"] else '<span class="flag">not traced</span>'])
            cls.append(None if p["traced_really"] else "warn")
        pg.table(["run", "experiment", "headline", "untraced", "traced", "Δ", "Δ %", "events recorded",
                  "discarded", ""], body, cls)
        pg.p("One pair is one sample of a noisy machine: a Δ smaller than the run's repeat-to-repeat spread "
             "says nothing. The per-message cost below divides the difference by the events each round trip "
             "records.", "note")
        pg.p(traced_fork_note(ctx, pairs), "note")
    else:
        pg.p("No traced/untraced pair (bench/run --untraced, or no line of KIND ipclab).", "note")

    pg.h(3, "Tracing cost per message (ipc latency)", "tracing-msg")
    if trc:
        traced_fig = []
        for t in trc:
            traced_fig.append({"x": len(traced_fig) + 1, "label": t["label"],
                               "u_p50": us(t["untraced_p50_ns"]), "u_p99": us(t["untraced_p99_ns"]),
                               "u_mean": us(t["untraced_mean_ns"]), "t_p50": us(t["traced_p50_ns"]),
                               "t_p99": us(t["traced_p99_ns"]), "t_mean": us(t["traced_mean_ns"]), "id": t["id"]})
        traced_tsv = ctx.tsv("traced.tsv")
        write_tsv(traced_tsv, ["x", "label", "u_p50", "u_p99", "u_mean", "t_p50", "t_p99", "t_mean", "id"],
                  traced_fig, "figure: round trip untraced vs traced (µs)")
        rows, cls = [], []
        for t in trc:
            bad = not t["traced_really"] or t["events_per_rtt_ok"] is False
            below = (num(t["cost_per_event_mean_ns"]) and num(t["noise_per_event_ns"])
                     and abs(t["cost_per_event_mean_ns"]) < t["noise_per_event_ns"])
            rows.append([esc(t["id"]), esc(t["mode"]), esc(t["placement_text"]),
                         n(t["untraced_mean_ns"], fmt_us), n(t["traced_mean_ns"], fmt_us),
                         n(t["delta_mean_ns"], lambda v: fmt_ns(v, 0)),
                         ("%.3f" % t["events_per_rtt"], "n" if t["events_per_rtt_ok"] is not False else "n flag"),
                         n(t["cost_per_event_mean_ns"], lambda v: "<b>%s</b>" % fmt_ns(v, 1)),
                         n(t["delta_p50_ns"], lambda v: fmt_ns(v, 0)),
                         n(t["cost_per_event_p50_ns"], lambda v: fmt_ns(v, 1)),
                         (fmt_ns(t["noise_per_event_ns"], 1), "n flag" if below else "n"),
                         '<span class="flag">trace not recorded</span>' if not t["traced_really"]
                         else esc(t["events_per_rtt_source"])])
            cls.append("warn" if bad else None)
        pg.table(["run", "mode", "placement", "untraced mean (µs)", "traced mean (µs)", "Δ mean (ns)",
                  "events / round trip", "cost per event, mean (ns)", "Δ p50 (ns)", "cost per event, p50 (ns)",
                  "noise (ns/event)", "events per round trip from"], rows, cls)
        pg.p("Cost per event = (traced − untraced) / events per round trip, the events counted in the trace "
             "(<code>ipc latency</code> promises 4: a send and a receive on each side). <i>Noise</i> = the larger "
             "repeat-to-repeat stddev of the two means, per event: a cost below it (red) cannot be told apart "
             "from drift.", "note")
        ctx.figure(pg, "traced.gp", traced_tsv, "traced",
                   "ipc latency round trip, untraced vs traced (4 ipclab\\_msg events per round trip)",
                   "Round trip untraced vs traced — p50 bars, whiskers to p99, means as diamonds")
    else:
        pg.p("No traced <code>ipc latency</code> run.", "note")

    stream_part(ctx, pg)

    pg.h(3, "Traces", "traces")
    if trs:
        rows, cls = [], []
        for t in trs:
            rows.append([esc(t["id"]), link(t["dir"], d) if t["dir"] else "–",
                         "yes" if t["traced"] else ('<span class="flag">no</span>' if t["traced"] is False else "–"),
                         n(t["events_total"], str), esc(t["events_by_name"] or "–"),
                         n(t["discarded_events"], str), n(t["discarded_packets"], str),
                         ('<b>WARNING:</b> %s' % esc(t["warning"])) if t["warning"] else "ok"])
            cls.append("warn" if t["warning"] else None)
        pg.table(["run", "trace folder", "traced", "events", "by name", "discarded events",
                  "discarded packets", "status"], rows, cls)
        pg.p("Open a trace with <code>babeltrace2 traces/ID</code> or in Trace Compass (File → Open Trace…, "
             "type LTTng UST Trace).", "note")
    else:
        pg.p("No traced runs (bench/run --untraced).", "note")
    clk = sorted({r["clock_read_ns"] for r in lat if r["variant"] == "untraced" and num(r["clock_read_ns"])})
    if clk:
        pg.p("Clock read (CLOCK_MONOTONIC) measured inside the latency runs: %s ns. Each round trip carries two "
             "clock reads and one histogram record per side." % "–".join(sorted({fmt_ns(clk[0], 0), fmt_ns(clk[-1], 0)})),
             "note")
    return True


def runs_section(ctx, pg):
    sts = ctx.statuses
    d = ctx.dir
    bad = [s for s in sts if s["status"] != "ok" or s["leftovers"]]
    if bad:
        rows, cls = [], []
        for s in bad:
            rows.append([n(s["index"], str), esc(s["id"]), esc(s["kind"]), esc(s["variant"]),
                         ('<span class="flag">%s</span>' % esc(s["status"])) if s["status"] == "failed"
                         else esc(s["status"]),
                         n(s["exit_code"], str), esc(s["reason"] or ""),
                         esc(s["leftovers"]) if s["leftovers"] else "",
                         link(s["stderr"], d, "stderr") if s["stderr"] and os.path.exists(s["stderr"]) else "–"])
            cls.append("warn" if s["status"] == "failed" or s["leftovers"] else None)
        pg.table(["#", "run", "kind", "variant", "status", "exit", "reason", "left behind", "log"], rows, cls)
    elif sts:
        pg.p('<span class="ok">Every run succeeded and left nothing behind.</span>')
    else:
        pg.p("No matrix.json: run statuses unknown.", "note")
    trans = [s for s in sts if s.get("leftovers_transient")]
    if trans:
        pg.p("Seen during a run but gone by the end of the matrix (objects of other programs running on this "
             "machine at the same time, not left behind): " +
             "; ".join("%s: %s" % (esc(s["id"]), esc(s["leftovers_transient"])) for s in trans) + ".", "note")
    pg.p("Exit codes: 3 = no resource, 4 = unsupported (skipped, the matrix goes on); anything else non-zero "
         "is a failure. A skipped run's JSON is still read when it holds results (a throughput sweep that "
         "stopped at a queue's size limit).", "note")
    body = [[n(s["index"], str), esc(s["id"]), esc(s["kind"]), esc(s["variant"]), esc(s["status"]),
             n(s["elapsed_s"], lambda v: "%.1f" % v)] for s in sts]
    sub = Page()
    sub.table(["#", "run", "kind", "variant", "status", "seconds"], body)
    total = sum(s["elapsed_s"] for s in sts if num(s["elapsed_s"]))
    pg.add("<details><summary>All %d runs of the matrix (%.0f s of commands)</summary>%s</details>\n"
           % (len(sts), total, "".join(sub.parts)))
    return True


def noisy_section(ctx, pg):
    ovh = ctx.overhead
    # a relative stddev of a near-zero quantity (the untraced tracepoint: a not-taken branch) means nothing
    for o in ovh:
        for rsd, v, var in ((o["untraced_rsd"], o["untraced"], "untraced"), (o["traced_rsd"], o["traced"], "traced")):
            if num(v) and abs(v) >= 1.0:
                ctx.flag_noisy("core", o["id"], "%s, %s" % (o["quantity"], var), rsd)
    if ctx.noisy:
        pg.p("Repeat-to-repeat relative standard deviation above %s: read these numbers with care (2 shared "
             "CPUs; other work on the host moves them). Flagged red where they appear." % fmt_pct(NOISY, 0))
        rows = [[esc(x["area"]), esc(x["run"]), esc(x["what"]), n(x["rsd"], fmt_pct)] for x in ctx.noisy]
        pg.table(["area", "run", "quantity", "rel. stddev"], rows, ["warn"] * len(rows))
    else:
        pg.p('<span class="ok">No row above %s repeat-to-repeat relative stddev.</span>' % fmt_pct(NOISY, 0))
    return True


def compare_section(ctx, pg):
    """The comparison with the previous results folder, from compare.json (scripts/ipclab-compare)."""
    d = ctx.dir
    path = os.path.join(d, "compare.json")
    if not os.path.exists(path):
        return False
    try:
        with open(path) as f:
            cmp = json.load(f)
    except (OSError, ValueError) as e:
        pg.p('<span class="flag">compare.json unreadable: %s</span>' % esc(str(e)))
        return True
    pg.p("From <code>scripts/ipclab-compare %s %s</code> (<a href=\"compare.json\">compare.json</a>): the median "
         "change of every latency summary and throughput the two folders share, with a 95 %% interval and a "
         "verdict; a verdict the per-repeat medians do not back is reported as no change, and so is a change "
         "within the A/A noise of its row (%s)." %
         (esc(os.path.basename(str(cmp.get("a", "A")).rstrip("/"))), esc(os.path.basename(str(cmp.get("b", "B")).rstrip("/"))),
          "from <code>%s</code>, %s rows" % (esc(cmp.get("noise")), esc(cmp.get("noise_rows"))) if cmp.get("noise")
          else "none measured for these folders: <code>make bench</code> writes aa.json"),
         "note")
    if cmp.get("interleaved") is not True:
        pg.p('<span class="flag">Confounded by drift:</span> %s.' % esc(cmp.get("drift") or
                                                                       "the two folders were measured at different times"))
    rows, cls = [], []
    for r in cmp.get("rows") or []:
        ci = r.get("ci_pct")
        rows.append([esc(r.get("id")), esc(r.get("metric")), esc(r.get("method")),
                     n(r.get("change_pct"), lambda v: "%+.1f %%" % v),
                     esc("[%+.1f %%, %+.1f %%]" % tuple(ci)) if ci else "",
                     esc(r.get("verdict")), esc(r.get("note") or "")])
        cls.append("warn" if r.get("verdict") in ("slower",) else "")
    if rows:
        pg.table(["run", "metric", "method", "change", "95 % CI", "verdict", "note"], rows, cls)
    else:
        pg.p("No common runs.")
    return True


def speed_section(ctx, pg):
    """Trace-analysis speed (bench/analyze-speed, make bench): the plugin vs babeltrace2's sinks."""
    d = ctx.dir
    path = os.path.join(d, "analyze-speed.json")
    if not os.path.exists(path):
        return False
    try:
        with open(path) as f:
            sp = json.load(f)
        sizes, targets = sp["sizes"], sp["targets"]
    except (OSError, ValueError, KeyError) as e:
        pg.p('<span class="flag">analyze-speed.json unreadable (want schema ipclab-bench-analyze-speed/2): '
             '%s</span>' % esc(str(e)))
        return True
    pg.p("From <code>bench/analyze-speed</code> (<a href=\"analyze-speed.json\">analyze-speed.json</a>): each "
         "trace is read %s times by each command, interleaved; median CPU time (user+sys of the command). "
         "The targets are judged on the largest trace (%s events). <code>plugin</code> is the graph "
         "<code>scripts/ipclab-analyze</code> runs: every stream of <code>source.ctf.fs</code> straight "
         "into the sink, which merges them by time; the other babeltrace2 commands go through the CLI's "
         "muxer. All commands give the same analysis result (checked)." %
         (esc(sp.get("rounds")), esc(sp.get("judged_on_events"))), "note")
    commands = (("counter", "babeltrace2 TRACE -c sink.utils.counter"),
                ("plugin", "babeltrace2 run: source.ctf.fs &rarr; sink.ipclab.analyze"),
                ("muxer", "babeltrace2 TRACE -c sink.ipclab.analyze"),
                ("wrapper", "scripts/ipclab-analyze --json F TRACE"),
                ("text", "babeltrace2 TRACE &gt; /dev/null"))
    rows = []
    for sz in sizes:
        tr = sz.get("trace") or {}
        for name, what in commands:
            r = (sz.get("runs") or {}).get(name) or {}
            rows.append([n(tr.get("events"), lambda v: "%.1f M" % (v / 1e6)), "<code>%s</code>" % what,
                         n(r.get("median_cpu_s"), lambda v: "%.3f s" % v),
                         n(r.get("events_per_s"), lambda v: "%.2f M/s" % (v / 1e6)),
                         n(r.get("max_rss_kb"), lambda v: "%.1f MiB" % (v / 1024))])
    pg.table(["events", "command", "CPU time", "events/s", "peak RSS"], rows)
    rows, cls = [], []
    for sz in sizes:
        ev = (sz.get("trace") or {}).get("events")
        ratios = sz.get("ratios") or {}
        for k, label in (("plugin_vs_counter", "plugin speed / counter speed"),
                         ("plugin_vs_text", "plugin speed / text output speed"),
                         ("counter_vs_text", "counter speed / text output speed"),
                         ("muxer_vs_counter", "plugin behind the CLI's muxer / counter"),
                         ("wrapper_vs_counter", "ipclab-analyze (checks included) / counter")):
            v, t = ratios.get(k), targets.get(k)
            ok = t is None or (v is not None and v >= t)
            rows.append([n(ev, lambda x: "%.1f M" % (x / 1e6)), esc(label), n(v, lambda x: "%.2f" % x),
                         "&ge; %.1f" % t if t else "", "" if t is None else ("met" if ok else "NOT met")])
            cls.append("" if ok else "warn")
    pg.table(["events", "ratio", "measured", "target", ""], rows, cls)
    return True


def env_section(ctx, pg):
    env = ctx.res.env
    si = env.get("sysinfo") or {}
    rows = [[esc(k), esc(v)] for k, v in sorted(si.items())]
    rows += [["cpus online", esc(env.get("cpus_online"))], ["git describe", esc(env.get("git"))],
             ["branch", esc(env.get("git_branch"))], ["build", esc(env.get("build"))],
             ["collected", esc(env.get("date"))],
             ["kernel command line", "<code>%s</code>" % esc(env.get("kernel_cmdline"))]]
    for k, v in sorted((env.get("limits") or {}).items()):
        rows.append(["limit: " + esc(k), esc(v)])
    for k, v in sorted((env.get("tools") or {}).items()):
        rows.append(["tool: " + esc(k), esc(v) if v else '<span class="flag">not installed</span>'])
    for k, v in sorted((env.get("packages") or {}).items()):
        rows.append(["package: " + esc(k), esc(v)])
    pg.table(["key", "value"], rows)
    cmds = env.get("commands") or []
    pg.add("<details><summary>%d command lines run by bench/run</summary><pre>%s</pre></details>\n"
           % (len(cmds), esc("\n".join("[%s %s] %s" % (c.get("id"), c.get("variant"), c.get("command"))
                                       for c in cmds))))
    pg.p("Captured by <code>scripts/collect-env</code> into <a href=\"env.json\">env.json</a>; per-run details in "
         "<a href=\"matrix.json\">matrix.json</a>.", "note")
    return True


def warnings_block(ctx, pg):
    """The warnings at the top: failures, skips, leftovers, traces, untraced runs, noisy rows."""
    sts, trs, lat, pairs = ctx.statuses, ctx.traces, ctx.latency, ctx.pairs
    res = ctx.res
    items = []
    for w in res.warnings + ctx.figs.errors:
        items.append(esc(w))
    failed = [s for s in sts if s["status"] == "failed"]
    skipped = [s for s in sts if s["status"] == "skipped"]
    for s in failed:
        items.append('<span class="flag">FAILED</span> %s (%s): %s' % (esc(s["id"]), esc(s["variant"]),
                                                                      esc(s["reason"] or "exit %s" % s["exit_code"])))
    for s in skipped:
        items.append("skipped %s (%s): %s" % (esc(s["id"]), esc(s["variant"]), esc(s["reason"] or "")))
    for s in sts:
        if s["leftovers"]:
            items.append('<span class="flag">left behind</span> by %s: %s' % (esc(s["id"]), esc(s["leftovers"])))
    for t in trs:
        if t["warning"]:
            items.append("trace %s: %s" % (esc(t["id"]), esc(t["warning"])))
    m = res.matrix
    if m.get("interrupted"):
        items.append('<span class="flag">the matrix was interrupted</span> after %s of %s runs'
                     % (esc(m.get("runs_done")), esc(m.get("total_runs"))))
    unt = [r for r in res.manifest_runs() if r.get("variant") == "untraced"]
    only = [r for r in unt if r.get("kind") == "ipclab:untraced"]
    if m.get("tracing") == "untraced":
        items.append("every run was untraced (bench/run --untraced): no trace, no tracing cost")
    elif only:
        items.append("%d of %d ipclab runs are untraced only (KIND ipclab:untraced in the matrix); %d have a "
                     "traced twin: %s" % (len(only), len(unt), len(pairs),
                                          esc(", ".join(p["id"] for p in pairs)) or "none"))
    for p in pairs:
        if not p["traced_really"]:
            items.append('<span class="flag">traced twin of %s did not record a trace</span>' % esc(p["id"]))
    mig = [r for r in lat if r["variant"] == "untraced" and r["migrated"]]
    if mig:
        items.append("%d latency run(s) ran on other CPUs than requested: %s"
                     % (len(mig), esc(", ".join(r["id"] for r in mig))))
    for area, text in ctx.warnings:
        items.append("%s: %s" % (esc(area), text))
    if ctx.noisy:
        by = {}
        for x in ctx.noisy:
            by[x["area"]] = by.get(x["area"], 0) + 1
        items.append('%d noisy row(s) (repeat rel. stddev &gt; %s): %s — see <a href="#noisy">noisy rows</a>'
                     % (len(ctx.noisy), fmt_pct(NOISY, 0), esc(", ".join("%s %d" % kv for kv in sorted(by.items())))))
    if items:
        pg.add("<ul class=\"warnings\">\n%s</ul>\n" % "".join("<li>%s</li>\n" % i for i in items))
    else:
        pg.p('<span class="ok">No warnings.</span>')
    return True


class Section:
    """One section of the report: anchor id, its entry in the contents, its heading, what
    it reads, and render(ctx, pg) -> False when it has nothing to show (then it is left out
    of the page and of the contents). Adding a section is one function and one row."""

    def __init__(self, anchor, nav, heading, reads, render):
        self.anchor, self.nav, self.heading, self.reads, self.render = anchor, nav, heading, reads, render


# the page, in order; the warnings come first but are rendered last (every section adds to them)
SECTIONS = [
    Section("warnings", "Warnings", "Warnings", "every section's warnings, matrix.json, traces/", warnings_block),
    Section("signals", "Signals", "Signals", "runs of signal *", signals.section),
    Section("ipc", "IPC", "IPC", "runs of ipc *, hist/", ipc.section),
    Section("sync", "Synchronisation", "Synchronisation", "runs of sync *", sync.section),
    Section("tasks", "Tasks", "Tasks: processes and threads", "runs of task *", tasks.section),
    Section("refs", "References: rt-tests, perf bench", "References: rt-tests and perf bench",
            "reference runs and the ipclab runs they are compared with", refs.section),
    Section("tracing", "Tracing cost and traces", "Tracing cost", "traced twins, core overhead, stream-cost.json, traces/",
            tracing_section),
    Section("trace-analysis", "Trace analysis", "Trace analysis: the numbers from the traces alone", "analysis/",
            traceana.section),
    Section("skipped", "Runs: skipped, failed", "Runs: skipped, failed, left behind", "matrix.json", runs_section),
    Section("noisy", "Noisy rows", "Noisy rows", "every section's noisy rows", noisy_section),
    Section("speed", "Trace analysis speed", "Trace analysis speed", "analyze-speed.json", speed_section),
    Section("expectations", "Timing expectations", "Timing expectations (shown, never failed on)",
            "runs of task spawn --sweep, task ctxsw, ipc latency shm-spin, sync event", expectations.section),
    Section("effects", "Effect rates", "Effect rates of the concurrency demos", "effect-rates.json",
            checks.effects_section),
    Section("aa", "A/A check", "A/A check: does the comparison cry wolf?", "aa.json", checks.aa_section),
    Section("compare", "Compared with", "Compared with the previous results", "compare.json", compare_section),
    Section("course", "Course map", "Course map: the course, item by item", "bench/course.map, every run",
            course.section),
    Section("env", "Environment", "Environment", "env.json", env_section),
]


def data_tables(ctx):
    """The whole-directory tables of data/ (every latency run, traced ones included)."""
    lat, perf, trc, ovh, trs, sts = ctx.latency, ctx.perf, ctx.tracing, ctx.overhead, ctx.traces, ctx.statuses
    lat_cols = ["id", "variant", "transport", "mode", "placement", "cpu_requested", "cpus_observed",
                "size", "iterations", "warmup", "repeat", "count", "min_us", "p50_us", "p90_us",
                "p99_us", "p999_us", "max_us", "mean_us", "stddev_us", "overflow",
                "oneway_ab_p50_us", "oneway_ba_p50_us", "rsd_mean", "rsd_p50", "noisy"]
    for r in lat:
        for k in ("min", "p50", "p90", "p99", "p999", "max", "mean", "stddev", "oneway_ab_p50", "oneway_ba_p50"):
            r[k + "_us"] = us(r[k + "_ns"])
    write_tsv(ctx.tsv("latency.tsv"), lat_cols, lat,
              "ipc latency: round-trip summary of every run (µs), from runs/ID[.traced].json")
    for p in perf:
        p["perf_mean_us"], p["ipclab_mean_us"], p["ipclab_p50_us"] = (
            us(p["perf_mean_ns"]), us(p["ipclab_mean_ns"]), us(p["ipclab_p50_ns"]))
    write_tsv(ctx.tsv("perf_compare.tsv"),
              ["id", "ipclab_id", "mode", "placement", "cpus", "pinned", "loops", "repeat", "perf_mean_us", "perf_rsd",
               "ipclab_mean_us", "ipclab_p50_us", "ipclab_rsd", "ratio_mean", "ratio_p50", "outside"], perf,
              "ipclab round-trip mean / perf bench sched pipe usecs/op (one loop = one round trip)")
    write_tsv(ctx.tsv("tracing_cost.tsv"),
              ["id", "mode", "placement", "untraced_mean_ns", "traced_mean_ns", "delta_mean_ns", "untraced_p50_ns",
               "traced_p50_ns", "delta_p50_ns", "events_per_rtt", "cost_per_event_mean_ns", "cost_per_event_p50_ns",
               "noise_per_event_ns"], trc,
              "tracing cost per event = (traced - untraced round trip) / events per round trip")
    write_tsv(ctx.tsv("overhead.tsv"), ["id", "key", "untraced", "untraced_rsd", "traced", "traced_rsd", "events"], ovh,
              "core overhead: harness costs in ns, untraced and traced")
    write_tsv(ctx.tsv("traces.tsv"), ["id", "traced", "events_total", "discarded_events", "discarded_packets",
                                      "warning"], trs, "traces: event and discard counts from traces/ID/ipclab-trace.json")
    write_tsv(ctx.tsv("runs.tsv"), ["index", "id", "kind", "variant", "status", "exit_code", "elapsed_s", "reason",
                                    "leftovers"], sts, "every run of the matrix, from matrix.json")
    # unpinned latency rows are not in the rankings: flag them here
    for r in lat:
        if r["variant"] == "untraced" and r["placement"] not in ("same-cpu", "cross-cpu"):
            ctx.flag_noisy("IPC", r["id"], "round trip p50, %s, %s, unpinned" % (r["transport"], r["mode"]), r["rsd_p50"])


def render(ctx):
    """[(section, its page)] of the sections that have something to show, in page order."""
    pages = {}
    for sec in SECTIONS[1:] + SECTIONS[:1]:
        pg = Page()
        pg.h(2, sec.heading, sec.anchor)
        if sec.render(ctx, pg) is not False:
            pages[sec.anchor] = pg
    return [(sec, pages[sec.anchor]) for sec in SECTIONS if sec.anchor in pages]


def build(d, figures_enabled):
    """Reads results folder d, writes data/, figures/ and report.html; returns (path of the
    report, the figure errors)."""
    traceana.ensure(d)  # analysis/ID.json for every trace not analysed yet
    res = Results(d)
    ctx = Ctx(res, Figures(d, figures_enabled))
    data_tables(ctx)
    shown = render(ctx)
    sts, trs = ctx.statuses, ctx.traces
    failed = [s for s in sts if s["status"] == "failed"]
    skipped = [s for s in sts if s["status"] == "skipped"]

    # ---------------- HTML
    m = res.matrix
    counts = m.get("counts") or {}
    pg = Page()
    title = "ipclab report — %s" % os.path.basename(os.path.normpath(d))
    pg.add("<h1>%s</h1>\n" % esc(title))
    pg.p("Results directory <code>%s</code>; matrix <code>%s</code> (%s), tracing: %s; started %s, finished %s. "
         "Generated by <code>scripts/report</code> from the JSON files of this directory; every table and figure "
         "reads <a href=\"data/\">data/*.tsv</a>, which it wrote from them. Figures: click for the SVG."
         % (esc(d), esc(m.get("matrix")), esc(m.get("matrix_name")), esc(m.get("tracing")),
            esc(m.get("started")), esc(m.get("finished"))), "note")
    problems = []
    if failed:
        problems.append("%d run(s) FAILED" % len(failed))
    if m.get("interrupted"):
        problems.append("the matrix was interrupted")
    if [s for s in sts if s["leftovers"]]:
        problems.append("some runs left IPC objects or sessions behind")
    if [t for t in trs if t["warning"]]:
        problems.append("traces with warnings")
    summary = "%s runs: %d ok, %d skipped, %d failed." % (
        len(sts) if sts else len(res.runs), counts.get("ok", len(res.runs)), counts.get("skipped", len(skipped)),
        counts.get("failed", len(failed)))
    if problems:
        pg.add('<div class="banner bad">%s %s — see <a href="#warnings">warnings</a>.</div>\n'
               % (esc(summary), esc("; ".join(problems))))
    else:
        pg.add('<div class="banner good">%s</div>\n' % esc(summary))
    pg.add("<nav><ul>%s</ul></nav>\n" % "".join('<li><a href="#%s">%s</a></li>' % (sec.anchor, esc(sec.nav))
                                                 for sec, _p in shown))
    for _sec, part in shown:
        pg.parts += part.parts
    pg.h(2, "Files")
    files = sorted(glob.glob(os.path.join(ctx.data, "*.tsv")))
    pg.p("Data: " + ", ".join(link(f, d, os.path.basename(f)) for f in files) +
         ". Results: " + ", ".join(link(res.run_files[k], d, os.path.basename(res.run_files[k]))
                                   for k in sorted(res.run_files)) + ".", "note")
    out = os.path.join(d, "report.html")
    write_text_atomic(out, pg.html(title))
    return out, ctx.figs.errors

