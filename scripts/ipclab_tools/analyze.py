"""ipclab-analyze - run the ipclab trace analyses (babeltrace2 sink.ipclab.analyze) on
one or more CTF traces and print a summary, or write the JSON/TSV results.

The plugin does the work; this checks the inputs first so a user gets one clear line
instead of babeltrace2's error chain: a missing directory, a directory without a CTF
trace, a truncated metadata file (babeltrace2 2.0 spins forever on a metadata packet cut
short, so those are refused before it runs), a bad --begin/--end, a corrupt or truncated
trace (babeltrace2 fails: its deepest cause is reported), a trace without ipclab events.
A libbabeltrace2 abort is reported too, without a core file."""

import argparse
import ctypes
import json
import os
import re
import resource
import shlex
import signal
import shutil
import subprocess
import sys
import tempfile

from . import ctf, paths
from .cli import ArgumentParser, Failure, NoResource, UsageError, run
from .results import write_text_atomic

PROG = "ipclab-analyze"
INT64 = (-(1 << 63), (1 << 63) - 1)
DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2} )?\d{1,2}:\d{2}(:\d{2}(\.\d{1,9})?)?")
SECONDS_RE = re.compile(r"-?\d+\.\d{1,9}")
# a live session's URL as source.ctf.lttng-live takes it: net[4]://HOST[:PORT]/host/HOSTNAME/SESSION
LIVE_URL_RE = re.compile(r"(net4?://[^/\s]+)/host/([^/\s]+)/([^/\s]+)")
LIVE_RELAY_RE = re.compile(r"net4?://[^/\s]+/?")
LIVE_TIMEOUT_S = 60  # how long babeltrace2 may take to end after Ctrl-C or the result

HELP = """\
Analyse the ipclab events of the CTF trace(s) TRACE (directories, e.g. what
scripts/ipclab-trace --out wrote): message and signal delivery latency, lock
wait/hold, lost updates, task timelines, bus states. Prints a summary.

With --live URL, follow a live LTTng session instead (scripts/ipclab-trace --relayd R
--live streams one to a relay daemon; URL = net://RELAY_HOST:LIVE_PORT/host/HOSTNAME/
SESSION, the session and hostname ipclab-trace prints as it starts): once a second a
line of the analysis so far (messages matched and per second, one-way p50/p99 per
transport and direction, signals and their p50/p99 per signal, lock waits and their
p50/p99 per lock), then, when the session is destroyed (the traced command ended), the
same result and summary as the offline analysis of that session's trace (the
relay daemon serves the session from its beginning, whenever the reader attaches;
once the session is destroyed it can no longer be attached to).

The JSON says "complete": false (and this warns on stderr) when the tracer discarded
events or packets, or a stream file was not read whole (empty, or shorter than its index
says: "incomplete_streams"): counts are then lower bounds. A damaged trace (time going
backwards in a stream, packets that disagree with the index) is refused like a truncated
one."""

EPILOG = """\
--begin/--end take nanoseconds since the clock origin (the Unix epoch for LTTng), a
signed 64-bit integer; or seconds with up to 9 decimals (SEC.NANO); or babeltrace2's
[YYYY-MM-DD ]HH:MM[:SS[.NANO]]. Anything else is a usage error.

Exit status: 0 ok; 1 corrupt or truncated trace, no ipclab events, or the live
stream was lost; 2 usage error, missing directory or no CTF trace; 3 babeltrace2 or
the plugin missing, relay daemon unreachable, or no such live session."""


