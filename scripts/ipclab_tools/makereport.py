"""make-report - the "make report" pipeline: install what is missing (perf included),
build, run the quick matrix (traced twins for the lines not marked untraced-only, and the
perf bench / rt-tests references) into a new results/<UTC timestamp>/, turn it into
DIR/report.html, and print that path. A matrix with failed runs still gets its report (and
this then exits 1, saying so)."""

import argparse
import datetime
import io
import json
import os
import subprocess
import sys

from . import compare, report
from .cli import ArgumentParser, Failure, run as run_main
from .paths import REPO, build_dir
from .results import write_text_atomic

PROG = "make-report"

HELP = """\
  scripts/deps --bench; make; ipclab clean (when the build has it: leftovers of earlier runs);
  bench/run --quick --traced --out results/<UTC timestamp>;
  scripts/report on that directory; prints the path of its report.html.

  --bench (make bench) adds, before the report: the trace-analysis speed (--speed), the
  A/A check (--aa: the same matrix measured twice by the same build, interleaved launch
  by launch, into DIR/aa/, compared into DIR/aa.json: its false-alarm rate and the A/A
  noise floor later comparisons use), the effect rates of the concurrency demos
  (--effects: bench/effect-rates, 100 runs each, into DIR/effect-rates.json) and the cost
  of streaming a trace to a relay daemon (--stream: bench/stream-cost, into
  DIR/stream-cost.json)."""

EPILOG = """\
Environment: RELAYD=URL: every traced run also streams to that LTTng relay daemon
(exported to scripts/ipclab-trace as IPCLAB_RELAYD; the local traces are kept).
BUILD (build directory, as for make; default build): make builds it,
bench/run and scripts/collect-env use its ipclab and tracepoint provider. The quick
matrix takes about 3 minutes on 2 CPUs.

Exit: 0 all good; 1 the report was written but some run or figure failed;
2 usage; 3 a step before the matrix failed (deps, build); or bench/run's code
(2, 128+N) when the matrix could not run at all."""


def say(msg):
    print("%s: %s" % (PROG, msg), flush=True)


def warn(msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))


def step(argv):
    """Runs one step of the pipeline in the repository; returns its exit status."""
    return subprocess.run(argv, cwd=REPO, check=False).returncode


def previous_results(out, base=None):
    """The newest other results/<timestamp>/ folder (of base, default REPO/results) that
    has runs, or None."""
    base = base or os.path.join(REPO, "results")
    try:
        names = sorted(n for n in os.listdir(base) if n.startswith("2") and os.path.join(base, n) != out)
    except OSError:
        return None
    names = [n for n in names if os.path.isdir(os.path.join(base, n, "runs"))]
    return os.path.join(base, names[-1]) if names else None


def compare_with(prev, out):
    """B = out vs A = prev: compare.json in out, and the head and the changed rows of the
    table on the terminal."""
    say("comparing with results/%s" % os.path.basename(prev))
    rep = compare.compare(prev, out, {"alpha": 0.05, "method": "auto", "resamples": 1000, "seed": 1, "noise": None})
    write_text_atomic(os.path.join(out, "compare.json"), json.dumps(rep, indent=1) + "\n")
    buf = io.StringIO()
    compare.print_table(rep, buf)
    for n, line in enumerate(buf.getvalue().splitlines()):
        if n < 5 or "slower" in line or "faster" in line:
            print(line)


