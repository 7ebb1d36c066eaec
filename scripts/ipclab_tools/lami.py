"""ipclab-lami - the ipclab trace analyses as a LAMI 1.0 analysis.

LAMI (LTTng analyses machine interface, https://github.com/lttng/lami-spec) is what
Trace Compass runs as an "External Analysis": add this script there (Window >
Preferences > Tracing > External Analyses, or "Add External Analysis" on a trace) and
its result tables appear as reports that can be charted. Trace Compass runs, in turn:

  ipclab-lami --mi-version                    print "1.0"
  ipclab-lami --metadata                      the analysis and its table classes (JSON)
  ipclab-lami --test-compatibility TRACE      exit 0 (no output) if TRACE holds ipclab
                                              events, else an error object and exit 1
  ipclab-lami TRACE [--begin NS] [--end NS] [--limit N|unlimited] [--output-progress]
                                              the result tables (JSON)

The results phase runs the babeltrace2 sink.ipclab.analyze plugin (as scripts/ipclab-analyze;
IPCLAB_BT2_PLUGIN_PATH selects the plugin directory) and turns its result into LAMI result
tables. Timestamps are ns since the Unix epoch (LTTng's clock origin); --begin/--end take
such a signed 64-bit number. A range that holds no ipclab event gives the tables with zero
rows (a result, not an error). A symbolic link to a trace folder is followed in every phase.

Errors: Trace Compass shows only standard error when the script fails, so every message is
one line on standard error ("ipclab-lami: reason"); standard output carries JSON only: the
LAMI error object {"error-message", "error-code"}. Exit 1 (no ipclab events, a corrupt
trace), 2 (usage: bad option, missing or non-CTF path, --end before --begin), 3 (babeltrace2
or the plugin missing).
"""

import json
import sys

from . import analyze, ctf, paths
from .cli import ArgumentParser, Failure, UsageError, parse_int

PROG = "ipclab-lami"
MI_VERSION = (1, 0)
VERSION = {"major": 1, "minor": 0, "patch": 0}

def col(title, cls, unit=None):
    """A LAMI column description."""
    c = {"title": title, "class": cls}
    if unit:
        c["unit"] = unit
    return c


def dist_cols(what):
    """Duration columns of a latency summary object."""
    return [col(what + " min", "duration"), col(what + " median", "duration"),
            col(what + " mean", "duration"), col(what + " p99", "duration"),
            col(what + " max", "duration"), col(what + " std dev", "duration")]


TABLE_CLASSES = {
    "summary": {
        "title": "Trace summary",
        "column-descriptions": [
            col("Time range", "time-range"), col("Events", "number", "events"),
            col("ipclab events", "number", "events"), col("Discarded events", "number", "events"),
            col("Discarded packets", "number", "packets"), col("Complete", "bool")],
    },
    "msg-latency": {
        "title": "Message delivery latency (msg_send to msg_recv) per transport and direction",
        "column-descriptions": [
            col("Transport", "string"), col("Direction", "string"), col("Matched", "number", "messages"),
            col("Unmatched sends", "number", "messages"), col("Unmatched receives", "number", "messages"),
        ] + dist_cols("Latency") + [col("Median, warm-up excluded", "duration")],
    },
    "msg-channels": {
        "title": "Message delivery latency per channel (repeat and direction)",
        "column-descriptions": [
            col("Transport", "string"), col("Channel", "number"), col("Repeat", "number"),
            col("Direction", "string"), col("Matched", "number", "messages"),
            col("Unmatched sends", "number", "messages"), col("Unmatched receives", "number", "messages"),
        ] + dist_cols("Latency"),
    },
    "sig-latency": {
        "title": "Signal delivery latency (sig_send to sig_receive) per signal",
        "column-descriptions": [
            col("Signal", "number"), col("Sends", "number", "signals"), col("Receives", "number", "signals"),
            col("Matched", "number", "signals"), col("Unmatched sends", "number", "signals"),
            col("Unmatched receives", "number", "signals"),
        ] + dist_cols("Latency"),
    },
    "lock-stats": {
        "title": "Lock wait (request to acquire) and hold (acquire to release) per lock",
        "column-descriptions": [
            col("Lock", "number"), col("Kind", "string"), col("Acquisitions", "number", "acquisitions"),
        ] + dist_cols("Wait") + dist_cols("Hold"),
    },
    "lock-threads": {
        "title": "Lock wait and hold per thread",
        "column-descriptions": [
            col("Thread", "process"), col("Waits", "number"), col("Total wait", "duration"),
            col("Max wait", "duration"), col("Holds", "number"), col("Total hold", "duration"),
            col("Max hold", "duration")],
    },
    "races": {
        "title": "Shared-counter races: lost updates per run (increments - (final - initial))",
        "column-descriptions": [
            col("Run", "time-range"), col("Increments", "number", "increments"),
            col("Final value", "number"), col("Lost updates", "number", "increments"),
            col("Overlapping windows", "number"), col("Lost ratio", "ratio")],
    },
    "task-stages": {
        "title": "Task timelines: time between spawn, start, exit and reap",
        "column-descriptions": [col("Stage", "string")] + dist_cols("Duration") + [
            col("Count", "number", "tasks")],
    },
    "timed-intervals": {
        "title": "Intervals the experiment timed itself: its own latency, and what tracing adds to each",
        "column-descriptions": [
            col("Analysis", "string"), col("Subject", "string"), col("Intervals", "number"),
        ] + dist_cols("Experiment's own") + [
            col("Tracing offset median", "duration"), col("Tracing offset p99", "duration"),
            col("Intervals seen twice", "number")],
    },
    "bus-states": {
        "title": "Bus driver and conductor: time per state",
        "column-descriptions": [
            col("Role", "string"), col("State", "string"), col("Intervals", "number"),
            col("Total", "duration")] + dist_cols("Duration"),
    },
}

