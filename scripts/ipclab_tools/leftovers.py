"""leftovers.py - the IPC objects a run may leave behind: names in /dev/shm and
/dev/mqueue and SysV semaphore sets, message queues and shared memory segments (from
/proc/sysvipc), snapshotted before and after each run; what is new afterwards was left
behind (or belongs to another program running at the same time: recheck() at the end
tells the two apart).

Not leftovers: /dev/shm/lttng-ust-wait-<ABI>[-<UID>] (ABI major 8 for LTTng-UST 2.13).
liblttng-ust creates these in every instrumented process that registers with a session
daemon (lttng-ust's LTTNG_UST_WAIT_FILENAME, "lttng-ust-wait-" + ABI major version; the
global one for the root session daemon, "-UID" for a per-user one): a shared futex word
the daemon uses to wake applications waiting for it. They are meant to persist, one per
user, and are shared by every LTTng application of that user: removing one would break
tracing of the programs that still map it. They belong to the tracer, not to ipclab."""

import os
import re

TRACER_SHM_RE = re.compile(r"lttng-ust-wait-[0-9]+(-[0-9]+)?")
SYSV = (("sem", "semaphore"), ("msg", "message queue"), ("shm", "shared memory"))
SYSV_RE = re.compile(r"^SysV (semaphore|message queue|shared memory) id ([0-9]+) ")
DAEMONS = ("lttng-sessiond", "lttng-consumerd")
DAEMON_RE = re.compile(r"^LTTng daemon (\S+) pid ([0-9]+)$")


def tracer_owned(entry):
    """True for liblttng-ust's own wait files (see the module's comment)."""
    d, name = os.path.split(entry)
    return d == "/dev/shm" and TRACER_SHM_RE.fullmatch(name) is not None


def sysv_ids(kind):
    """{id: key} of the SysV objects of kind (sem, msg, shm) in /proc/sysvipc, {} if absent."""
    out = {}
    try:
        with open("/proc/sysvipc/" + kind) as f:
            next(f, None)
            for line in f:
                parts = line.split()
                if len(parts) > 1 and parts[0].lstrip("-").isdigit() and parts[1].isdigit():
                    out[parts[1]] = int(parts[0])
    except OSError:
        pass
    return out


def snapshot():
    """The IPC objects that exist now, one text per object ('/dev/shm/NAME', 'SysV
    semaphore id N key 0x...'); the tracer's own files are not listed."""
    entries = set()
    for d in ("/dev/shm", "/dev/mqueue"):
        try:
            names = os.listdir(d)
        except OSError:
            continue
        entries.update("%s/%s" % (d, n) for n in names)
    for kind, what in SYSV:
        for i, key in sysv_ids(kind).items():
            entries.add("SysV %s id %s key 0x%08x" % (what, i, key & 0xffffffff))
    return {e for e in entries if not tracer_owned(e)}


def comm_of(pid):
    try:
        with open("/proc/%s/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def daemons():
    """The LTTng daemons running now ('LTTng daemon lttng-sessiond pid N'): a traced run
    starts its own and must stop them (scripts/ipclab-trace), so one still there after it
    was left behind."""
    out = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            comm = comm_of(pid)
            if comm in DAEMONS:
                out.add("LTTng daemon %s pid %s" % (comm, pid))
    return out


def new_since(before, after):
    """What appeared between two snapshots, sorted."""
    return sorted(after - before)


def still_there(entry):
    """True if a recorded leftover ('/dev/shm/NAME', 'SysV ... id N ...', 'LTTng daemon D pid
    N') still exists; anything else is assumed to."""
    if entry.startswith("/dev/"):
        return os.path.lexists(entry)
    m = DAEMON_RE.match(entry)
    if m:
        return comm_of(m.group(2)) == m.group(1)
    m = SYSV_RE.match(entry)
    if m:
        kind = next(k for k, what in SYSV if what == m.group(1))
        return m.group(2) in sysv_ids(kind)
    return True
