"""bench/analyze-speed - how fast the trace analysis plugin reads a big trace, against
babeltrace2's own floor and its text output, side by side in one run:

  counter  babeltrace2 TRACE -c sink.utils.counter      (decode + muxer, count only)
  plugin   the graph scripts/ipclab-analyze runs: one source.ctf.fs per trace, every
           stream port into sink.ipclab.analyze, which merges the streams by time
           itself (decode + merge + analyses)
  muxer    babeltrace2 TRACE -c sink.ipclab.analyze    (decode + the CLI's muxer +
           analyses: what a user composing by hand runs)
  wrapper  scripts/ipclab-analyze --quiet --json F TRACE (plugin + its input checks)
  text     babeltrace2 TRACE > /dev/null               (decode + muxer + pretty text)

For each trace size the commands run --rounds times, interleaved (counter, plugin, muxer,
wrapper, text, counter, ...) so machine drift hits all alike, after one untimed read to
warm the page cache; each reports its median CPU time (user+sys; wall times are listed
too), events/s and peak RSS (wait4's rusage of that child alone). Targets (the plugin
row): >= 0.9 x counter, >= 2.5 x text, on the largest trace. Prints one JSON object (or
--json FILE). Not run by make check.

The traces are recorded first with scripts/ipclab-trace, default contexts:
  --source latency   ipc latency --mode thread --cpu 0,1 --iterations N/4 --warmup 0
                     (4 events per iteration, on two CPUs: the per-CPU streams interleave
                     every two events, the merge's hardest case; every message is paired:
                     the plugin's real work) [default]
  --source overhead  core overhead --iterations 100000 --repeat N/100000 (probe events:
                     the plugin only counts them)
N: --events N[,N...] (default 1000000,10000000). --trace DIR reuses one recorded trace."""

import filecmp
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from . import analyze, tracecount
from .cli import ArgumentParser, Failure, NoResource, UsageError, int_type, run as run_main
from .paths import REPO, SCRIPTS
from .results import try_json, write_json_atomic

PROG = "bench/analyze-speed"
SCHEMA = "ipclab-bench-analyze-speed/2"
TARGETS = {"plugin_vs_counter": 0.9, "plugin_vs_text": 2.5}
COMMANDS = ("counter", "plugin", "muxer", "wrapper", "text")
NOTE = ("ratios are speed ratios on median CPU time (user+sys; babeltrace2 is single-threaded, and CPU time is "
        "less disturbed than wall time by other work on the machine): time of the other / time of the plugin. "
        "events_per_s uses the same CPU time. plugin is the graph scripts/ipclab-analyze runs (source.ctf.fs "
        "stream ports straight into the sink, which merges them by time); muxer is the same sink behind "
        "babeltrace2's CLI muxer; wrapper adds ipclab-analyze's own input checks and start-up. The counter and "
        "text commands go through the CLI's muxer, as a user would run them")


def say(msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))


