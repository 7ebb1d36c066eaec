"""Trace analysis: what scripts/ipclab-analyze (the babeltrace2 plugin) found in every
trace of the directory (analysis/ID.json: ensure() runs it on the traces that have no
analysis yet), one row per traced run, with the exact agreements the trace must have with
the traced run's own JSON."""

import json
import os
import subprocess
import sys

from ..paths import SCRIPTS, plugin_dir
from .figures import write_tsv
from .page import esc, link, n
from ..fmt import fmt_us, num

def ensure(d):
    """Runs scripts/ipclab-analyze on every recorded trace of results directory d that has
    no analysis yet: analysis/ID.json and analysis/ID/*.tsv, or analysis/ID.err with the
    reason it could not be analysed. Returns how many were analysed now."""
    done = 0
    tdir = os.path.join(d, "traces")
    if not os.path.isdir(tdir):
        return 0
    for tid in sorted(os.listdir(tdir)):
        summary = os.path.join(tdir, tid, "ipclab-trace.json")
        try:
            with open(summary) as f:
                if json.load(f).get("traced") is not True:
                    continue
        except (OSError, ValueError, AttributeError):
            continue
        adir = os.path.join(d, "analysis")
        out, err = os.path.join(adir, tid + ".json"), os.path.join(adir, tid + ".err")
        if os.path.exists(out) or os.path.exists(err):
            continue
        os.makedirs(adir, exist_ok=True)
        print("%s: analysing traces/%s" % ("report", tid), file=sys.stderr)
        with open(err, "w") as ef:
            rc = subprocess.call([os.path.join(SCRIPTS, "ipclab-analyze"), "--plugin-path", plugin_dir(),
                                  "--quiet", "--allow-empty", "--json", out, "--tsv", os.path.join(adir, tid),
                                  os.path.join(tdir, tid)], stdout=subprocess.DEVNULL, stderr=ef)
        if rc == 0 and os.path.getsize(err) == 0:
            os.unlink(err)
        elif rc != 0 and os.path.exists(out):
            os.unlink(out)
        done += 1
    return done


def _us(v):
    return fmt_us(v) if num(v) else "–"


def _lat(s):
    """p50 of a latency summary (µs text), '–' when empty."""
    return _us(s.get("p50")) if isinstance(s, dict) and s.get("count") else "–"


def _messages(m):
    if not (m.get("sends") or m.get("recvs")):
        return ""
    dirs = ", ".join("%s dir %s p50 %s µs" % (x.get("transport"), x.get("direction"),
                                               _lat(x.get("latency_measured") or x.get("latency")))
                     for x in (m.get("by_direction") or [])[:4])
    return "%d matched of %d sent, %d received; unmatched %d/%d%s" % (
        m.get("matched", 0), m.get("sends", 0), m.get("recvs", 0), m.get("unmatched_sends", 0),
        m.get("unmatched_recvs", 0), "; " + dirs if dirs else "")


def _signals(s):
    if not (s.get("sends") or s.get("receives") or s.get("child_reaps")):
        return ""
    by = ", ".join("signal %s p50 %s µs" % (x.get("signo"), _lat(x.get("latency")))
                   for x in (s.get("by_signo") or [])[:4])
    return "%d matched of %d sent, %d received%s%s" % (
        s.get("matched", 0), s.get("sends", 0), s.get("receives", 0),
        "; %d reaps" % s["child_reaps"] if s.get("child_reaps") else "", "; " + by if by else "")


def _locks(lk):
    ls = lk.get("locks") or []
    if not ls:
        return ""
    parts = ["lock %s %s: %d waits p50 %s µs, hold p50 %s µs" % (
        x.get("lock"), x.get("kind"), (x.get("wait") or {}).get("count", 0), _lat(x.get("wait")),
        _lat(x.get("hold"))) for x in ls[:3]]
    if len(ls) > 3:
        parts.append("%d more" % (len(ls) - 3))
    return "; ".join(parts)


