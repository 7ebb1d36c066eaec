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
tracing of the programs that still map it. They belong to the tracer, not to ipclab.

LTTng daemons: a traced run starts its own session and consumer daemons and must stop them
(scripts/ipclab-trace). Only our own count: bench/run makes itself the child subreaper of
its descendants (adopt_orphans), so a daemon a run left behind is reparented to it, not to
init, and daemons(root) lists only the descendants of root; the daemons of other programs
on a shared machine (another engineer's traced tests) are not ours. A daemon that ended
after its run is an adopted zombie until reap_orphans() collects it; zombies are not listed."""

import ctypes
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


PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans():
    """This process becomes the child subreaper of its descendants (see above); False if
    the kernel refused."""
    return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def stat_of(pid):
    """(state, ppid) of pid from /proc/PID/stat, or None if it is gone."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1])
    except (OSError, IndexError, ValueError):
        return None


def descends_from(pid, root):
    """True if root is pid or one of its ancestors."""
    p = int(pid)
    for _ in range(4096):  # bound: pid chains are short; a race cannot loop us
        if p == root:
            return True
        st = stat_of(p)
        if st is None or st[1] <= 1:
            return False
        p = st[1]
    return False


def daemons(root=None):
    """The live LTTng daemons ('LTTng daemon lttng-sessiond pid N'), only the descendants of
    root when given: a traced run must stop the ones it started, so one still there after
    it was left behind."""
    out = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            comm = comm_of(pid)
            st = stat_of(pid) if comm in DAEMONS else None
            if st and st[0] != "Z" and (root is None or descends_from(pid, root)):
                out.add("LTTng daemon %s pid %s" % (comm, pid))
    return out


def reap_orphans():
    """Collects every ended child of this process: with adopt_orphans() the orphans of our
    runs (an LTTng daemon, a reference tool's forked child) end as our zombies. Call it only
    when no subprocess of ours is running or unwaited (its status would be taken here)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


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
        st = stat_of(m.group(2))
        return (comm_of(m.group(2)) == m.group(1) and st is not None and st[0] != "Z"
                and descends_from(m.group(2), os.getpid()))
    m = SYSV_RE.match(entry)
    if m:
        kind = next(k for k, what in SYSV if what == m.group(1))
        return m.group(2) in sysv_ids(kind)
    return True