def timed(argv, err):
    """(wall s, CPU s (user+sys), peak RSS KiB) of one run of argv, from wait4's rusage of
    that child alone; Failure if it fails."""
    t0 = time.monotonic()
    with open(err, "w") as ef:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=ef)
    _pid, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        with open(err, errors="replace") as f:
            tail = " ".join(f.read().split()[-30:])
        raise Failure("%s failed (exit %d): %s" % (argv[0], p.returncode, tail))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def record(n, source, build, trace):
    """Records a trace of about n events with scripts/ipclab-trace."""
    ipclab = os.path.join(build, "bin", "ipclab")
    # --timeout: the experiment's watchdog (300 s by default) would stop a 10 M-event recording
    # on a busy machine; the trace is the point here, not the run's time
    if source == "latency":
        cmd = [ipclab, "ipc", "latency", "--mode", "thread", "--cpu=0,1", "--iterations", str(n // 4), "--warmup",
               "0", "--timeout", "3600", "--quiet"]
    else:
        cmd = [ipclab, "core", "overhead", "--iterations", "100000", "--repeat", str(n // 100000), "--timeout", "3600",
               "--quiet"]
    say("recording ~%d events: %s" % (n, shlex.join(cmd)))
    p = subprocess.run([os.path.join(SCRIPTS, "ipclab-trace"), "--out", trace, "--name", "analyze-speed",
                        "--provider", os.path.join(build, "lib", "libipclab-tp.so"), "--quiet", "--"] + cmd,
                       stdout=subprocess.DEVNULL, check=False)
    if p.returncode != 0:
        raise Failure("recording failed (scripts/ipclab-trace exit %d)" % p.returncode)


def event_count(trace):
    """{"total", "complete"} of a trace: from ipclab-trace.json when it recorded it, else
    counted (ipclab-trace-count)."""
    doc, _e = try_json(os.path.join(trace, "ipclab-trace.json"))
    ev = doc.get("events") if isinstance(doc, dict) else None
    if isinstance(ev, dict) and "total" in ev:
        return ev
    return tracecount.count_in_child(trace)


def tree_bytes(path):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _d, fs in os.walk(path) for f in fs)


def measure(trace, rounds, plugin_dir, work):
    """Every command `rounds` times, interleaved, on one trace: {name: [(wall, cpu, rss)]}
    and the plugin's result."""
    out_json, mux_json = os.path.join(work, "plugin-result.json"), os.path.join(work, "muxer-result.json")
    cmds = {
        "counter": ["babeltrace2", trace, "-c", "sink.utils.counter"],
        "plugin": ["babeltrace2"] + analyze.graph([trace], plugin_dir, out_json, None, None, None),
        "muxer": ["babeltrace2", "--plugin-path=%s" % plugin_dir, trace, "-c", "sink.ipclab.analyze", "-p",
                  "output=%s" % analyze.bt_string(mux_json)],
        "wrapper": [os.path.join(SCRIPTS, "ipclab-analyze"), "--quiet", "--json", os.path.join(work, "w.json"), trace],
        "text": ["babeltrace2", trace],
    }
    say("warming the page cache")
    for root, _d, files in os.walk(trace):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                while fh.read(1 << 20):
                    pass
    runs = {name: [] for name in COMMANDS}
    for r in range(1, rounds + 1):
        say("round %d of %d" % (r, rounds))
        for name in COMMANDS:
            runs[name].append(timed(cmds[name], os.path.join(work, "err")))
    if not filecmp.cmp(out_json, mux_json, shallow=False):
        raise Failure("the plugin's result differs between its own merge and the CLI's muxer")
    with open(out_json) as f:
        return runs, json.load(f)


def size_doc(trace, source, keep, runs, count, res):
    events = count["total"]
    out = {}
    for name, rows in runs.items():
        cpus = [round(c, 4) for _w, c, _r in rows]
        med = statistics.median(cpus)
        out[name] = {"wall_s": [w for w, _c, _r in rows], "cpu_s": cpus,
                     "median_wall_s": statistics.median([w for w, _c, _r in rows]), "median_cpu_s": med,
                     "events_per_s": round(events / med) if med > 0 else None,
                     "max_rss_kb": int(max(r for _w, _c, r in rows))}

    def speed(a, b):  # speed of a relative to b = time of b / time of a
        return round(out[b]["median_cpu_s"] / out[a]["median_cpu_s"], 3) if out[a]["median_cpu_s"] else None
    ratios = {"plugin_vs_counter": speed("plugin", "counter"), "plugin_vs_text": speed("plugin", "text"),
              "counter_vs_text": speed("counter", "text"), "muxer_vs_counter": speed("muxer", "counter"),
              "wrapper_vs_counter": speed("wrapper", "counter")}
    return {"trace": {"dir": trace if keep else None, "source": source, "events": events,
                      "bytes": tree_bytes(trace), "complete": count.get("complete")},
            "runs": out, "ratios": ratios,
            "meets_targets": {k: ratios[k] is not None and ratios[k] >= v for k, v in TARGETS.items()},
            "plugin_result_check": {"ipclab_events": res["events"]["ipclab"],
                                    "matched_messages": res["messages"]["matched"],
                                    "in_flight_peak": res["messages"].get("in_flight_peak"),
                                    "same_result_with_muxer": True}}


def sizes_type(text):
    out = []
    for part in text.split(","):
        if not part.isdigit() or not 100000 <= int(part) <= 100000000:
            raise UsageError("--events: '%s' is not a size in 100000..100000000" % part)
        out.append(int(part))
    return out


def parser():
    p = ArgumentParser(prog=PROG, usage="bench/analyze-speed [--events N[,N...]] [--source latency|overhead] "
                       "[--rounds N]\n                           [--build DIR] [--trace DIR] [--keep] [--json FILE]",
                       description=__doc__.split("\n", 2)[2])
    p.add_argument("--events", type=sizes_type, default=[1000000, 10000000], help="trace sizes in events, "
                   "comma-separated, each 100000..100000000 (default 1000000,10000000; the targets are judged on "
                   "the largest)")
    p.add_argument("--source", choices=("latency", "overhead"), default="latency", help="what generates the events")
    p.add_argument("--rounds", type=int_type("--rounds", 1, 999), default=5, help="timed runs of each command per "
                   "size (default 5; medians reported)")
    p.add_argument("--build", default=os.path.join(REPO, "build"), help="build directory with bin/ipclab, "
                   "lib/libipclab-tp.so and the plugin (default: build)")
    p.add_argument("--trace", metavar="DIR", help="analyse this existing trace instead of recording (one size)")
    p.add_argument("--keep", action="store_true", help="keep the recorded traces (their paths are in the JSON)")
    p.add_argument("--json", metavar="FILE", help="write the JSON report to FILE instead of standard output")
    return p


def main(argv):
    args = parser().parse_args(argv)
    build = os.path.realpath(args.build)
    if not os.path.isdir(build):
        raise UsageError("no build directory %s" % args.build)
    plugin_dir = os.path.join(build, "lib", "babeltrace2", "plugins")
    analyze.require_plugin(plugin_dir)
    os.environ["IPCLAB_BT2_PLUGIN_PATH"] = plugin_dir
    if args.trace and not os.path.isdir(args.trace):
        raise UsageError("no trace directory %s" % args.trace)
    if not shutil.which("babeltrace2"):
        raise NoResource("babeltrace2 not installed")
    work = tempfile.mkdtemp(prefix="analyze-speed.")
    sizes = []
    try:
        for n in ([0] if args.trace else args.events):
            trace = os.path.realpath(args.trace) if args.trace else os.path.join(work, "trace-%d" % n)
            if not args.trace:
                record(n, args.source, build, trace)
            sdir = os.path.join(work, "size-%d" % n)
            os.makedirs(sdir)
            count = event_count(trace)
            runs, res = measure(trace, args.rounds, plugin_dir, sdir)
            sizes.append(size_doc(trace, args.source, args.keep, runs, count, res))
    finally:
        for name in os.listdir(work):
            if not (args.keep and name.startswith("trace-")):
                shutil.rmtree(os.path.join(work, name), ignore_errors=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    largest = max(sizes, key=lambda s: s["trace"]["events"])
    doc = {"schema": SCHEMA, "rounds": args.rounds, "targets": TARGETS, "sizes": sizes,
           "judged_on_events": largest["trace"]["events"], "meets_targets": largest["meets_targets"], "note": NOTE}
    if args.json:
        write_json_atomic(args.json, doc)
        say("report: %s" % args.json)
    else:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    return 0


def entry():
    run_main(main, PROG)