def _races(r):
    if not r.get("segments_total"):
        return ""
    return "%d increments, %d lost updates" % (r.get("increments", 0), r.get("lost_updates", 0))


def _tasks(t):
    if not (t.get("spawned") or t.get("reaped")):
        return ""
    return "%d spawned, %d reaped, %d complete timelines; spawn→start p50 %s µs" % (
        t.get("spawned", 0), t.get("reaped", 0), t.get("complete_timelines", 0), _lat(t.get("spawn_to_start")))


def _bus(b):
    if not b.get("transitions") and not b.get("states"):
        return ""
    return "%d transitions; final: %s" % (b.get("transitions", 0), ", ".join(
        "%s %s" % (f.get("role"), f.get("state")) for f in b.get("final_states") or []))


def _checks(a, doc):
    """(text, ok) agreements between the trace and the traced run's JSON that must be exact."""
    out = []
    if not doc:
        return out
    exp, p, r = doc.get("experiment"), doc.get("params") or {}, doc.get("results") or {}
    m = a.get("messages") or {}
    if exp == "ipc latency" and num(r.get("messages_per_repeat")) and num(p.get("repeat")):
        want = r["messages_per_repeat"] * p["repeat"]
        out.append(("messages matched %d = 2·(N+W)·R = %d" % (m.get("matched", 0), want),
                    m.get("matched") == want and not m.get("unmatched_sends") and not m.get("unmatched_recvs")))
    elif exp == "ipc throughput" and (m.get("sends") or m.get("recvs")):
        out.append(("every message paired (%d sent, %d matched)" % (m.get("sends", 0), m.get("matched", 0)),
                    m.get("matched") == m.get("recvs") and not m.get("unmatched_recvs")))
    sg = a.get("signals") or {}
    if exp == "signal latency" and all(num(p.get(k)) for k in ("iterations", "warmup", "repeat")):
        want = 2 * (p["iterations"] + p["warmup"]) * p["repeat"]
        out.append(("signals matched %d = 2·(N+W)·R = %d" % (sg.get("matched", 0), want),
                    sg.get("matched") == want and not sg.get("unmatched_sends") and not sg.get("unmatched_receives")))
    if exp == "core overhead" and num(r.get("tracepoint_events")):
        got = ((a.get("events") or {}).get("by_name") or {}).get("ipclab_run:probe", 0)
        out.append(("probe events %d = the run's %d" % (got, r["tracepoint_events"]), got == r["tracepoint_events"]))
    tk = a.get("tasks") or {}
    if exp == "task spawn" and not p.get("sweep") and all(num(p.get(k)) for k in ("iterations", "warmup")):
        want = p["iterations"] + p["warmup"]
        out.append(("tasks spawned %d, reaped %d = N+W = %d" % (tk.get("spawned", 0), tk.get("reaped", 0), want),
                    tk.get("spawned") == want and tk.get("reaped") == want))
    races = a.get("races") or {}
    if exp == "sync race" and races.get("segments_total") and num(r.get("lost_updates")):
        out.append(("lost updates %d = the run's %d" % (races.get("lost_updates", 0), r["lost_updates"]),
                    races.get("lost_updates") == r["lost_updates"]))
    if exp == "sync handoff" and num(r.get("round_trips")):
        waits = sum((x.get("wait") or {}).get("count", 0) for x in (a.get("locks") or {}).get("locks") or [])
        out.append(("lock waits %d = 2 × %d round trips" % (waits, r["round_trips"]), waits == 2 * r["round_trips"]))
    return out