METADATA = {
    "mi-version": {"major": MI_VERSION[0], "minor": MI_VERSION[1]},
    "version": VERSION,
    "title": "ipclab IPC analyses",
    "authors": ["ipclab"],
    "description": "Message and signal delivery latency, lock wait/hold, lost updates, task "
                   "timelines and bus states from traces recorded with scripts/ipclab-trace "
                   "(LTTng-UST ipclab_* events).",
    "tags": ["ipc", "latency", "lttng-ust", "ipclab"],
    "table-classes": TABLE_CLASSES,
}


def number(v):
    """A LAMI number cell."""
    return {"class": "number", "value": v}


def dur(v):
    return {"class": "duration", "value": v} if v is not None else {"class": "unknown"}


def text(v):
    return {"class": "string", "value": v}


def trange(b, e):
    return {"class": "time-range", "begin": {"class": "timestamp", "value": b},
            "end": {"class": "timestamp", "value": max(b, e)}}


def dist(s):
    """The six duration cells of a latency summary ({count,min,...}); unknown if empty."""
    if not s or not s.get("count"):
        return [{"class": "unknown"}] * 6
    return [dur(s["min"]), dur(s["p50"]), dur(round(s["mean"])), dur(s["p99"]), dur(s["max"]),
            dur(round(s["stddev"]))]


DIRECTION = {0: "initiator to responder", 1: "responder to initiator"}


def timed(d):
    """(analysis, subject, entry) of every result entry that carries the experiment's own
    view of its intervals (experiment, tracing_offset: src/analyze/README.md)."""
    for x in d["messages"]["by_direction"]:
        yield "message", "%s, %s" % (x["transport"], DIRECTION.get(x["direction"], str(x["direction"]))), x
    for x in d["signals"]["by_signo"]:
        yield "signal", "signal %s" % x["signo"], x
    for x in d["locks"]["locks"]:
        yield "lock", "lock %s (%s)" % (x["lock"], x["kind"]), x


def tables(d, begin, end, limit):
    """LAMI result tables from the sink.ipclab.analyze JSON result d. A table without
    rows is left out, unless the range holds no ipclab event at all: then every table is
    there with zero rows (the summary's one row says so)."""
    tr = d.get("time_range") or {}
    b = begin if begin is not None else tr.get("begin_ns", 0)
    e = end if end is not None else tr.get("end_ns", b)
    out = []

    def table(cls, rows):
        if limit is not None:
            rows = rows[:limit]
        if rows or cls == "summary" or not d["events"]["ipclab"]:
            out.append({"time-range": trange(b, e), "class": cls, "data": rows})

    ev = d["events"]
    table("summary", [[trange(tr.get("begin_ns", b), tr.get("end_ns", e)), number(ev["total"]), number(ev["ipclab"]),
                       number(d["discarded_events"]), number(d["discarded_packets"]),
                       {"class": "bool", "value": bool(d["complete"])}]])
    m = d["messages"]
    table("msg-latency", [
        [text(x["transport"]), text(DIRECTION.get(x["direction"], str(x["direction"]))), number(x["matched"]),
         number(x["unmatched_sends"]), number(x["unmatched_recvs"])] + dist(x["latency"]) +
        [dur(x["latency_measured"]["p50"]) if x["latency_measured"]["count"] else {"class": "unknown"}]
        for x in m["by_direction"]])
    table("msg-channels", [
        [text(c["transport"]), number(c["chan"]), number(c["repeat"]), text(DIRECTION.get(c["direction"], "?")),
         number(c["matched"]), number(c["unmatched_sends"]), number(c["unmatched_recvs"])] + dist(c["latency"])
        for c in m["channels"]])
    table("sig-latency", [
        [number(s["signo"]) if s["signo"] is not None else {"class": "unknown"}, number(s["sends"]),
         number(s["receives"]), number(s["matched"]), number(s["unmatched_sends"]), number(s["unmatched_receives"])] +
        dist(s["latency"]) for s in d["signals"]["by_signo"]])
    table("lock-stats", [
        [number(l["lock"]), text(l["kind"]), number(l["acquires"])] + dist(l["wait"]) + dist(l["hold"])
        for l in d["locks"]["locks"]])
    table("lock-threads", [
        [{"class": "process", "tid": t["vtid"]}, number(t["waits"]), dur(t["wait_total_ns"]), dur(t["wait_max_ns"]),
         number(t["holds"]), dur(t["hold_total_ns"]), dur(t["hold_max_ns"])] for t in d["locks"]["threads"]])
    table("races", [
        [trange(s["begin_ns"], s["end_ns"]), number(s["increments"]), number(s["final"]), number(s["lost_updates"]),
         number(s["overlapping_windows"]),
         {"class": "ratio", "value": s["lost_updates"] / s["increments"]} if s["increments"] else
         {"class": "unknown"}]
        for s in d["races"]["segments"]])
    t = d["tasks"]
    table("task-stages", [
        [text(name)] + dist(t[key]) + [number(t[key]["count"])]
        for name, key in (("spawn to start", "spawn_to_start"), ("start to exit", "start_to_exit"),
                          ("exit to reaped", "exit_to_reaped"), ("spawn to reaped", "spawn_to_reaped"))
        if t[key]["count"]])
    table("timed-intervals", [
        [text(what), text(subject), number(x["experiment"]["count"])] + dist(x["experiment"]) +
        [dur(x["tracing_offset"]["p50"]) if x["tracing_offset"]["count"] else {"class": "unknown"},
         dur(x["tracing_offset"]["p99"]) if x["tracing_offset"]["count"] else {"class": "unknown"},
         number(x["tracing_offset"]["count"])]
        for what, subject, x in timed(d) if (x.get("experiment") or {}).get("count")])
    table("bus-states", [
        [text(x["role"]), text(x["state"]), number(x["count"]), dur(x["total_ns"])] + dist(x["duration"])
        for x in d["bus"]["states"]])
    return out




