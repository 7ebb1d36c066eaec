"""report - turn a bench/run results directory into data, figures and one HTML page.

Reads DIR/runs/*.json (ipclab result envelopes, ID.traced.json for traced twins, and the
perf bench and rt-tests reference JSONs bench/run wrote), DIR/hist/*.tsv,
DIR/traces/*/ipclab-trace.json, DIR/matrix.json (run statuses) and DIR/env.json. Writes:
  DIR/analysis/ID.json   scripts/ipclab-analyze's result for every trace that has none
                         yet (ID/*.tsv beside it; ID.err when the trace cannot be read);
                         the plugin from $IPCLAB_BT2_PLUGIN_PATH, else $BUILD or build
  DIR/data/*.tsv         every table and figure input: the one JSON -> TSV conversion;
                         figures read only these files
  DIR/figures/*.png|svg  gnuplot -c bench/{bars,lines,hist,traced}.gp IN.tsv OUT TITLE [...]
  DIR/report.html        one page, inline CSS, no JavaScript: warnings, then one section per
                         area (signals, IPC, sync, tasks), references (rt-tests, perf bench),
                         tracing cost and traces, runs, noisy rows, environment

The sections are registered in one table (assemble.SECTIONS: anchor, contents entry, heading,
what it reads, render function); one module per area; every number on the page comes from
the JSON files.
"""

import os

from ..cli import ArgumentParser, UsageError, run
from .assemble import build

PROG = "report"

__all__ = ["build", "main", "entry"]


def main(argv):
    doc = __doc__.split("\n", 2)[2]
    p = ArgumentParser(prog=PROG, usage="scripts/report DIR [--no-figures]", description=doc,
                       epilog="Exit: 0 done; 1 report written but some figure failed; 2 DIR missing or holds no "
                       "runs (one line on stderr).")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--no-figures", action="store_true", help="no gnuplot figures (tables and data only)")
    args = p.parse_args(argv)
    d = os.path.abspath(args.dir)
    if not os.path.isdir(d):
        raise UsageError("%s: no such results directory" % args.dir)
    out, errors = build(d, not args.no_figures)
    print(out)
    return 1 if errors else 0


def entry():
    run(main, PROG)