def clean_leftovers():
    """`ipclab clean` before the matrix (issue 15.3): objects left by earlier ipclab runs
    whose creator is gone would otherwise be counted against this matrix's runs. A build
    without the command (older than it) is said, not fatal."""
    ipclab = os.path.join(build_dir(), "bin", "ipclab")
    if subprocess.run([ipclab, "clean", "--help"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                      check=False).returncode != 0:
        say("ipclab clean: not in this build; skipped")
        return
    say("ipclab clean (objects left by earlier runs whose creator is gone)")
    if step([ipclab, "clean"]) != 0:
        warn("WARNING: ipclab clean failed; leftovers of earlier runs may be reported against this matrix")


def parser():
    p = ArgumentParser(prog=PROG, usage="scripts/make-report [--full] [--untraced] [--speed]", description=HELP,
                       epilog=EPILOG)
    p.add_argument("--full", dest="matrix", action="store_const", const="--full", default="--quick",
                   help="the full matrix instead of the quick one (much longer)")
    p.add_argument("--quick", dest="matrix", action="store_const", const="--quick", help=argparse.SUPPRESS)
    p.add_argument("--untraced", dest="tracing", action="store_const", const="--untraced", default="--traced",
                   help="no traced twins (no LTTng needed)")
    p.add_argument("--speed", action="store_true", help="also time the trace analysis plugin (bench/analyze-speed: "
                   "traces of 1 M and 10 M events, ~6 minutes) into analyze-speed.json, shown in the report")
    p.add_argument("--aa", action="store_true", help="also the A/A check: the matrix measured twice, interleaved, "
                   "by the same build (bench/run --ab) and compared: aa.json")
    p.add_argument("--effects", action="store_true", help="also bench/effect-rates (each concurrency demo 100 "
                   "times): effect-rates.json")
    p.add_argument("--stream", action="store_true", help="also bench/stream-cost (the same experiment traced to "
                   "the local disk and to a relay daemon on the loopback) into stream-cost.json")
    p.add_argument("--bench", action="store_true", help="--speed, --aa, --effects and --stream: what make bench runs")
    return p


def aa_check(out, matrix_opt):
    """The A/A check: the same build twice, interleaved, compared without a noise floor;
    aa.json is the comparison plus its false-alarm rate. Returns bench/run's status."""
    session = os.path.join(out, "aa")
    build = os.environ.get("BUILD") or "build"
    rc = step(["bench/run", "--ab", build, build, matrix_opt, "--out", session])
    if rc >= 128 or not os.path.isdir(os.path.join(session, "A", "runs")):
        warn("WARNING: the A/A session did not run (bench/run exit %d); no A/A check" % rc)
        return rc
    rep = compare.compare(os.path.join(session, "A"), os.path.join(session, "B"),
                          {"alpha": 0.05, "method": "auto", "resamples": 1000, "seed": 1, "noise": "none"})
    rep["aa"] = compare.false_alarms(rep)
    write_text_atomic(os.path.join(out, "aa.json"), json.dumps(rep, indent=1) + "\n")
    a = rep["aa"]
    say("A/A check: %d of %d judged rows called slower or faster (%.1f %%, goal <= %.0f %%)"
        % (a["false_alarms"], a["judged"], 100 * (a["rate"] or 0), 100 * a["goal"]))
    return rc


def main(argv):
    args = parser().parse_args(argv)
    say("[1/4] scripts/deps --bench")
    if step(["scripts/deps", "--bench"]) != 0:
        raise Failure("scripts/deps --bench failed; cannot run the benchmark", 3)
    say("[2/4] make%s" % (" BUILD=" + os.environ["BUILD"] if os.environ.get("BUILD") else ""))
    if step(["make", "--no-print-directory", "all"]) != 0:
        raise Failure("the build failed", 3)
    clean_leftovers()
    out = os.path.join(REPO, "results", datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    say("[3/4] bench/run %s %s --out %s" % (args.matrix, args.tracing, out))
    if os.environ.get("RELAYD"):  # RELAYD=URL make report: every traced run streams there too
        os.environ["IPCLAB_RELAYD"] = os.environ["RELAYD"]
        say("traced runs also stream to the relay daemon %s (IPCLAB_RELAYD)" % os.environ["RELAYD"])
    bench_rc = step(["bench/run", args.matrix, args.tracing, "--out", out])
    runs = os.path.join(out, "runs")
    if bench_rc not in (0, 1) and not (os.path.isdir(runs) and os.listdir(runs)):
        raise Failure("bench/run failed (exit %d) before producing any result" % bench_rc, bench_rc)
    if args.bench:
        args.speed = args.aa = args.effects = args.stream = True
    if args.speed:
        say("bench/analyze-speed")
        if step(["bench/analyze-speed", "--events", "1000000,10000000", "--rounds", "5", "--build",
                 os.environ.get("BUILD") or "build", "--json", os.path.join(out, "analyze-speed.json")]) != 0:
            warn("WARNING: bench/analyze-speed failed; no speed section")
    if args.aa:
        say("A/A check: bench/run --ab (the same build twice, interleaved) %s" % args.matrix)
        aa_check(out, args.matrix)
    if args.effects:
        say("bench/effect-rates")
        if step(["bench/effect-rates", "--json", os.path.join(out, "effect-rates.json")]) != 0:
            warn("WARNING: bench/effect-rates failed; no effect rates")
    if args.stream and args.tracing != "--untraced":
        say("bench/stream-cost")
        if step(["bench/stream-cost", "--json", os.path.join(out, "stream-cost.json")]) != 0:
            warn("WARNING: bench/stream-cost failed; no streaming cost in the report")
    prev = previous_results(out)
    if prev:
        try:
            compare_with(prev, out)
        except Failure as e:
            warn("WARNING: ipclab-compare failed: %s" % e.message)
    say("[4/4] scripts/report %s" % out)
    html, errors = report.build(out, True)
    rc = 0
    if bench_rc == 1:
        warn("WARNING: some benchmark runs FAILED; the report lists them (section 'Skipped and failed runs')")
        rc = 1
    elif bench_rc != 0:
        warn("WARNING: the matrix did not complete (bench/run exit %d); the report covers what ran" % bench_rc)
        rc = bench_rc
    if errors:
        warn("WARNING: a figure could not be made; see the report")
        rc = rc or 1
    print(html)
    return rc


def entry():
    run_main(main, PROG)
