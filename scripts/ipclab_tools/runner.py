"""bench/run - run a benchmark matrix (bench/quick.matrix or bench/full.matrix) into a
fresh results/<UTC timestamp>/ directory: untraced ipclab runs (the numbers), optional
traced twins through scripts/ipclab-trace (for the lines not marked untraced-only), and
reference runs ('perf bench sched pipe', rt-tests sigwaittest/pmqtest/svsematest/
ptsematest) interleaved with ours so that machine drift affects both sides alike.

One process owns the run: it keeps every run's record in memory and writes matrix.json
once, atomically, when the matrix ends (finished, interrupted or failed). Exit codes 3/4
of a run are skips, anything else non-zero a failure; the matrix always goes on."""

import datetime
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

from . import env, leftovers, matrix, placement, refdocs, refpairs
from .cli import ArgumentParser, Failure, NoResource, UsageError, int_type, run as run_main
from .fmt import mmss
from .paths import BENCH, REPO, build_dir
from .results import try_json, write_json_atomic

PROG = "bench/run"
KILL_AFTER = 30  # seconds between SIGTERM and SIGKILL of a run that timed out or was stopped
# a reference tool's run takes a second or two: one that hangs (two sigwaittest -f started at
# once share one shm name and deadlock) must not hold the matrix for IPCLAB_RUN_TIMEOUT
REF_TIMEOUT = 300

HELP = """\
Run a benchmark matrix into results/<UTC timestamp>/ (e.g. results/20261126T213000Z/).

Matrix file: one run per line, TAB-separated: ID<TAB>KIND<TAB>ARGS, where ARGS is
split on blanks (no quoting); blank lines and lines starting with '#' are ignored.
  KIND ipclab      ARGS go to build/bin/ipclab; the runner adds --json=DIR/runs/ID.json,
                   --quiet, and for 'ipc latency' and 'signal latency' --hist=DIR/hist/ID.tsv;
                   with --both a traced twin follows
  KIND ipclab:untraced  the same, but never traced (a trace would add nothing: keep
                   traced twins to the few runs whose trace is worth opening)
  KIND perf-pipe   reference: ARGS are --cpus LIST --mode process|thread --loops N
                   [--repeat R] [--compare ID]; runs 'taskset -c LIST perf bench sched
                   pipe -l N [-T]' max(R, --pairs) times, parsed into DIR/runs/ID.json. A single CPU
                   pins both tasks there; a list leaves them unpinned on those CPUs
                   (perf bench cannot pin each peer). --compare names the ipclab run
                   the report sets it against.
  KIND rt-tests    reference: ARGS are TOOL [-a CPU] [-f] -l LOOPS [-i US] [--repeat R]
                   --compare ID[,ID...], TOOL one of sigwaittest, pmqtest, svsematest,
                   ptsematest (Debian rt-tests). Runs 'TOOL [-a CPU] [-f] -l LOOPS -i US -q
                   --json=FILE' max(R, --pairs) times (-i 0: back to back, like ipclab) and
                   writes DIR/runs/ID.json from the tool's own JSON files. -a CPU pins
                   both peers to CPU (same-cpu); without -a they are unpinned. -f forks
                   processes (sigwaittest, svsematest only); pmqtest and ptsematest use
                   threads. The tools measure one-way latency in whole microseconds
                   (gettimeofday). --compare names the ipclab run(s) set against it.
A reference runs as pairs: each run of the tool with one launch of every ipclab run it is
--compare'd with (its --repeat as 1), alternately first; the tool's CPUs are sampled from
/proc while it runs, and the JSON says per pair where each side ran and the ratio of their
means (scripts/ipclab_tools/refpairs.py; bench/ref-ratios prints them).
Lines needing CPUs that are not online are recorded as skipped."""

EPILOG = """\
Output: DIR/runs/ID.json (untraced), DIR/runs/ID.traced.json, DIR/hist/ID.tsv,
DIR/traces/ID/ (CTF trace + ipclab-trace.json), DIR/logs/, DIR/matrix.json (every
run's command, exit code, status, reason, time; written once, when the matrix ends),
DIR/commands.txt, DIR/env.json.
Status per run: ok; skipped (exit 3 no resource, 4 unsupported); failed (anything else).
Leftovers: IPC objects (/dev/shm, /dev/mqueue, SysV) that appear during a run are
recorded and checked again at the end; liblttng-ust's own /dev/shm/lttng-ust-wait-*
files are the tracer's, not leftovers.

Environment: IPCLAB_RUN_TIMEOUT (seconds per command, default 1800); BUILD (build
directory of ipclab and its tracepoint provider, as for make; default build).
Exit status: 0 no run failed; 1 some run failed; 2 usage or matrix error, or DIR
exists; 3 ipclab not built; 128+N interrupted by signal N."""


def utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def last_line(path):
    """The last non-blank line of a file (a command's reason for failing), or ''."""
    try:
        with open(path, errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


class Stopped(Exception):
    """The runner was asked to stop (SIGINT, SIGTERM, SIGHUP)."""


class Runner:
    """The matrix run: its options, the run records, the child that runs now."""

    def __init__(self, opts, lines, build, by_id=None):
        self.opts = opts
        self.lines = lines
        self.by_id = by_id or {ln.id: ln for ln in lines}  # every line, to pair references with
        self.build = build
        self.ipclab = os.path.join(build, "bin", "ipclab")
        self.provider = os.path.join(build, "lib", "libipclab-tp.so")
        self.tracer = os.path.join(REPO, "scripts", "ipclab-trace")
        self.timeout = opts.timeout
        self.last_limit = opts.timeout
        self.out = None
        self.records = []
        self.index = 0
        self.ab = dict(zip("AB", opts.ab)) if opts.ab else None  # side -> its ipclab
        if self.ab:
            self.total = sum(2 * ab_launches(ln, opts.launches) for ln in lines if ln.is_ipclab)
        else:
            self.total = sum(1 + (ln.kind == "ipclab" and opts.tracing == "both") for ln in lines)
        self.failed = 0
        self.caught = None        # the first signal that asked us to stop
        self.child = None         # the process group running now
        self.t_start = time.monotonic()
        self.cpus_online = placement.online_cpus()
        self.untraced_status = None
        self.session = None

    # ------------------------------------------------------------ signals and children

    def on_signal(self, signum, _frame):
        """Remember the first signal, stop the command that runs (the matrix ends after it)."""
        if self.caught is None:
            self.caught = signum
        if self.child is not None:
            try:
                os.killpg(self.child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def execute(self, argv, stdout, stderr, sampler=None, timeout=None):
        """Runs argv in its own process group with the per-run timeout (or `timeout`, if
        shorter); returns (exit code as a shell reports it: 128+N for signal N, 124 on
        timeout, timed out)."""
        limit = self.last_limit = min(self.timeout, timeout) if timeout else self.timeout
        with open(stdout, "w") as so, open(stderr, "w") as se:
            try:
                self.child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=so, stderr=se,
                                              cwd=REPO, start_new_session=True)
            except OSError as e:
                se.write("%s: cannot run %s: %s\n" % (PROG, argv[0], e.strerror))
                return 127, False
        if sampler:
            sampler.start(self.child.pid)
        timed_out = False
        try:
            try:
                rc = self.child.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                timed_out = True
                self._kill_group(signal.SIGTERM)
                try:
                    rc = self.child.wait(timeout=KILL_AFTER)
                except subprocess.TimeoutExpired:
                    self._kill_group(signal.SIGKILL)
                    rc = self.child.wait()
            if self.caught is not None and not timed_out:
                # stopped by us: give it KILL_AFTER seconds to clean up, then kill it
                try:
                    rc = self.child.wait(timeout=KILL_AFTER)
                except subprocess.TimeoutExpired:
                    self._kill_group(signal.SIGKILL)
                    rc = self.child.wait()
        finally:
            if sampler:
                sampler.stop()
            self.child = None
            leftovers.reap_orphans()  # the command is waited for: any other ended child is an adopted orphan
        return (124 if timed_out else 128 - rc if rc < 0 else rc), timed_out

    def _kill_group(self, sig):
        try:
            os.killpg(self.child.pid, sig)
        except ProcessLookupError:
            pass

    # ------------------------------------------------------------ records

    def classify(self, rc, timed_out, err):
        """(status, reason) of an exit code (conventions: 3/4 skip)."""
        if rc == 0:
            return "ok", None
        if rc in (3, 4):
            return "skipped", last_line(err) or "exit %d (%s)" % (rc, "no resource" if rc == 3 else "unsupported")
        if timed_out:
            return "failed", "timed out after %ds (%s)" % (self.last_limit, "IPCLAB_RUN_TIMEOUT" if
                                                          self.last_limit == self.timeout else "a reference tool's limit")
        reason = last_line(err)
        if self.caught is not None:
            return "failed", "interrupted by SIG%s (exit %d)" % (signal.Signals(self.caught).name[3:], rc)
        if rc > 128:
            reason = "killed by signal %d (exit %d)%s" % (rc - 128, rc, "; last message: " + reason if reason else "")
        return "failed", reason or "exit %d" % rc

    def command_line(self, rid, variant, argv):
        with open(os.path.join(self.out, "commands.txt"), "a") as f:
            f.write("%s\t%s\t%s\n" % (rid, variant, shlex.join(["timeout", "--kill-after=%d" % KILL_AFTER,
                                                                str(self.timeout)] + argv)))

    def record(self, rec, argv, t0):
        """Adds one run's record (matrix.json), prints its progress line."""
        rec.setdefault("leftovers", [])
        dt = time.monotonic() - t0
        rec["index"] = self.index
        rec["elapsed_s"] = round(dt, 3)
        rec["argv"] = argv
        rec["command"] = shlex.join(argv)
        self.records.append(rec)
        if rec["status"] == "failed":
            self.failed += 1
        elapsed = time.monotonic() - self.t_start
        eta = elapsed * (self.total - self.index) / self.index if self.index else 0
        tag = "" if rec["variant"] == "untraced" else " (%s)" % rec["variant"]
        if "launch" in rec:
            tag = " (%s, launch %d)" % (rec["variant"], rec["launch"])
        print("[%d/%d] %s%s %s %.1fs  elapsed %s ETA %s" % (self.index, self.total, rec["id"], tag, rec["status"],
                                                            dt, mmss(elapsed), mmss(eta)), flush=True)
        if rec["status"] != "ok":
            print("    %s: %s" % (rec["status"], rec.get("reason") or "exit %s" % rec.get("exit_code")), flush=True)
        for entry in rec["leftovers"]:
            print("    WARNING: new since the run started (left behind? checked again at the end): %s" % entry,
                  flush=True)

    def new_record(self, rid, kind, variant):
        return {"id": rid, "kind": kind, "variant": variant, "exit_code": None, "status": None, "reason": None,
                "started": utc(), "leftovers": [], "json": None, "hist": None, "trace_dir": None,
                "stdout": None, "stderr": None}

    def skip_for_cpus(self, rec, cpus, argv, t0):
        """Records the run as skipped if it needs a CPU that is not online; True if so."""
        missing = placement.first_missing(cpus, self.cpus_online) if cpus else None
        if missing is None:
            return False
        rec.update(exit_code=3, status="skipped", reason="needs CPU %d, which is not online" % missing)
        self.record(rec, argv, t0)
        return True

    # ------------------------------------------------------------ the kinds of runs

    def run_ipclab(self, line, variant):
        """One ipclab run, untraced or traced."""
        suffix = "" if variant == "untraced" else ".traced"
        words = line.words
        rec = self.new_record(line.id, line.kind, variant)
        t0 = time.monotonic()
        self.index += 1
        rec["json"] = os.path.join(self.out, "runs", line.id + suffix + ".json")
        log = os.path.join(self.out, "logs", line.id + suffix)
        argv = [self.ipclab] + words + ["--json=" + rec["json"]]
        if words[1:2] == ["latency"] and words[0] in ("ipc", "signal"):
            rec["hist"] = os.path.join(self.out, "hist", line.id + suffix + ".tsv")
            argv.append("--hist=" + rec["hist"])
        argv.append("--quiet")
        if variant == "traced":
            rec["trace_dir"] = os.path.join(self.out, "traces", line.id)
            argv = [self.tracer, "--out", rec["trace_dir"], "--name", line.id, "--provider", self.provider,
                    "--quiet", "--"] + argv
        cpus = matrix.option_value(words, "--cpu", "--cpus")
        if self.skip_for_cpus(rec, cpus, argv, t0):
            rec.update(json=None, hist=None)
            return
        if variant == "traced" and not os.access(self.tracer, os.X_OK):
            rec.update(json=None, hist=None, trace_dir=None, exit_code=4, status="skipped",
                       reason="%s is missing: no traced run" % self.tracer)
            self.record(rec, argv, t0)
            return
        if variant == "traced" and self.untraced_status != "ok":
            rec.update(json=None, hist=None, trace_dir=None, status="skipped",
                       reason="the untraced run was %s" % (self.untraced_status or "not run"))
            self.record(rec, argv, t0)
            return
        status = self.launch(rec, argv, log, line.id, variant, t0)
        if variant == "untraced":
            self.untraced_status = status

    def launch(self, rec, argv, log, rid, variant, t0):
        """Runs one ipclab command whose result is rec["json"] (rec["hist"] if set): leftover
        check around it, status from its exit code and JSON, the record; returns the status."""
        self.command_line(rid, variant, argv)
        mine = os.getpid()
        before = leftovers.snapshot() | (leftovers.daemons(mine) if variant == "traced" else set())
        rc, timed_out = self.execute(argv, log + ".out", log + ".err")
        after = leftovers.snapshot() | (leftovers.daemons(mine) if variant == "traced" else set())
        rec["leftovers"] = leftovers.new_since(before, after)
        rec["stdout"], rec["stderr"] = log + ".out", log + ".err"
        status, reason = self.classify(rc, timed_out, log + ".err")
        if status == "ok":
            doc, err = try_json(rec["json"])
            if not isinstance(doc, dict):
                with open(log + ".err", "a") as f:
                    f.write("%s: %s: %s\n" % (PROG, rec["json"], err or "not a JSON object"))
                status, reason = "failed", "exit 0 but no valid result JSON (%s)" % rec["json"]
        if not os.path.isfile(rec["json"]):
            rec["json"] = None
        if rec["hist"] and not os.path.isfile(rec["hist"]):
            rec["hist"] = None
        rec.update(exit_code=rc, status=status, reason=reason)
        self.record(rec, argv, t0)
        return status

    def run_ab(self, line):
        """An interleaved A/B session's line: L launches of each build, alternately, in the
        order A B, B A, A B, ... (drift hits both sides alike, and neither always goes
        first); a line with --repeat R runs as max(R, --launches) launches of --repeat 1:
        the repeats are separate launches. Each launch: SIDE/launches/ID/K.json; the first
        good one is also SIDE/runs/ID.json."""
        repeat = matrix.option_value(line.words, "--repeat")
        words = matrix.with_option(line.words, "--repeat", 1) if repeat else line.words
        n = ab_launches(line, self.opts.launches)
        cpus = matrix.option_value(line.words, "--cpu", "--cpus")
        first = {}
        for k in range(1, n + 1):
            for side in (("A", "B") if k % 2 else ("B", "A")):
                if self.caught is not None:
                    return
                rec = self.new_record(line.id, line.kind, side)
                rec["launch"] = k
                t0 = time.monotonic()
                self.index += 1
                d = os.path.join(self.out, side)
                os.makedirs(os.path.join(d, "launches", line.id), exist_ok=True)
                rec["json"] = os.path.join(d, "launches", line.id, "%d.json" % k)
                argv = [self.ab[side]] + words + ["--json=" + rec["json"], "--quiet"]
                if self.skip_for_cpus(rec, cpus, argv, t0):
                    rec["json"] = None
                    continue
                if self.launch(rec, argv, os.path.join(d, "logs", "%s.%d" % (line.id, k)), line.id,
                               "%s launch %d/%d" % (side, k, n), t0) == "ok":
                    first.setdefault(side, rec["json"])
        for side, path in first.items():
            shutil.copyfile(path, os.path.join(self.out, side, "runs", line.id + ".json"))

    def pair_ipclab(self, line, k, target, log):
        """Pair k's launch of an ipclab run a reference is compared with (its --repeat as 1);
        returns its result, or None (it could not run or failed)."""
        words = target.words
        if matrix.option_value(words, "--repeat"):
            words = matrix.with_option(words, "--repeat", 1)
        cpus = matrix.option_value(words, "--cpu", "--cpus")
        if cpus and placement.first_missing(cpus, self.cpus_online) is not None:
            return None
        js = os.path.join(self.out, "logs", "%s.pair%d.%s.json" % (line.id, k, target.id))
        argv = [self.ipclab] + words + ["--json=" + js, "--quiet"]
        self.command_line(line.id, "pair %d: %s" % (k, target.id), argv)
        rc, _timed_out = self.execute(argv, "%s.pair%d.%s.out" % (log, k, target.id),
                                      "%s.pair%d.%s.err" % (log, k, target.id))
        doc, _err = try_json(js)
        return doc if rc == 0 and isinstance(doc, dict) else None

    def run_pairs(self, line, argv_of, n, log):
        """The tool's runs (argv_of(k) for pair k), each paired with a launch of every ipclab
        run the line is compared with, alternately first: ipclab then tool for odd pairs, the
        tool first for even ones; the tool's CPUs sampled while it runs. At least n pairs,
        more (up to 2n) until every compared run has n pairs that ran alike. Stops at the
        first failure of the tool or when stopped. Returns (exit code of the last tool run,
        timed out, [tool stdout files], [pair records])."""
        rc, timed_out, outs, pairs = 0, False, [], []
        targets = [self.by_id[c] for c in line.compare if c in self.by_id and self.by_id[c].is_ipclab]
        alike = {t.id: 0 for t in targets}
        with open(log + ".err", "w"):
            pass
        for k in range(1, 2 * n + 1):
            if k > n and all(v >= n for v in alike.values()):
                break
            argv = argv_of(k)
            ours = {}
            if k % 2:
                ours = {t.id: (self.pair_ipclab(line, k, t, log), line.kind) for t in targets}
            self.command_line(line.id, "reference pair %d" % k, argv)
            sampler = placement.Sampler()
            rc, timed_out = self.execute(argv, "%s.%d.out" % (log, k), "%s.%d.err" % (log, k), sampler,
                                         timeout=REF_TIMEOUT)
            with open("%s.%d.err" % (log, k), errors="replace") as f, open(log + ".err", "a") as all_err:
                all_err.write(f.read())
            outs.append("%s.%d.out" % (log, k))
            if rc != 0 or self.caught is not None:
                break
            if not k % 2:
                ours = {t.id: (self.pair_ipclab(line, k, t, log), line.kind) for t in targets}
            where = sampler.placement()
            for rid, (doc, _kind) in ours.items():
                alike[rid] += doc is not None and placement.match(placement.of_run(doc), where)
            pairs.append((k, "ipclab first" if k % 2 else "tool first", where, ours))
        return rc, timed_out, outs, pairs

    def pair_results(self, line, pairs, tool_means):
        """The pairs and the per-run summaries a reference's JSON carries."""
        recs = [refpairs.pair(k, order, mean, where, ours)
                for (k, order, where, ours), mean in zip(pairs, tool_means)]
        return recs, {rid: refpairs.summary(recs, rid, line.kind) for rid in line.compare}

    def run_reference(self, line, argv, cpus, missing, argv_of, build_doc):
        """One reference line: skipped when it needs an offline CPU or its tool is missing
        (missing: why), else run as pairs (run_pairs) and written as runs/ID.json by
        build_doc(stdout files, json files, started) -> (document, the tool's mean per run
        in ns), with the pairs and their ratios added."""
        rec = self.new_record(line.id, line.kind, "reference")
        t0 = time.monotonic()
        self.index += 1
        if self.skip_for_cpus(rec, cpus, argv, t0):
            return
        if missing:
            rec.update(exit_code=4, status="skipped", reason=missing)
            self.record(rec, argv, t0)
            return
        log = os.path.join(self.out, "logs", line.id)
        rec["json"] = os.path.join(self.out, "runs", line.id + ".json")

        def js(k):
            return os.path.join(self.out, "logs", "%s.%d.ref.json" % (line.id, k))
        before = leftovers.snapshot()
        rc, timed_out, outs, pairs = self.run_pairs(line, lambda k: argv_of(js(k)),
                                                    max(line.opts["repeat"], self.opts.pairs), log)
        rec["leftovers"] = leftovers.new_since(before, leftovers.snapshot())
        status, reason = self.classify(rc, timed_out, log + ".err")
        if status == "skipped":  # the tools' exit codes follow no convention of ours
            status = "failed"
        if status == "ok":
            try:
                doc, means = build_doc(outs, [js(k) for k in range(1, len(outs) + 1)], rec["started"])
                doc["pairs"], doc["ratios"] = self.pair_results(line, pairs, means)
                write_json_atomic(rec["json"], doc)
            except Failure as e:
                status, reason = "failed", "could not parse %s output: %s" % (argv[0] if argv[0] != "taskset"
                                                                              else "perf", e.message)
        if not os.path.isfile(rec["json"]):
            rec["json"] = None
        rec.update(exit_code=rc, status=status, reason=reason)
        self.record(rec, argv, t0)

    def run_perf(self, line):
        """The perf bench reference: 'perf bench sched pipe' usecs/op of each run."""
        o = line.opts
        argv = ["taskset", "-c", o["cpus"], "perf", "bench", "sched", "pipe", "-l", str(o["loops"])]
        if o["mode"] != "process":
            argv.append("-T")

        def build_doc(outs, _jsons, started):
            per = []
            for p in outs:
                with open(p, errors="replace") as f:
                    per.append(refdocs.perf_usecs(f.read(), p))
            doc = refdocs.perf_doc({"id": line.id, "mode": o["mode"], "cpus": o["cpus"], "loops": o["loops"],
                                    "compare": line.compare[0] if line.compare else None,
                                    "pinned": o["cpus"].isdigit(), "perf_version": tool_version(["perf", "--version"]),
                                    "start_time": started, "end_time": utc(), "command": shlex.join(argv)}, per)
            return doc, [u * 1000.0 for u in per]
        self.run_reference(line, argv, o["cpus"], None if perf_available() else
                           "perf bench is not installed (scripts/deps --bench installs linux-perf)",
                           lambda _js: argv, build_doc)

    def run_rt(self, line):
        """An rt-tests reference: the receiver's one-way latency of each run's --json file."""
        o = line.opts
        argv = [o["tool"]] + (["-a", str(o["cpu"])] if o["cpu"] is not None else []) + (["-f"] if o["fork"] else [])
        argv += ["-l", str(o["loops"]), "-i", str(o["interval"]), "-q"]

        def build_doc(_outs, jsons, started):
            per = [refdocs.rt_repeat(j) for j in jsons]
            doc = refdocs.rt_doc({"id": line.id, "tool": o["tool"], "cpu": o["cpu"], "fork": o["fork"],
                                  "loops": o["loops"], "interval_us": o["interval"], "compare": ",".join(line.compare),
                                  "version": tool_version([o["tool"], "--help"], stderr=True),
                                  "start_time": started, "end_time": utc(), "command": shlex.join(argv)}, per)
            return doc, [float(x["avg_us"]) * 1000.0 for x in per]
        self.run_reference(line, argv, str(o["cpu"]) if o["cpu"] is not None else None,
                           None if shutil.which(o["tool"]) else
                           "%s is not installed (scripts/deps --bench installs rt-tests)" % o["tool"],
                           lambda js: argv + ["--json=" + js], build_doc)

    # ------------------------------------------------------------ the matrix

    def make_out(self, out):
        """Creates the results folder (must not exist, or be empty) and its subfolders."""
        if out is None:
            os.makedirs(os.path.join(REPO, "results"), exist_ok=True)
            out = os.path.join(REPO, "results", datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
        if os.path.exists(out):
            if not os.path.isdir(out) or os.listdir(out):
                raise UsageError("%s already exists; refusing to overwrite results (wait a second or pass --out)" % out)
        else:
            os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
            try:
                os.mkdir(out)
            except OSError:
                raise UsageError("%s already exists or cannot be created; refusing to overwrite" % out) from None
        self.out = os.path.realpath(out)
        subs = ("runs", "hist", "logs", "traces")
        if self.ab:
            subs = ["%s/%s" % (side, sub) for side in "AB" for sub in ("runs", "launches", "logs")] + ["logs"]
        for sub in subs:
            os.makedirs(os.path.join(self.out, sub), exist_ok=True)
        open(os.path.join(self.out, "commands.txt"), "w").close()

    def run(self):
        """Every line of the matrix, in order; stops after the run that a signal interrupted."""
        for line in self.lines:
            if self.caught is not None:
                break
            if self.ab:
                if line.is_ipclab:
                    self.run_ab(line)
            elif line.is_ipclab:
                self.untraced_status = None
                self.run_ipclab(line, "untraced")
                if line.kind == "ipclab" and self.opts.tracing == "both" and self.caught is None:
                    self.run_ipclab(line, "traced")
            elif line.kind == "perf-pipe":
                self.run_perf(line)
            else:
                self.run_rt(line)

    def manifest(self, started, exit_code):
        """matrix.json: the matrix, every run's record, the counts; leftovers checked again
        (those gone by now belonged to another program running beside the matrix)."""
        counts = {"ok": 0, "skipped": 0, "failed": 0}
        still = []
        for r in self.records:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
            keep = [e for e in r["leftovers"] if leftovers.still_there(e)]
            gone = [e for e in r["leftovers"] if e not in keep]
            r["leftovers"] = keep
            if gone:
                r["leftovers_transient"] = gone
            still += ["%s: %s" % (r["id"], e) for e in keep]
        doc = {"schema": "ipclab-matrix/1", "matrix": self.opts.matrix, "matrix_name": self.opts.matrix_name,
               "tracing": self.opts.tracing, "only": self.opts.only, "out": self.out, "started": started,
               "total_runs": self.total, "cpus_online": " ".join(str(c) for c in self.cpus_online),
               "runs": self.records, "finished": utc(), "interrupted": self.caught is not None,
               "runs_done": self.index, "exit_code": exit_code, "counts": counts}
        if self.ab:
            doc["ab"] = self.session
        return doc, counts, still

    def write_session(self, started):
        """session.json at the top and in each side: which builds ran, interleaved how. Two
        folders with the same session id were measured in one session (compare says so)."""
        self.session = {"schema": "ipclab-ab-session/1", "session": "%s@%s" % (os.path.basename(self.out), started),
                        "started": started, "matrix": self.opts.matrix, "only": self.opts.only,
                        "least_launches": self.opts.launches, "order": "A B, B A, A B, ... per launch pair",
                        "builds": {side: {"ipclab": ipclab, "git": git_describe(ipclab)}
                                   for side, ipclab in self.ab.items()}}
        write_json_atomic(os.path.join(self.out, "session.json"), self.session)
        for side in "AB":
            write_json_atomic(os.path.join(self.out, side, "session.json"), dict(self.session, side=side))


def ab_launches(line, least):
    """Launches per side of a line in an A/B session: its --repeat, at least `least`."""
    repeat = matrix.option_value(line.words, "--repeat")
    return max(least, int(repeat) if repeat and repeat.isdigit() else 0)


def resolve_build(path, what):
    """The ipclab of a build: PATH/bin/ipclab (a build directory) or PATH/build/bin/ipclab
    (a checkout, built with make); UsageError if neither exists."""
    for cand in (os.path.join(path, "bin", "ipclab"), os.path.join(path, "build", "bin", "ipclab")):
        if os.access(cand, os.X_OK):
            return os.path.realpath(cand)
    raise UsageError("%s %s: no bin/ipclab or build/bin/ipclab there (a build directory, or a checkout built "
                     "with make)" % (what, path))


def git_describe(ipclab):
    """`git describe --always --dirty` of the checkout an ipclab binary was built in, or None."""
    d = os.path.dirname(ipclab)
    try:
        p = subprocess.run(["git", "-C", d, "describe", "--always", "--dirty"], capture_output=True, text=True,
                           timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout.strip() or None if p.returncode == 0 else None


def perf_available():
    if not shutil.which("perf"):
        return False
    return subprocess.run(["perf", "bench", "sched", "pipe", "-l", "1"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode == 0


def tool_version(argv, stderr=False):
    """The first line a tool prints about itself, or None."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (p.stdout + p.stderr) if stderr else p.stdout
    return (text.strip().splitlines() or [None])[0]


def dry_run(opts, lines, total):
    if opts.ab:
        print("matrix %s (%s), A/B session: A %s, B %s, %d launches" % (opts.matrix, opts.matrix_name, opts.ab[0],
                                                                       opts.ab[1], total))
        for line in lines:
            if line.is_ipclab:
                print("%s: %d launches per side: ipclab %s" % (line.id, ab_launches(line, opts.launches),
                                                              " ".join(line.words)))
        return
    print("matrix %s (%s), tracing: %s, %d runs" % (opts.matrix, opts.matrix_name, opts.tracing, total))
    n = 0
    for line in lines:
        n += 1
        if line.is_ipclab:
            print("[%d/%d] %s: ipclab %s --json=DIR/runs/%s.json --quiet" % (n, total, line.id, " ".join(line.words),
                                                                            line.id))
            if line.kind == "ipclab" and opts.tracing == "both":
                n += 1
                print("[%d/%d] %s (traced): scripts/ipclab-trace --out DIR/traces/%s -- ipclab %s ..."
                      % (n, total, line.id, line.id, " ".join(line.words)))
        else:
            print("[%d/%d] %s (reference): %s %s" % (n, total, line.id, line.kind, " ".join(line.words)))


def parser():
    p = ArgumentParser(prog=PROG, usage="bench/run [--quick|--full|--matrix FILE] [--out DIR] "
                       "[--traced|--untraced|--both]\n                 [--only PATTERN[,PATTERN...]] [--dry-run]",
                       description=HELP, epilog=EPILOG)
    g = p  # the last of --quick, --full and --matrix wins, as the last tracing option does
    g.add_argument("--quick", dest="matrix", action="store_const", const=os.path.join(BENCH, "quick.matrix"),
                   help="bench/quick.matrix (default; about 3 minutes on 2 CPUs, traced included)")
    g.add_argument("--full", dest="matrix", action="store_const", const=os.path.join(BENCH, "full.matrix"),
                   help="bench/full.matrix (more iterations, --repeat 10, interleaved rounds)")
    g.add_argument("--matrix", metavar="FILE", help="any other matrix file")
    p.add_argument("--out", metavar="DIR", help="write here instead; DIR must not exist (or be an empty directory)")
    t = p
    t.add_argument("--both", "--traced", dest="tracing", action="store_const", const="both",
                   help="every ipclab line twice: untraced (the numbers) and then traced through "
                   "scripts/ipclab-trace (default); lines of KIND ipclab:untraced run untraced only")
    t.add_argument("--untraced", dest="tracing", action="store_const", const="untraced",
                   help="only the untraced runs")
    p.add_argument("--only", metavar="PATTERN", help="only the matrix lines whose ID matches one of the "
                   "comma-separated shell globs (e.g. --only 'lat-thread-*,perf-thread-*')")
    p.add_argument("--dry-run", action="store_true", help="print the plan (every command) and exit; writes nothing")
    p.add_argument("--ab", nargs=2, metavar=("BUILD_A", "BUILD_B"), help="an interleaved A/B session: every ipclab "
                   "line run by two builds (build directories, or checkouts built with make) alternately, launch "
                   "by launch (A B, B A, ...), untraced, into DIR/A and DIR/B (runs/, launches/ID/K.json) and "
                   "DIR/session.json; references are not run. scripts/ipclab-compare DIR/A DIR/B then judges "
                   "the launches. The same build twice is an A/A check")
    p.add_argument("--launches", type=int_type("--launches", 2, 1000), default=5, help="with --ab: launches per "
                   "side and line, at least (a line with --repeat R runs max(R, N) launches of --repeat 1: the "
                   "repeats become separate launches; default 5)")
    p.add_argument("--pairs", type=int_type("--pairs", 1, 1000), default=refpairs.MIN_PAIRS, help="reference "
                   "lines: pairs with the ipclab run they are compared with, at least (a line's --repeat R gives "
                   "max(R, N) pairs; default 5)")
    p.add_argument("--refs-only", action="store_true", help="only the reference lines (each still paired with "
                   "its ipclab runs): what bench/ref-ratios runs")
    p.set_defaults(tracing="both")
    return p


def options(argv):
    opts = parser().parse_args(argv)
    opts.matrix = opts.matrix or os.path.join(BENCH, "quick.matrix")
    opts.matrix_name = os.path.basename(opts.matrix)
    if opts.matrix_name.endswith(".matrix"):
        opts.matrix_name = opts.matrix_name[:-len(".matrix")]
    if not os.path.isfile(opts.matrix):
        raise UsageError("matrix file not found: %s" % opts.matrix)
    t = os.environ.get("IPCLAB_RUN_TIMEOUT", "1800")
    if not t.isdigit() or int(t) < 1:
        raise UsageError("IPCLAB_RUN_TIMEOUT must be a positive number of seconds, got '%s'" % t)
    opts.timeout = int(t)
    if opts.ab:
        opts.ab = [resolve_build(b, "--ab") for b in opts.ab]
        opts.tracing = "untraced"
    return opts


def main(argv):
    opts = options(argv)
    lines, by_id = matrix.parse(opts.matrix, opts.only)
    if opts.refs_only:
        lines = [ln for ln in lines if not ln.is_ipclab]
        if not lines:
            raise UsageError("--refs-only: no reference line selected in %s" % opts.matrix)
    runner = Runner(opts, lines, build_dir(), by_id)
    if opts.dry_run:
        dry_run(opts, lines, runner.total)
        return 0
    if not runner.ab and not os.access(runner.ipclab, os.X_OK):
        raise NoResource("%s not found: build it first (make)" % runner.ipclab)
    runner.make_out(opts.out)
    leftovers.adopt_orphans()  # a daemon a traced run leaves behind stays ours to find
    started = utc()
    if runner.ab:
        runner.write_session(started)
        print("%s: %s matrix, A/B session, %d launches: A %s, B %s -> %s (references not run)"
              % (PROG, opts.matrix_name, runner.total, runner.ab["A"], runner.ab["B"], runner.out), flush=True)
    else:
        print("%s: %s matrix, %d runs, tracing: %s -> %s" % (PROG, opts.matrix_name, runner.total, opts.tracing,
                                                             runner.out), flush=True)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, runner.on_signal)
    rc = None
    try:
        runner.run()
        rc = 1 if runner.failed else 0
        if runner.caught is not None:
            rc = 128 + runner.caught
            sys.stderr.write("%s: interrupted by SIG%s after %d of %d runs\n"
                             % (PROG, signal.Signals(runner.caught).name[3:], runner.index, runner.total))
    finally:
        # whatever happened (a bug included), what finished is written
        doc, counts, still = runner.manifest(started, rc if rc is not None else 1)
        write_json_atomic(os.path.join(runner.out, "matrix.json"), doc)
    for s in still:
        sys.stderr.write("%s: WARNING: still left behind at the end: %s\n" % (PROG, s))
    try:
        for d in ([os.path.join(runner.out, side) for side in "AB"] if runner.ab else [runner.out]):
            env.write(d)
    except Failure as e:
        sys.stderr.write("%s: WARNING: scripts/collect-env failed: %s\n" % (PROG, e.message))
    print("%s: %d ok, %d skipped, %d failed in %s" % (PROG, counts["ok"], counts["skipped"], counts["failed"],
                                                     mmss(time.monotonic() - runner.t_start)))
    print("results: %s" % runner.out)
    return rc


def entry():
    run_main(main, PROG)