def parse_time(text, what):
    """(babeltrace2 time string, ns or None) of a --begin/--end value; UsageError if it
    is not a time or a number of ns beyond 64 bits."""
    s = text.strip()
    if re.fullmatch(r"-?\d+", s):
        v = int(s)
        if not INT64[0] <= v <= INT64[1]:
            raise UsageError("%s %s: out of range (a signed 64-bit number of nanoseconds)" % (what, s))
        sign, a = ("-", -v) if v < 0 else ("", v)
        return "%s%d.%09d" % (sign, a // 1000000000, a % 1000000000), v
    if SECONDS_RE.fullmatch(s):
        sec, frac = s.split(".")
        v = int(sec) * 1000000000 + (-1 if s.startswith("-") else 1) * int(frac.ljust(9, "0"))
        if not INT64[0] <= v <= INT64[1]:
            raise UsageError("%s %s: out of range (a signed 64-bit number of nanoseconds)" % (what, s))
        return s, v
    if DATE_RE.fullmatch(s):
        return s, None
    raise UsageError("%s '%s': not a time (nanoseconds since the epoch, SEC.NANO or "
                     "[YYYY-MM-DD ]HH:MM[:SS[.NANO]])" % (what, text))


def check_range(begin, end):
    """The babeltrace2 strings of --begin/--end; UsageError if end < begin (in ns)."""
    b = parse_time(begin, "--begin") if begin is not None else (None, None)
    e = parse_time(end, "--end") if end is not None else (None, None)
    if b[1] is not None and e[1] is not None and e[1] < b[1]:
        raise UsageError("--end %s is before --begin %s" % (end, begin))
    return b[0], e[0]


def bt_string(s):
    """s as a babeltrace2 parameter string literal."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def graph(traces, plugin_path, output, tsv_dir, begin, end):
    """The babeltrace2 arguments: the whole trace straight into the sink (every stream port
    of one source.ctf.fs per trace folder; the sink merges by time), or with a time range
    the CLI's muxer and trimmer in front of it."""
    params = []
    if output:
        params.append("output=%s" % bt_string(output))
    if tsv_dir:
        params.append("tsv-dir=%s" % bt_string(tsv_dir))
    sink_params = ["-p", ",".join(params)] if params else []
    if begin is not None or end is not None:
        args = ["--plugin-path=%s" % plugin_path] + [os.path.realpath(t) for t in traces]
        if begin is not None:
            args.append("--begin=%s" % begin)
        if end is not None:
            args.append("--end=%s" % end)
        return args + ["-c", "sink.ipclab.analyze"] + sink_params
    args = ["--plugin-path=%s" % plugin_path, "run"]
    dirs = sorted({d for t in traces for d in ctf.trace_dirs(t)})
    for n, d in enumerate(dirs):
        args += ["-c", "src%d:source.ctf.fs" % n, "-p", "inputs=[%s]" % bt_string(d), "-x", "src%d:sink" % n]
    return args + ["-c", "sink:sink.ipclab.analyze"] + sink_params


def first_cause(text):
    """The most specific cause of babeltrace2's error chain, on one line."""
    causes = []
    for block in re.split(r"\nCAUSED BY ", "\n" + text):
        lines = block.split("\n")
        if not lines or not lines[0].startswith("["):
            continue
        causes.append(" ".join(l.strip() for l in lines[1:]
                               if l.startswith("  ") and not re.match(r"\s*\d\d-\d\d ", l)))
    msg = ""
    for c in reversed(causes):
        if "query\" method failed" in c or "support-info query failed" in c:
            msg = "its metadata cannot be decoded (truncated or corrupt CTF metadata)"
            break
        if c:
            msg = c
            break
    if not msg:
        errs = [l for l in text.splitlines() if re.match(r"\d\d-\d\d \S+ +\d+ +\d+ [EF] ", l)]
        msg = re.sub(r"^.*? [EF] \S+ ", "", errs[-1]) if errs else "no reason given"
    return re.sub(r"\s+", " ", msg)[:300]


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a libbabeltrace2 abort leaves no core file


PR_SET_PDEATHSIG = 1


def no_core_dies_with_us():
    """no_core, and babeltrace2 gets SIGTERM if this process dies (even SIGKILLed)."""
    no_core()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def live_graph(url, plugin_path, output, tsv_dir, summary_path):
    """The babeltrace2 arguments that follow the live session URL: source.ctf.lttng-live
    (ending when the session is destroyed) straight into the sink, which writes a summary
    line to summary_path once a second and the result to output at the end."""
    params = ["summary=%s" % bt_string(summary_path)]
    if output:
        params.append("output=%s" % bt_string(output))
    if tsv_dir:
        params.append("tsv-dir=%s" % bt_string(tsv_dir))
    return ["--plugin-path=%s" % plugin_path, "run",
            "-c", "src:source.ctf.lttng-live", "-p",
            'inputs=[%s],session-not-found-action="end"' % bt_string(url),
            "-c", "sink:sink.ipclab.analyze", "-p", ",".join(params), "-x", "src:sink"]


def parse_live_url(url):
    """(relay URL, hostname, session) of a live session URL; UsageError otherwise."""
    m = LIVE_URL_RE.fullmatch(url)
    if m:
        return m.groups()
    if LIVE_RELAY_RE.fullmatch(url):
        raise UsageError("--live %s: name a session: %s/host/HOSTNAME/SESSION (scripts/ipclab-trace prints "
                         "both as it starts; sessions there: %s)" % (url, url.rstrip("/"), ", ".join(
                             "%s/%s" % hs for hs in live_sessions(url.rstrip("/"))) or "none"))
    raise UsageError("--live '%s': not a live session URL (net://HOST[:PORT]/host/HOSTNAME/SESSION)" % url)


def live_sessions(relay):
    """The (hostname, session) pairs the relay daemon at relay (net://HOST[:PORT]) serves;
    NoResource if it cannot be reached."""
    p = subprocess.run(["babeltrace2", "query", "source.ctf.lttng-live", "sessions", "-p",
                        "url=%s" % bt_string(relay)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, preexec_fn=no_core, check=False)
    if p.returncode != 0:
        raise NoResource("relay daemon unreachable at %s: %s" % (relay, first_cause(p.stderr.decode(
            errors="replace"))))
    found = re.findall(r"^\s*url: net4?://[^/\s]+/host/([^/\s]+)/([^/\s]+)\s*$",
                       p.stdout.decode(errors="replace"), re.M)
    return sorted(set(found))


def live(url, plugin_path, tsv_dir, rolling):
    """Follows the live session URL until it ends, passing each of the sink's summary
    lines to rolling(line); returns (result, text) as analyse does."""
    relay, host, session = parse_live_url(url)
    sessions = live_sessions(relay)
    if (host, session) not in sessions:
        raise NoResource("no live session %s of host %s at %s (sessions there: %s)" % (
            session, host, relay, ", ".join("%s/%s" % hs for hs in sessions) or "none"))
    with tempfile.TemporaryDirectory(prefix="ipclab-analyze.") as work:
        result = os.path.join(work, "result.json")
        errors = os.path.join(work, "babeltrace2.err")
        cmd = ["babeltrace2"] + live_graph(url, plugin_path, result, tsv_dir, "/dev/stdout")
        with open(errors, "wb") as err, subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                preexec_fn=no_core_dies_with_us) as p:
            try:
                for line in p.stdout:
                    rolling(line.decode(errors="replace").rstrip("\n"))
                p.wait()
            except KeyboardInterrupt:
                p.send_signal(signal.SIGINT)  # (already sent to our process group from a terminal)
                try:
                    p.wait(LIVE_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    p.kill()
                raise
        with open(errors, "rb") as f:
            cause = first_cause(f.read().decode(errors="replace"))
        if p.returncode < 0:
            raise Failure("%s: babeltrace2 died of signal %d following the live session" % (url, -p.returncode))
        if p.returncode != 0:
            raise Failure("%s: the live stream was lost: %s" % (url, cause))
        return read_result(result, url)


def analyse(traces, plugin_path, tsv_dir=None, begin=None, end=None):
    """Runs the plugin on traces (already checked); returns the result object and its
    text (the plugin's bytes are what --json writes)."""
    what = " ".join(traces)
    with tempfile.TemporaryDirectory(prefix="ipclab-analyze.") as work:
        result = os.path.join(work, "result.json")
        cmd = ["babeltrace2"] + graph(traces, plugin_path, result, tsv_dir, begin, end)
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           preexec_fn=no_core, check=False)
        if p.returncode < 0:
            raise Failure("%s: babeltrace2 died of signal %d reading the trace (corrupt trace?)"
                          % (what, -p.returncode))
        if p.returncode != 0:
            raise Failure("%s: cannot analyse the trace (truncated or corrupt): %s"
                          % (what, first_cause(p.stderr.decode(errors="replace"))))
        return read_result(result, what)


def read_result(path, what):
    """(result, text) of the sink's JSON result file path; Failure if it wrote none."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        text = ""
    if not text:
        raise Failure("%s: the analysis wrote no result" % what)
    try:
        return json.loads(text), text
    except ValueError:
        raise Failure("%s: the analysis result is not valid JSON" % what) from None


def lat(s):
    if not s or not s["count"]:
        return "-"
    return "n=%d p50 %d p99 %d max %d ns" % (s["count"], s["p50"], s["p99"], s["max"])


def summary(d, what, w):
    """The human summary of an analysis result."""
    ev, tr = d["events"], d["time_range"]
    w("trace: %s\n" % what)
    w("events: %d (%d ipclab) over %.3f ms%s\n" % (
        ev["total"], ev["ipclab"], (tr["duration_ns"] / 1e6) if tr else 0,
        "" if d["complete"] else "; INCOMPLETE: %d events, %d packets discarded, %d stream files not read whole" % (
            d["discarded_events"], d["discarded_packets"], len(d.get("incomplete_streams", [])))))
    m = d["messages"]
    if m["sends"] or m["recvs"]:
        w("messages: %d sent, %d received, %d matched, %d unmatched sends, %d unmatched receives\n" % (
            m["sends"], m["recvs"], m["matched"], m["unmatched_sends"], m["unmatched_recvs"]))
        for x in m["by_direction"]:
            w("  %-12s direction %d: %s (warm-up excluded: %s)\n" % (
                x["transport"], x["direction"], lat(x["latency"]), lat(x["latency_measured"])))
    s = d["signals"]
    if s["sends"] or s["receives"]:
        w("signals: %d sent, %d received, %d matched, %d unmatched sends, %d unmatched receives\n" % (
            s["sends"], s["receives"], s["matched"], s["unmatched_sends"], s["unmatched_receives"]))
        for x in s["by_signo"]:
            w("  signal %-4s %s\n" % (x["signo"], lat(x["latency"])))
    for lk in d["locks"]["locks"]:
        w("lock %d (%s): wait %s; hold %s\n" % (lk["lock"], lk["kind"], lat(lk["wait"]), lat(lk["hold"])))
    r = d["races"]
    if r["segments_total"]:
        w("races: %d runs, %d increments, %d lost updates\n" % (r["segments_total"], r["increments"],
                                                                r["lost_updates"]))
    t = d["tasks"]
    if t["spawned"] or t["reaped"]:
        w("tasks: %d spawned, %d reaped; spawn->start %s; lifetime %s\n" % (
            t["spawned"], t["reaped"], lat(t["spawn_to_start"]), lat(t["spawn_to_reaped"])))
    for b in d["bus"]["states"]:
        w("bus %s %s: %d times, %d ns in total\n" % (b["role"], b["state"], b["count"], b["total_ns"]))
    for x in d["warnings"]:
        w("warning: %s\n" % x)


def require_plugin(plugin_path):
    if not shutil.which("babeltrace2"):
        raise NoResource("babeltrace2 not found (install the babeltrace2 package)")
    so = os.path.join(plugin_path, "babeltrace-plugin-ipclab.so")
    if not os.path.isfile(so):
        raise NoResource("plugin not found: %s (build it: make analyze, or pass --plugin-path)" % so)


def parser():
    p = ArgumentParser(prog=PROG, usage="scripts/ipclab-analyze [options] TRACE...", description=HELP,
                       epilog=EPILOG)
    p.add_argument("traces", nargs="*", metavar="TRACE", help=argparse.SUPPRESS)
    p.add_argument("--live", metavar="URL", help="follow the live session URL (net://HOST:PORT/host/HOSTNAME/"
                   "SESSION) instead of reading TRACE: a summary line every second, the result at its end")
    p.add_argument("--json", metavar="FILE", help="write the JSON result to FILE ('-': to standard output, "
                   "instead of the summary)")
    p.add_argument("--tsv", metavar="DIR", help="also write one TSV file per analysis into DIR")
    p.add_argument("--begin", metavar="T", help="only events at or after T (see below)")
    p.add_argument("--end", metavar="T", help="only events at or before T")
    p.add_argument("--plugin-path", metavar="DIR", default=None, help="directory of babeltrace-plugin-ipclab.so "
                   "(default: $IPCLAB_BT2_PLUGIN_PATH, else $BUILD/lib/babeltrace2/plugins, BUILD as for make)")
    p.add_argument("--allow-empty", action="store_true", help="a trace without ipclab events is not an error")
    p.add_argument("--print-command", action="store_true", help="print the babeltrace2 command line this would "
                   "run (shell-quoted, one line; the result goes to --json FILE, else standard output) and exit")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary")
    return p


def main(argv):
    args = parser().parse_args(argv)
    if args.live is not None:
        return main_live(args)
    if not args.traces:
        raise UsageError("missing TRACE (try --help)")
    begin, end = check_range(args.begin, args.end)
    plugin_path = args.plugin_path or paths.plugin_dir()
    require_plugin(plugin_path)
    for t in args.traces:
        ctf.require_traces(t)
        ctf.check_metadata(t)
    if args.print_command:
        out = args.json if args.json and args.json != "-" else None
        sys.stdout.write(shlex.join(["babeltrace2"] + graph(args.traces, plugin_path, out, args.tsv, begin, end))
                         + "\n")
        return 0
    d, text = analyse(args.traces, plugin_path, args.tsv, begin, end)
    return report(d, text, " ".join(args.traces), args)


def main_live(args):
    """--live URL: the rolling summary while the session runs, then the result."""
    if args.traces:
        raise UsageError("--live URL reads a live session, not TRACE '%s'" % args.traces[0])
    if args.begin is not None or args.end is not None:
        raise UsageError("--begin/--end do not apply to --live (a live session is read as it comes)")
    if not (LIVE_URL_RE.fullmatch(args.live) or LIVE_RELAY_RE.fullmatch(args.live)):
        parse_live_url(args.live)  # the usage error, before anything runs
    plugin_path = args.plugin_path or paths.plugin_dir()
    require_plugin(plugin_path)
    if args.print_command:
        parse_live_url(args.live)
        out = args.json if args.json and args.json != "-" else None
        sys.stdout.write(shlex.join(["babeltrace2"] + live_graph(args.live, plugin_path, out, args.tsv,
                                                                 "/dev/stderr")) + "\n")
        return 0
    lines = sys.stderr if args.json == "-" else sys.stdout

    def rolling(line):
        if not args.quiet:
            lines.write(line + "\n")
            lines.flush()

    d, text = live(args.live, plugin_path, args.tsv, rolling)
    return report(d, text, args.live, args)


def report(d, text, what, args):
    """The end of an analysis: the checks on the result, then --json and the summary."""
    if d["events"]["ipclab"] == 0 and not args.allow_empty:
        raise Failure("%s: no ipclab events in the trace (was it recorded with scripts/ipclab-trace?)" % what)
    cut = d.get("incomplete_streams", [])
    if not d["complete"] and cut:
        sys.stderr.write("%s: WARNING: %s: %d stream files not read whole (first: %s: %s): counts are lower "
                         "bounds\n" % (PROG, what, len(cut), cut[0]["stream"], cut[0]["reason"]))
    elif not d["complete"]:
        sys.stderr.write("%s: WARNING: %s: the tracer discarded %d events and %d packets: counts are lower "
                         "bounds\n" % (PROG, what, d["discarded_events"], d["discarded_packets"]))
    if args.json == "-":
        sys.stdout.write(text)
        return 0
    if args.json:
        try:
            write_text_atomic(args.json, text)
        except OSError as e:
            raise Failure("cannot write %s: %s" % (args.json, e.strerror or e)) from None
    if not args.quiet:
        summary(d, what, sys.stdout.write)
    return 0


def entry():
    run(main, PROG)
