#!/usr/bin/python3
"""runlib.py - the JSON side of bench/run (the runner never builds JSON with printf).

  runlib.py init MANIFEST KEY=VALUE...          start DIR/matrix.json
  runlib.py add MANIFEST KEY=VALUE... -- ARGV   append one run record (ARGV: its command)
  runlib.py finish MANIFEST KEY=VALUE...        set the closing fields, print the counts
  runlib.py perf OUT KEY=VALUE... -- STDOUT...  parse 'perf bench sched pipe' outputs into OUT
  runlib.py rt OUT KEY=VALUE... -- JSON...      read rt-tests --json files (sigwaittest, pmqtest,
                                                svsematest, ptsematest: one per repeat) into OUT
  runlib.py recheck MANIFEST                    at the end of the matrix: move the leftovers
                                                that are gone by now (another program's objects
                                                seen mid-run on a shared machine) to
                                                leftovers_transient; print those still there
  runlib.py check-json FILE                     exit 0 if FILE parses as a JSON object

Values that look like integers or floats are stored as numbers, "true"/"false" as
booleans, "" as null. Files are replaced atomically (write a temp file, rename).
"""

import json
import os
import re
import shlex
import statistics
import sys


def die(msg, code=2):
    print("runlib.py: " + msg, file=sys.stderr)
    sys.exit(code)


def typed(v):
    """The JSON value for a KEY=VALUE string."""
    if v == "":
        return None
    if v in ("true", "false"):
        return v == "true"
    if re.fullmatch(r"-?[0-9]+", v):
        return int(v)
    if re.fullmatch(r"-?[0-9]*\.[0-9]+([eE][-+]?[0-9]+)?", v):
        return float(v)
    return v


def kv(args):
    """KEY=VALUE... -> dict; a KEY ending in [] collects a list, one item per occurrence."""
    out = {}
    for a in args:
        if "=" not in a:
            die("expected KEY=VALUE, got %r" % a)
        k, v = a.split("=", 1)
        if k.endswith("[]"):
            out.setdefault(k[:-2], [])
            if v != "":
                out[k[:-2]].append(v)
        else:
            out[k] = typed(v)
    return out


def split_argv(args):
    if "--" in args:
        i = args.index("--")
        return args[:i], args[i + 1:]
    return args, []


def load(path):
    with open(path) as f:
        return json.load(f)