def error_object(message, code):
    """The LAMI error object: the only thing on stdout when a phase fails."""
    return json.dumps({"error-message": message, "error-code": code})


def limit_type(s):
    return None if s == "unlimited" else parse_int(s, "--limit", 0)


def parser():
    p = ArgumentParser(prog=PROG, add_help=False, usage="%(prog)s --mi-version | --metadata | "
                       "--test-compatibility TRACE | TRACE [--begin NS] [--end NS] [--limit N|unlimited] "
                       "[--output-progress]")
    p.add_argument("trace", nargs="?", metavar="TRACE")
    p.add_argument("--mi-version", action="store_true")
    p.add_argument("--metadata", action="store_true")
    p.add_argument("--test-compatibility", action="store_true")
    p.add_argument("--output-progress", action="store_true")
    p.add_argument("--begin", metavar="NS")
    p.add_argument("--end", metavar="NS")
    p.add_argument("--limit", type=limit_type, default=None)
    p.add_argument("-h", "--help", action="store_true")
    return p


def ns_of(text, what):
    """A --begin/--end value: a signed 64-bit integer of ns, else UsageError."""
    return parse_int(text, what, analyze.INT64[0], analyze.INT64[1]) if text is not None else None


def results_phase(args, out):
    """The result tables of args.trace, as one JSON object on out."""
    if not args.trace:
        raise UsageError("no trace path given")
    begin, end = ns_of(args.begin, "--begin"), ns_of(args.end, "--end")
    if begin is not None and end is not None and end < begin:
        raise UsageError("--end %d is before --begin %d" % (end, begin))
    ctf.require_traces(args.trace)
    ctf.check_metadata(args.trace)
    plugin_path = paths.plugin_dir()
    analyze.require_plugin(plugin_path)
    if args.output_progress:
        out.write("0 analysing %s\n" % args.trace)
        out.flush()
    bt_begin, bt_end = analyze.check_range(args.begin, args.end)
    d, _text = analyze.analyse([args.trace], plugin_path, begin=bt_begin, end=bt_end)
    if not d["events"]["ipclab"] and begin is None and end is None:
        raise Failure("%s: no ipclab events in the trace (was it recorded with scripts/ipclab-trace?)" % args.trace)
    res = {"results": tables(d, begin, end, args.limit)}
    if args.output_progress:
        out.write("1 done\n")
    out.write(json.dumps(res) + "\n")


def main(argv, out=None, err=None):
    """The LAMI phases; returns the exit status (never raises a Failure: it becomes an
    error object on out and one line on err)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = parser().parse_args(argv)
        if args.help:
            out.write(__doc__)
            return 0
        if args.mi_version:
            out.write("%d.%d\n" % MI_VERSION)
            return 0
        if args.metadata:
            out.write(json.dumps(METADATA) + "\n")
            return 0
        if args.test_compatibility:
            if not args.trace:
                raise UsageError("no trace path given")
            if not ctf.declares_ipclab(args.trace):
                raise Failure("%s: the trace declares no ipclab events" % args.trace)
            return 0
        results_phase(args, out)
        return 0
    except Failure as e:
        err.write("%s: %s\n" % (PROG, e.message))
        out.write(error_object(e.message, e.code) + "\n")
        return e.code


def entry():
    try:
        code = main(sys.argv[1:])
        sys.stdout.flush()
    except BrokenPipeError:
        code = 1
    sys.exit(code)
