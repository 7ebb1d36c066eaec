"""refdocs.py - the result JSON of a reference run, built from the tool's own output:
perf bench sched pipe (usecs/op per repeat) and rt-tests sigwaittest, pmqtest, svsematest,
ptsematest (their --json file per repeat). bench/run writes them as runs/ID.json."""

import re
import shlex
import statistics

from .cli import Failure
from .results import load_json
from .stats import rel_stddev

USECS_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s+usecs/op\s*$", re.M)

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


def perf_usecs(text, where):
    """The usecs/op of one 'perf bench sched pipe' output; Failure if it has none."""
    m = USECS_RE.search(text)
    if not m:
        raise Failure("no 'usecs/op' line in %s" % where)
    return float(m.group(1))


def perf_doc(p, per):
    """One small JSON for a perf-pipe reference run: every repeat's usecs/op (one loop of
    perf's sched-pipe = one write+read round trip), mean and rel. stddev. p: id, mode, cpus,
    loops, compare, pinned, perf_version, start_time, end_time, command."""
    if not per:
        raise Failure("no perf output to parse")
    mean_us = statistics.fmean(per)
    cpus = str(p.get("cpus"))
    pinned = p.get("pinned") is True
    if pinned:
        placement = "same-cpu"
        note = "both tasks pinned to CPU %s (taskset -c %s)" % (cpus, cpus)
    else:
        placement = "cross-cpu"
        note = ("unpinned on CPUs %s (taskset -c %s: perf bench cannot pin each peer, "
                "the scheduler may put both on one CPU)" % (cpus, cpus))
    return {
        "schema": "ipclab-perf-ref/1",
        "experiment": "perf bench sched pipe",
        "id": p.get("id"),
        "cmdline": shlex.split(p.get("command") or ""),
        "start_time": p.get("start_time"),
        "end_time": p.get("end_time"),
        "perf_version": p.get("perf_version"),
        "params": {
            "mode": p.get("mode"), "loops": p.get("loops"), "repeat": len(per), "cpus": cpus,
            "pinned": pinned, "placement": placement, "placement_note": note,
            "compare": p.get("compare"), "message_size": 4,
        },
        "results": {
            "usecs_per_op": per,
            "rtt_mean_ns": mean_us * 1000.0,
            "rtt_min_of_repeats_ns": min(per) * 1000.0,
            "repeat_rel_stddev_mean": rel_stddev(per),
            "note": "usecs/op = wall time of the whole run (task creation included) / loops; "
                    "one loop is one write+read round trip of a 4-byte message",
        },
        "exit_code": 0,
    }


def rt_repeat(path):
    """The receiver's one-way latency of one rt-tests --json file: min/avg/max (µs),
    samples, CPUs; Failure if the file is not a complete result."""
    try:
        doc = load_json(path)
    except (OSError, ValueError) as e:
        raise Failure("%s: %s" % (path, e)) from None
    threads = doc.get("thread") or {} if isinstance(doc, dict) else {}
    t = threads.get("0") if isinstance(threads, dict) else None
    if not isinstance(t, dict) or not isinstance(t.get("receiver"), dict):
        raise Failure("%s: no thread 0 receiver results" % path)
    r, s = t["receiver"], t.get("sender") or {}
    if doc.get("return_code") not in (0, None):
        raise Failure("%s: return_code %r" % (path, doc.get("return_code")))
    samples = s.get("samples")
    if not isinstance(samples, int) or samples <= 0:
        raise Failure("%s: no samples" % path)
    return {"min_us": r.get("min"), "avg_us": r.get("avg"), "max_us": r.get("max"), "samples": samples,
            "cpu_receiver": r.get("cpu"), "cpu_sender": s.get("cpu"), "priority": r.get("priority")}


def rt_doc(p, per):
    """One small JSON for an rt-tests reference run: every repeat's one-way latency (whole
    microseconds from gettimeofday), the mean over repeats and its relative stddev. p: id,
    tool, cpu, fork, loops, interval_us, compare, version, start_time, end_time, command."""
    tool = p.get("tool")
    if tool not in RT_WHAT:
        raise Failure("unknown rt-tests tool %r" % tool)
    if not per:
        raise Failure("no %s output to parse" % tool)
    avgs = [float(x["avg_us"]) for x in per]
    cpu = p.get("cpu")
    what, how = RT_WHAT[tool]
    return {
        "schema": "ipclab-rt-ref/1",
        "experiment": "rt-tests " + tool,
        "id": p.get("id"),
        "cmdline": shlex.split(p.get("command") or ""),
        "start_time": p.get("start_time"),
        "end_time": p.get("end_time"),
        "tool_version": p.get("version"),
        "params": {
            "tool": tool, "mechanism": what, "mode": "process" if p.get("fork") else "thread",
            "cpu": cpu, "placement": "same-cpu" if cpu is not None else "unpinned",
            "placement_note": ("both peers pinned to CPU %s (-a %s)" % (cpu, cpu) if cpu is not None
                               else "unpinned (no -a)"),
            "loops": p.get("loops"), "interval_us": p.get("interval_us"), "repeat": len(per),
            "compare": p.get("compare"),
        },
        "results": {
            "repeats": per,
            "oneway_mean_ns": statistics.fmean(avgs) * 1000.0,
            "oneway_min_ns": min(float(x["min_us"]) for x in per) * 1000.0,
            "oneway_max_ns": max(float(x["max_us"]) for x in per) * 1000.0,
            "repeat_rel_stddev_mean": rel_stddev(avgs),
            "resolution_ns": 1000,
            "what": how,
            "note": "one-way latency, whole microseconds (gettimeofday) per sample: min and max "
                    "are quantised to 1 us; the mean of many samples is not",
        },
        "exit_code": 0,
    }