def rows(res):
    """One row per trace with an analysis (or a failed one)."""
    out = []
    for rid in [i for i in res.order() if i in res.analysis] + sorted(set(res.analysis) - set(res.order())):
        a = res.analysis[rid]
        doc = res.runs.get((rid, "traced"))
        if "error" in a:
            out.append({"id": rid, "experiment": (doc or {}).get("experiment"), "error": a["error"]})
            continue
        ev = a.get("events") or {}
        checks = _checks(a, doc)
        out.append({
            "id": rid, "experiment": (doc or {}).get("experiment"), "error": None,
            "events": ev.get("total"), "ipclab_events": ev.get("ipclab"), "complete": a.get("complete"),
            "discarded_events": a.get("discarded_events"), "discarded_packets": a.get("discarded_packets"),
            "duration_ns": (a.get("time_range") or {}).get("duration_ns"),
            "messages": _messages(a.get("messages") or {}), "signals": _signals(a.get("signals") or {}),
            "locks": _locks(a.get("locks") or {}), "races": _races(a.get("races") or {}),
            "tasks": _tasks(a.get("tasks") or {}), "bus": _bus(a.get("bus") or {}),
            "checks": "; ".join("%s: %s" % (t, "ok" if ok else "MISMATCH") for t, ok in checks),
            "checks_ok": all(ok for _t, ok in checks), "warnings": "; ".join(a.get("warnings") or []),
        })
    return out


def section(ctx, pg):
    res, d = ctx.res, ctx.dir
    rs = rows(res)
    if not rs:
        pg.p("No trace was analysed (an untraced matrix, or a directory written before make-report's "
             "analysis step).", "note")
        return True
    write_tsv(ctx.tsv("trace_analysis.tsv"),
              ["id", "experiment", "error", "events", "ipclab_events", "complete", "discarded_events",
               "discarded_packets", "duration_ns", "messages", "signals", "locks", "races", "tasks", "bus",
               "checks", "checks_ok", "warnings"], rs,
              "trace analysis (scripts/ipclab-analyze, analysis/ID.json): one row per traced run")
    pg.p("Each trace of this directory read by the babeltrace2 plugin <code>sink.ipclab.analyze</code> "
         "(<code>scripts/ipclab-analyze traces/ID --json analysis/ID.json --tsv analysis/ID</code>): message "
         "pairs by channel and sequence number, signal deliveries, lock waits and holds, lost updates, task "
         "timelines and bus states, with no input from the run itself. <i>Checks</i> set exact counts against "
         "the traced run's own JSON (<code>runs/ID.traced.json</code>); latencies are the trace's (a tracepoint "
         "apart from the run's own stamps, see Tracing cost).", "note")
    body, cls = [], []
    for r in rs:
        link_cell = link(os.path.join(d, "analysis", r["id"] + ".json"), d, r["id"])
        if r["error"]:
            body.append([link_cell, esc(r["experiment"] or "–"), "", "",
                         '<span class="flag">analysis failed: %s</span>' % esc(r["error"]), "", "", "", "", "", ""])
            cls.append("warn")
            res.warnings.append("trace %s could not be analysed: %s" % (r["id"], r["error"]))
            continue
        incomplete = r["complete"] is False
        if incomplete:
            res.warnings.append("trace %s is incomplete (%s events, %s packets discarded): its analysis counts "
                                "are lower bounds" % (r["id"], r["discarded_events"], r["discarded_packets"]))
        if r["checks"] and not r["checks_ok"]:
            res.warnings.append("trace %s disagrees with its run: %s" % (r["id"], r["checks"]))
        body.append([link_cell, esc(r["experiment"] or "–"), n(r["ipclab_events"], str),
                     ("yes" if not incomplete else '<span class="flag">no</span>'),
                     esc(r["messages"]), esc(r["signals"]), esc(r["locks"]), esc(r["races"]), esc(r["tasks"]),
                     esc(r["bus"]),
                     (esc(r["checks"]) if r["checks_ok"] else '<span class="flag">%s</span>' % esc(r["checks"]))])
        cls.append("warn" if incomplete or not r["checks_ok"] else None)
    pg.table(["run", "experiment", "ipclab events", "complete", "messages", "signals", "locks", "lost updates",
              "tasks", "bus", "checks against the run"], body, cls)
    return True