def save(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def cmd_init(path, args):
    doc = {"schema": "ipclab-matrix/1"}
    doc.update(kv(args))
    doc["runs"] = []
    save(path, doc)


def cmd_add(path, args):
    fields, argv = split_argv(args)
    doc = load(path)
    run = kv(fields)
    run["argv"] = argv
    run["command"] = shlex.join(argv)
    doc["runs"].append(run)
    save(path, doc)


def cmd_finish(path, args):
    doc = load(path)
    doc.update(kv(args))
    counts = {"ok": 0, "skipped": 0, "failed": 0}
    for r in doc["runs"]:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    doc["counts"] = counts
    save(path, doc)
    print("%d ok, %d skipped, %d failed" % (counts["ok"], counts["skipped"], counts["failed"]))


USECS_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s+usecs/op\s*$", re.M)


def cmd_perf(path, args):
    """One small JSON for a perf-pipe reference run: every repeat's usecs/op (one
    loop of perf's sched-pipe = one write+read round trip), mean and rel. stddev."""
    fields, outputs = split_argv(args)
    p = kv(fields)
    per = []
    for o in outputs:
        with open(o, errors="replace") as f:
            m = USECS_RE.search(f.read())
        if not m:
            die("no 'usecs/op' line in %s" % o, 1)
        per.append(float(m.group(1)))
    if not per:
        die("no perf output to parse", 1)
    mean_us = statistics.fmean(per)
    rsd = statistics.stdev(per) / mean_us if len(per) > 1 and mean_us > 0 else 0.0
    cpus = str(p.get("cpus"))
    pinned = p.get("pinned") is True
    if pinned:
        placement = "same-cpu"
        placement_note = "both tasks pinned to CPU %s (taskset -c %s)" % (cpus, cpus)
    else:
        placement = "cross-cpu"
        placement_note = ("unpinned on CPUs %s (taskset -c %s: perf bench cannot pin each peer, "
                          "the scheduler may put both on one CPU)" % (cpus, cpus))
    doc = {
        "schema": "ipclab-perf-ref/1",
        "experiment": "perf bench sched pipe",
        "id": p.get("id"),
        "cmdline": shlex.split(p.get("command") or ""),
        "start_time": p.get("start_time"),
        "end_time": p.get("end_time"),
        "perf_version": p.get("perf_version"),
        "params": {
            "mode": p.get("mode"),
            "loops": p.get("loops"),
            "repeat": len(per),
            "cpus": cpus,
            "pinned": pinned,
            "placement": placement,
            "placement_note": placement_note,
            "compare": p.get("compare"),
            "message_size": 4,
        },
        "results": {
            "usecs_per_op": per,
            "rtt_mean_ns": mean_us * 1000.0,
            "rtt_min_of_repeats_ns": min(per) * 1000.0,
            "repeat_rel_stddev_mean": rsd,
            "note": "usecs/op = wall time of the whole run (task creation included) / loops; "
                    "one loop is one write+read round trip of a 4-byte message",
        },
        "exit_code": 0,
    }
    save(path, doc)


RT_WHAT = {
    "sigwaittest": ("signal", "sender gettimeofday(), kill()/pthread_kill(SIGUSR2) -> receiver "
                    "returns from sigwait() and reads gettimeofday()"),
    "pmqtest": ("posix-mq", "sender gettimeofday(), mq_send() of 7 bytes -> receiver returns from "
                "mq_receive() and reads gettimeofday()"),
    "svsematest": ("sysv-sem", "sender gettimeofday(), semop() up -> receiver returns from its "
                   "semop() down and reads gettimeofday()"),
    "ptsematest": ("mutex", "sender gettimeofday(), pthread_mutex_unlock() -> receiver returns "
                   "from pthread_mutex_lock() and reads gettimeofday()"),
}


def cmd_rt(path, args):
    """One small JSON for an rt-tests reference run: the receiver's one-way latency
    (min/avg/max, whole microseconds from gettimeofday) of every repeat, read from the
    tool's own --json file, with the mean over repeats and its relative stddev."""
    fields, files = split_argv(args)
    p = kv(fields)
    tool = p.get("tool")
    if tool not in RT_WHAT:
        die("unknown rt-tests tool %r" % tool)
    per = []
    for f in files:
        try:
            doc = load(f)
        except (OSError, ValueError) as e:
            die("%s: %s" % (f, e), 1)
        threads = doc.get("thread") or {}
        t = threads.get("0") if isinstance(threads, dict) else None
        if not isinstance(t, dict) or not isinstance(t.get("receiver"), dict):
            die("%s: no thread 0 receiver results" % f, 1)
        r, s = t["receiver"], t.get("sender") or {}
        if doc.get("return_code") not in (0, None):
            die("%s: return_code %r" % (f, doc.get("return_code")), 1)
        samples = s.get("samples")
        if not isinstance(samples, int) or samples <= 0:
            die("%s: no samples" % f, 1)
        per.append({"min_us": r.get("min"), "avg_us": r.get("avg"), "max_us": r.get("max"),
                    "samples": samples, "cpu_receiver": r.get("cpu"), "cpu_sender": s.get("cpu"),
                    "priority": r.get("priority")})
    if not per:
        die("no %s output to parse" % tool, 1)
    avgs = [float(x["avg_us"]) for x in per]
    mean_us = statistics.fmean(avgs)
    rsd = statistics.stdev(avgs) / mean_us if len(avgs) > 1 and mean_us > 0 else 0.0
    cpu = p.get("cpu")
    fork = p.get("fork") is True
    if cpu is not None:
        placement = "same-cpu"
        note = "both peers pinned to CPU %s (-a %s)" % (cpu, cpu)
    else:
        placement = "unpinned"
        note = "unpinned (no -a)"
    what, how = RT_WHAT[tool]
    doc = {
        "schema": "ipclab-rt-ref/1",
        "experiment": "rt-tests " + tool,
        "id": p.get("id"),
        "cmdline": shlex.split(p.get("command") or ""),
        "start_time": p.get("start_time"),
        "end_time": p.get("end_time"),
        "tool_version": p.get("version"),
        "params": {
            "tool": tool,
            "mechanism": what,
            "mode": "process" if fork else "thread",
            "cpu": cpu,
            "placement": placement,
            "placement_note": note,
            "loops": p.get("loops"),
            "interval_us": p.get("interval_us"),
            "repeat": len(per),
            "compare": p.get("compare"),
        },
        "results": {
            "repeats": per,
            "oneway_mean_ns": mean_us * 1000.0,
            "oneway_min_ns": min(float(x["min_us"]) for x in per) * 1000.0,
            "oneway_max_ns": max(float(x["max_us"]) for x in per) * 1000.0,
            "repeat_rel_stddev_mean": rsd,
            "resolution_ns": 1000,
            "what": how,
            "note": "one-way latency, whole microseconds (gettimeofday) per sample: min and max "
                    "are quantised to 1 us; the mean of many samples is not",
        },
        "exit_code": 0,
    }
    save(path, doc)


SYSV_RE = re.compile(r"^SysV (semaphore|message queue|shared memory) id ([0-9]+) ")
SYSV_PROC = {"semaphore": "/proc/sysvipc/sem", "message queue": "/proc/sysvipc/msg",
             "shared memory": "/proc/sysvipc/shm"}


def still_there(entry):
    """True if a leftover recorded by bench/run ('/dev/shm/NAME', 'SysV semaphore id N key K',
    'LTTng session S') still exists; sessions are assumed to (bench/run cannot tell)."""
    if entry.startswith("/dev/"):
        return os.path.exists(entry)
    m = SYSV_RE.match(entry)
    if m:
        try:
            with open(SYSV_PROC[m.group(1)]) as f:
                next(f, None)
                ids = {line.split()[1] for line in f if len(line.split()) > 1}
        except OSError:
            return True
        return m.group(2) in ids
    return True


def cmd_recheck(path):
    doc = load(path)
    left = []
    for r in doc.get("runs", []):
        keep, gone = [], []
        for e in r.get("leftovers") or []:
            (keep if still_there(e) else gone).append(e)
        r["leftovers"] = keep
        if gone:
            r["leftovers_transient"] = gone
        left += ["%s: %s" % (r.get("id"), e) for e in keep]
    save(path, doc)
    for line in left:
        print(line)


def cmd_check_json(path):
    try:
        doc = load(path)
    except (OSError, ValueError) as e:
        print("runlib.py: %s: %s" % (path, e), file=sys.stderr)
        sys.exit(1)
    sys.exit(0 if isinstance(doc, dict) else 1)


def main(argv):
    if len(argv) < 3:
        die("usage: runlib.py init|add|finish|perf|rt|recheck|check-json FILE [KEY=VALUE...] [-- ARGS...]")
    cmd, path, rest = argv[1], argv[2], argv[3:]
    if cmd == "init":
        cmd_init(path, rest)
    elif cmd == "add":
        cmd_add(path, rest)
    elif cmd == "finish":
        cmd_finish(path, rest)
    elif cmd == "perf":
        cmd_perf(path, rest)
    elif cmd == "rt":
        cmd_rt(path, rest)
    elif cmd == "recheck":
        cmd_recheck(path)
    elif cmd == "check-json":
        cmd_check_json(path)
    else:
        die("unknown command %r" % cmd)


if __name__ == "__main__":
    main(sys.argv)
