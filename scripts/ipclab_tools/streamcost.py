"""bench/stream-cost - what streaming a trace to a relay daemon costs (issue 13): the same
experiment (ipc latency, pipe, thread mode, both peers on one CPU) launched untraced, traced
to the local disk (scripts/ipclab-trace --out) and traced to an lttng-relayd on the
loopback (scripts/ipclab-trace --relayd), the three in rotating order, --launches times
each, so drift hits all three alike. Per mode: the round-trip mean and p50 (median over
launches), the events recorded (the local trace's count; the relay's copy counted the same
way, ipclab-trace-count), events per second of the run, discarded events and lost packets
(LTTng's own counts), and the per-message cost: (traced - untraced median round-trip mean)
/ 2 messages per round trip, and per event. The relay daemon is started on three free
ports of 127.0.0.1 with its own output folder and stopped by its PID; its copies are
removed. The report's tracing-cost section shows the JSON this writes."""

import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from . import paths
from .cli import ArgumentParser, Failure, NoResource, int_type, run as run_main
from .fmt import fmt_g, num
from .results import try_json, write_json_atomic
from .stats import median

PROG = "bench/stream-cost"
SCHEMA = "ipclab-stream-cost/1"
MODES = ("untraced", "local", "relay")
RUN_TIMEOUT = 600
LISTEN_TIMEOUT = 30


