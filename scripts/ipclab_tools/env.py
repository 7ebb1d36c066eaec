"""collect-env - write OUTDIR/env.json: the environment a results directory was measured in.

env.json holds: "sysinfo" (from `BUILD/bin/ipclab core sysinfo --json`, BUILD being the
environment's BUILD as for make, default build), "build" (that directory), "tools"
(lttng, babeltrace2, gnuplot, gcc, perf versions: null when absent), "packages"
(Debian versions of the related packages), "limits" (the kernel limits the IPC
experiments meet: message queue sizes, SysV message size, RLIMIT_SIGPENDING...),
"git" (`git describe --always --dirty`),
"date" (UTC, when collected), "cpus_online", "kernel_cmdline", "matrix" (name and
start/end from OUTDIR/matrix.json, if bench/run wrote one), and last "commands":
every command line bench/run executed, from OUTDIR/commands.txt
(ID<TAB>VARIANT<TAB>shell-quoted command).

Exit: 0 written; 2 usage or OUTDIR missing; 1 env.json could not be written.
"""

import datetime
import json
import os
import resource
import subprocess
import sys

from .paths import REPO, build_dir
from .cli import ArgumentParser, Failure, UsageError, run as run_main
from .results import write_json_atomic

PROG = "collect-env"


def run(argv, cwd=None):
    """stdout of argv (stripped), or None if it cannot run or fails."""
    try:
        p = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if p.returncode != 0:
        return None
    return p.stdout.strip()


def first_line(argv):
    out = run(argv)
    return out.splitlines()[0].strip() if out else None


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def sysinfo():
    ipclab = os.path.join(build_dir(), "bin", "ipclab")
    out = run([ipclab, "core", "sysinfo", "--json"])
    if out is None:
        return {"error": "could not run %s core sysinfo --json (not built?)" % ipclab}
    try:
        return json.loads(out).get("sysinfo", {})
    except ValueError as e:
        return {"error": "ipclab core sysinfo --json printed invalid JSON: %s" % e}


def packages():
    names = ["lttng-tools", "liblttng-ust-dev", "liblttng-ust1", "babeltrace2", "linux-perf",
             "gnuplot-nox", "gnuplot-qt", "gnuplot-x11", "gcc", "libjansson-dev", "rt-tests"]
    out = run(["dpkg-query", "-W", "-f=${Package}\t${Version}\t${db:Status-Abbrev}\n"] + names)
    pk = {}
    # dpkg-query exits 1 when one name is unknown; ask one at a time then
    if out is None:
        for n in names:
            o = run(["dpkg-query", "-W", "-f=${Package}\t${Version}\t${db:Status-Abbrev}\n", n])
            if o:
                out = (out + "\n" if out else "") + o
    for line in (out or "").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[2].startswith("ii"):
            pk[parts[0]] = parts[1]
    return pk


def limits():
    """The kernel limits that decide which sizes and counts the experiments can use."""
    out = {}
    for name, path in (("fs.mqueue.msgsize_max", "/proc/sys/fs/mqueue/msgsize_max"),
                       ("fs.mqueue.msg_max", "/proc/sys/fs/mqueue/msg_max"),
                       ("kernel.msgmax", "/proc/sys/kernel/msgmax"),
                       ("kernel.msgmnb", "/proc/sys/kernel/msgmnb"),
                       ("kernel.sem", "/proc/sys/kernel/sem"),
                       ("kernel.pid_max", "/proc/sys/kernel/pid_max"),
                       ("kernel.sched_rt_runtime_us", "/proc/sys/kernel/sched_rt_runtime_us")):
        v = read(path)
        if v is not None:
            out[name] = " ".join(v.split())
    for name in ("RLIMIT_SIGPENDING", "RLIMIT_NPROC"):
        soft, hard = resource.getrlimit(getattr(resource, name))
        out[name] = "%s / %s" % (soft, hard)
    return out


def commands(outdir):
    path = os.path.join(outdir, "commands.txt")
    cmds = []
    try:
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                parts = line.split("\t", 2)
                if len(parts) == 3:
                    cmds.append({"id": parts[0], "variant": parts[1], "command": parts[2]})
                else:
                    cmds.append({"id": None, "variant": None, "command": line})
    except OSError:
        pass
    return cmds


def matrix(outdir):
    try:
        with open(os.path.join(outdir, "matrix.json")) as f:
            m = json.load(f)
    except (OSError, ValueError):
        return None
    return {k: m.get(k) for k in ("matrix", "matrix_name", "tracing", "only", "started",
                                  "finished", "total_runs", "runs_done", "interrupted",
                                  "counts", "exit_code")}


def collect(outdir):
    """The env.json document of outdir."""
    tools = {
        "lttng": first_line(["lttng", "--version"]),
        "babeltrace2": first_line(["babeltrace2", "--version"]),
        "gnuplot": first_line(["gnuplot", "--version"]),
        "gcc": first_line(["gcc", "--version"]),
        "perf": first_line(["perf", "--version"]),
        "python3": sys.version.split()[0],
    }
    return {
        "schema": "ipclab-env/1",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sysinfo": sysinfo(),
        "cpus_online": read("/sys/devices/system/cpu/online"),
        "kernel_cmdline": read("/proc/cmdline"),
        "tools": tools,
        "packages": packages(),
        "limits": limits(),
        "build": build_dir(),
        "git": run(["git", "describe", "--always", "--dirty"], cwd=REPO),
        "git_branch": run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=REPO),
        "matrix": matrix(outdir),
        "commands": commands(outdir),  # last, as promised
    }


def write(outdir):
    """Writes outdir/env.json; Failure (exit 1) if it cannot."""
    path = os.path.join(outdir, "env.json")
    try:
        write_json_atomic(path, collect(outdir))
    except OSError as e:
        raise Failure("cannot write %s: %s" % (path, e.strerror or e)) from None


def main(argv):
    doc = __doc__.split("\n", 2)[2]
    p = ArgumentParser(prog=PROG, usage="scripts/collect-env OUTDIR", description=doc.split("\nExit:")[0],
                       epilog="Exit:" + doc.split("\nExit:")[1])
    p.add_argument("outdir", metavar="OUTDIR")
    args = p.parse_args(argv)
    if not os.path.isdir(args.outdir):
        raise UsageError("%s is not a directory" % args.outdir)
    write(args.outdir)
    return 0


def entry():
    run_main(main, PROG)
