"""placement.py - where a run's peers ran, written once: CPU lists ("0-3,6"), the online
CPUs, an ipclab run's requested placement (params.placement, params.cpu) and observed one
(results.repeats[].cpu), a reference tool's CPUs sampled from /proc while it runs, and the
rule that says whether two runs ran alike.

Placements: "same-cpu" (both peers pinned to one CPU), "cross-cpu" (pinned to two CPUs),
"unpinned" (the scheduler chooses)."""

import os
import threading

from .fmt import num


def parse_cpu_list(text):
    """[cpu numbers] of a kernel CPU list ("0-3,6"); ValueError if malformed."""
    out = []
    for part in str(text).strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        lo_i, hi_i = int(lo), int(hi) if hi else int(lo)
        if hi_i < lo_i:
            raise ValueError("bad CPU range %r" % part)
        out.extend(range(lo_i, hi_i + 1))
    return out


def online_cpus():
    """The online CPU numbers (from /sys/devices/system/cpu/online; [0] if unreadable)."""
    try:
        with open("/sys/devices/system/cpu/online") as f:
            return parse_cpu_list(f.read())
    except (OSError, ValueError):
        return [0]


def first_missing(cpu_list, online):
    """The first CPU of cpu_list that is not in online, else None."""
    for c in parse_cpu_list(cpu_list):
        if c not in online:
            return c
    return None


def of_params(params):
    """(key, text, short) of an ipclab run's requested placement: ("same-cpu", "same CPU
    (both on 0)", "same CPU 0"), ("cross-cpu", "cross-CPU (initiator 0, responder 1)",
    "cross-CPU 0→1") or ("unpinned", "unpinned", "unpinned")."""
    pl = params.get("placement")
    cpu = params.get("cpu") or []
    if pl == "same-cpu" and cpu:
        return "same-cpu", "same CPU (both on %d)" % cpu[0], "same CPU %s" % cpu[0]
    if pl == "cross-cpu" and len(cpu) > 1:
        return "cross-cpu", "cross-CPU (initiator %d, responder %d)" % (cpu[0], cpu[1]), \
            "cross-CPU %s\u2192%s" % (cpu[0], cpu[1])
    key = pl or "unpinned"
    return key, "unpinned" if key == "unpinned" else key, key


def observed(results):
    """(initiator CPUs, responder CPUs) seen at the start and end of every repeat of an ipclab
    run (results.repeats[].cpu), as sets; (None, None) if it recorded none."""
    ini, resp = set(), set()
    for r in results.get("repeats", []) or []:
        c = r.get("cpu", {}) if isinstance(r, dict) else {}
        ini.update(x for x in c.get("initiator", []) if num(x) and x >= 0)
        resp.update(x for x in c.get("responder", []) if num(x) and x >= 0)
    if not ini and not resp:
        return None, None
    return ini, resp


def observed_text(ini, resp):
    fmt = lambda s: ",".join(str(x) for x in sorted(s)) or "?"  # noqa: E731
    return "initiator %s, responder %s" % (fmt(ini), fmt(resp))


def kind_of_cpus(cpus_per_peer):
    """The placement key of what was observed: every peer only ever on one and the same CPU
    -> same-cpu; each peer on one CPU, different ones -> cross-cpu; else "mixed" (a peer
    moved, or peers shared CPUs only part of the time). None without observations."""
    peers = [set(s) for s in cpus_per_peer if s]
    if not peers:
        return None
    if all(len(s) == 1 for s in peers):
        return "same-cpu" if len(set.union(*peers)) == 1 else "cross-cpu"
    return "mixed"


# ------------------------------------------------------------------ sampling a running tool

def task_state_cpu(stat_text):
    """(state, CPU) of a task from /proc/PID/task/TID/stat: field 3 and field 39 (the CPU it
    last ran on), counted after the comm field, which may hold blanks and parentheses."""
    rest = stat_text.rsplit(")", 1)[1].split()
    return rest[0], int(rest[36])  # fields 3.. start at index 0: field 39 is index 36