def free_ports(n):
    """n TCP ports of 127.0.0.1 free right now (the relay daemon may still lose one to
    another program: start_relay retries)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_relay(out):
    """(Popen, control URL, ports) of an lttng-relayd on three free loopback ports,
    writing under out; NoResource if it never listens."""
    last = ""
    for _ in range(5):
        ports = free_ports(3)
        log = open(os.path.join(out, "relayd.log"), "wb")
        p = subprocess.Popen(["lttng-relayd", "-C", "tcp://127.0.0.1:%d" % ports[0], "-D",
                              "tcp://127.0.0.1:%d" % ports[1], "-L", "tcp://127.0.0.1:%d" % ports[2],
                              "-o", os.path.join(out, "relay")], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             env=dict(os.environ, LD_PRELOAD=""))
        log.close()
        deadline = time.monotonic() + LISTEN_TIMEOUT
        while p.poll() is None and time.monotonic() < deadline:
            if all(listening(q) for q in ports):
                return p, "net://127.0.0.1:%d:%d" % (ports[0], ports[1]), ports
            time.sleep(0.05)  # polling a condition (the daemon listening), not a delay
        stop(p)
        with open(os.path.join(out, "relayd.log"), errors="replace") as f:
            last = " ".join(f.read().split())[-200:]
    raise NoResource("lttng-relayd did not listen on 127.0.0.1: %s" % (last or "no reason given"))


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def launch(mode, ipclab, exp, work, tag, relay_url):
    """One launch of exp in mode; its row."""
    res = os.path.join(work, "%s.json" % tag)
    cmd = [ipclab] + exp + ["--json=" + res, "--quiet"]
    tdir = os.path.join(work, "traces", tag)
    if mode == "local":
        cmd = [os.path.join(paths.SCRIPTS, "ipclab-trace"), "--out", tdir, "--name", tag, "--quiet", "--"] + cmd
    elif mode == "relay":
        os.makedirs(tdir)
        cmd = [os.path.join(paths.SCRIPTS, "ipclab-trace"), "--relayd", relay_url, "--name", tag, "--quiet",
               "--"] + cmd
    try:
        # IPCLAB_RELAYD (RELAYD=URL make bench) would make every traced launch stream there too
        env = {k: v for k, v in os.environ.items() if k != "IPCLAB_RELAYD"}
        p = subprocess.run(cmd, cwd=tdir if mode == "relay" else work, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=RUN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise Failure("%s launch %s timed out after %d s" % (mode, tag, RUN_TIMEOUT)) from None
    if p.returncode != 0:
        raise Failure("%s launch %s: exit %d: %s" % (mode, tag, p.returncode,
                                                      " ".join(p.stderr.decode(errors="replace").split())[-300:]))
    doc, err = try_json(res)
    if not isinstance(doc, dict):
        raise Failure("%s launch %s wrote no result: %s" % (mode, tag, err))
    r = doc.get("results") or {}
    rtt = r.get("rtt") or {}
    row = {"mode": mode, "rtt_mean_ns": rtt.get("mean"), "rtt_p50_ns": rtt.get("p50"),
           "round_trips": (doc.get("params") or {}).get("iterations"), "seconds": run_seconds(doc),
           "events": None, "discarded_events": None, "lost_packets": None}
    if mode == "untraced":
        return row
    meta = trace_json(tdir)
    if mode == "local":
        ev = meta.get("events") or {}
        row.update(events=ev.get("total"), discarded_events=ev.get("discarded_events"), lost_packets=0)
    else:
        rl = meta.get("relayd") or {}
        row.update(discarded_events=rl.get("discarded_events"), lost_packets=rl.get("lost_packets"),
                   events=relay_events(os.path.join(work, "relay"), rl.get("session")))
    return row


def trace_json(folder):
    """ipclab-trace.json of a launch: folder's own, or (relay only) the one ipclab-trace
    wrote under folder/traces/."""
    for root, _dirs, files in os.walk(folder):
        if "ipclab-trace.json" in files:
            doc, _e = try_json(os.path.join(root, "ipclab-trace.json"))
            return doc if isinstance(doc, dict) else {}
    return {}


def relay_events(relay_out, session):
    """The events of session's copy under the relay daemon's output (None if none)."""
    if not session:
        return None
    for host in os.listdir(relay_out) if os.path.isdir(relay_out) else []:
        for d in os.listdir(os.path.join(relay_out, host)):
            if d.startswith(session):
                p = subprocess.run([os.path.join(paths.SCRIPTS, "ipclab-trace-count"),
                                    os.path.join(relay_out, host, d), "--json"], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
                try:
                    return json.loads(p.stdout).get("total") if p.returncode == 0 else None
                except ValueError:
                    return None
    return None


def run_seconds(doc):
    """The run's wall time from its envelope's start and end (None if unreadable)."""
    try:
        t = [datetime.datetime.strptime(doc[k], "%Y-%m-%dT%H:%M:%S.%fZ") for k in ("start_time", "end_time")]
    except (KeyError, TypeError, ValueError):
        return None
    return (t[1] - t[0]).total_seconds()


def summarize(rows, warmup):
    """Per mode: medians over its launches, sums of losses, and the cost against untraced."""
    out = {}
    for m in MODES:
        rs = [r for r in rows if r["mode"] == m]
        vals = lambda k: [r[k] for r in rs if num(r[k])]  # noqa: E731
        ev_rate = [r["events"] / r["seconds"] for r in rs if num(r["events"]) and num(r["seconds"]) and r["seconds"]]
        ev_rtt = [r["events"] / (r["round_trips"] + warmup) for r in rs if num(r["events"]) and num(r["round_trips"])]
        out[m] = {"launches": len(rs), "rtt_mean_ns": median(vals("rtt_mean_ns")),
                  "rtt_p50_ns": median(vals("rtt_p50_ns")), "events": median(vals("events")),
                  "events_per_s": median(ev_rate), "events_per_rtt": median(ev_rtt),
                  "discarded_events": sum(vals("discarded_events")) if m != "untraced" else None,
                  "lost_packets": sum(vals("lost_packets")) if m != "untraced" else None,
                  "rtt_mean_range_ns": [min(vals("rtt_mean_ns")), max(vals("rtt_mean_ns"))] if vals("rtt_mean_ns")
                  else None}
    base, base50 = out["untraced"]["rtt_mean_ns"], out["untraced"]["rtt_p50_ns"]
    for m in ("local", "relay"):
        s = out[m]
        d = s["rtt_mean_ns"] - base if num(s["rtt_mean_ns"]) and num(base) else None
        s["delta_rtt_ns"] = d
        s["delta_rtt_p50_ns"] = s["rtt_p50_ns"] - base50 if num(s["rtt_p50_ns"]) and num(base50) else None
        s["cost_per_message_ns"] = d / 2 if num(d) else None
        s["cost_per_event_ns"] = (d / s["events_per_rtt"] if num(d) and num(s["events_per_rtt"]) and s["events_per_rtt"]
                                  else None)
    lo, re_ = out["local"]["rtt_mean_ns"], out["relay"]["rtt_mean_ns"]
    out["relay"]["over_local"] = re_ / lo if num(lo) and num(re_) and lo else None
    return out


def parser():
    p = ArgumentParser(prog=PROG, usage="bench/stream-cost [--launches N] [--iterations N] [--json FILE]",
                       description=__doc__.split("\n", 1)[1],
                       epilog="Environment: BUILD (as for make).\nExit: 0 measured; 1 a launch failed; 2 usage; "
                       "3 ipclab, LTTng or lttng-relayd missing, or the relay did not listen.")
    p.add_argument("--launches", type=int_type("--launches", 1, 1000), default=5,
                   help="launches per mode (default 5)")
    p.add_argument("--iterations", type=int_type("--iterations", 100, 100000000), default=50000,
                   help="round trips per launch (default 50000)")
    p.add_argument("--json", metavar="FILE", help="write the result to FILE ('-': standard output)")
    return p


def main(argv):
    args = parser().parse_args(argv)
    ipclab = os.path.join(paths.build_dir(), "bin", "ipclab")
    if not os.access(ipclab, os.X_OK):
        raise NoResource("%s not found: build it first (make)" % ipclab)
    for tool in ("lttng", "lttng-relayd", "lttng-sessiond"):
        if not shutil.which(tool):
            raise NoResource("%s not found (install lttng-tools: scripts/deps)" % tool)
    warmup = 1000
    exp = ["ipc", "latency", "--transport", "pipe", "--mode", "thread", "--cpu", "0", "--iterations",
           str(args.iterations), "--warmup", str(warmup)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="ipclab-stream-cost.") as work:
        relay, url, ports = start_relay(work)
        try:
            for i in range(args.launches):
                for k in range(len(MODES)):
                    m = MODES[(i + k) % len(MODES)]  # rotating order: no mode always first
                    rows.append(launch(m, ipclab, exp, work, "%s%d" % (m, i), url))
                sys.stderr.write("%s: %d/%d launches of each mode\n" % (PROG, i + 1, args.launches))
        finally:
            stop(relay)
    doc = {"schema": SCHEMA, "experiment": "ipclab " + " ".join(exp), "relay": {"ports": ports},
           "launches": args.launches, "rows": rows, "summary": summarize(rows, warmup)}
    if args.json == "-":
        sys.stdout.write(json.dumps(doc, indent=1) + "\n")
        return 0
    if args.json:
        write_json_atomic(args.json, doc, indent=1)
    for m in MODES:
        s = doc["summary"][m]
        print("%-8s round trip mean %s ns, p50 %s ns; events %s (%s/s), discarded %s, lost packets %s; "
              "per message %s ns" % (m, fmt_g(s["rtt_mean_ns"]), fmt_g(s["rtt_p50_ns"]), fmt_g(s["events"]),
                                     fmt_g(s["events_per_s"]), fmt_g(s.get("discarded_events")),
                                     fmt_g(s.get("lost_packets")), fmt_g(s.get("cost_per_message_ns"))))
    return 0


def entry():
    run_main(main, PROG)