def task_cpu(stat_text):
    return task_state_cpu(stat_text)[1]


def tasks_of(pid):
    """{tid: (state, cpu)} of every thread of pid and of its descendants (task/*/children)."""
    out, todo, seen = {}, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        base = "/proc/%d/task" % p
        try:
            tids = os.listdir(base)
        except OSError:
            continue
        for tid in tids:
            try:
                with open("%s/%s/stat" % (base, tid)) as f:
                    out[int(tid)] = task_state_cpu(f.read())
                with open("%s/%s/children" % (base, tid)) as f:
                    todo.extend(int(c) for c in f.read().split())
            except (OSError, ValueError, IndexError):
                continue
    return out


class Sampler:
    """Samples the tasks of a process tree every `period` seconds in a thread, from start()
    to stop(). Only the samples that find a task running (state R) count: a thread that
    waits (a tool's main thread joining its workers) is no peer. The peers are the PEERS
    tasks seen running most often (the two sides of a ping-pong); a peer's CPUs are those
    of at least SHARE of its running samples (a worker seen a few times on another CPU
    while it started, before pinning itself, ran there for nothing that was measured)."""

    PEERS = 2
    SHARE = 0.25

    def __init__(self, period=0.001):
        self.period = period
        self.running = {}   # tid -> {cpu: running samples}
        self.tasks = set()
        self._stop = threading.Event()
        self._thread = None
        self.pid = None

    def start(self, pid):
        self.pid = pid
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            for tid, (state, cpu) in tasks_of(self.pid).items():
                self.tasks.add(tid)
                if state == "R":
                    per = self.running.setdefault(tid, {})
                    per[cpu] = per.get(cpu, 0) + 1
            self._stop.wait(self.period)

    def stop(self):
        if self._thread:
            self._stop.set()
            self._thread.join()
        return self.peers()

    def peers(self):
        """{tid: set of CPUs} of the peers."""
        ranked = sorted(self.running.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:self.PEERS]
        return {tid: {c for c, k in per.items() if k >= self.SHARE * sum(per.values())} for tid, per in ranked}

    def placement(self):
        """(kind, [CPU lists]) of the peers (see kind_of_cpus), (None, []) if none ran."""
        peers = self.peers()
        cpus = [sorted(c) for _t, c in sorted(peers.items())]
        if len(peers) < self.PEERS:  # one side never seen running: where the pair ran is unknown
            return None, cpus
        return kind_of_cpus(peers.values()), cpus


def short(params):
    """'same CPU 0', 'cross-CPU 0→1' or 'unpinned': an ipclab run's placement in a label."""
    return of_params(params)[2]


def of_run(doc):
    """(kind, [CPU lists]) where an ipclab run's peers ran: observed (results.repeats[].cpu,
    initiator and responder) when it recorded it, else what it asked for (params)."""
    ini, resp = observed(doc.get("results") or {})
    if ini is not None:
        return kind_of_cpus([ini, resp]), [sorted(ini), sorted(resp)]
    p = doc.get("params") or {}
    key = of_params(p)[0]
    cpu = p.get("cpu") or []
    if key == "same-cpu" and cpu:
        return key, [[cpu[0]], [cpu[0]]]
    if key == "cross-cpu" and len(cpu) > 1:
        return key, [[cpu[0]], [cpu[1]]]
    return key, []


def match(a, b):
    """True if two placements (kind, [CPU lists]) ran alike: both on one and the same CPU, or
    both on the same two CPUs (which peer where does not matter)."""
    (ka, ca), (kb, cb) = a, b
    if ka is None or kb is None or ka != kb or ka not in ("same-cpu", "cross-cpu"):
        return False
    return set(x for c in ca for x in c) == set(x for c in cb for x in c)
