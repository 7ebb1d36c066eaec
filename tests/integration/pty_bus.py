#!/usr/bin/python3
"""pty_bus.py - drive `ipclab signal bus` (interactive mode) from a real pseudo-terminal.

The bus runs as a new session whose controlling terminal is the pty slave (os.login_tty:
setsid + TIOCSCTTY), with ISIG on and the default keys (^C intr, ^\\ quit, ^Z susp). The
test types each key on the master only after the previous key's line appeared there
(reads with a deadline; no fixed sleeps), then checks the exact lines in order, that the
driver reported the conductor's exit before its own, the exit status, and that no
process of the bus's session is left.

usage: pty_bus.py IPCLAB --lang zh|en [--keys KEYS] [--json FILE] [--expect-watchdog]
  --keys KEYS        keys to type: a string over I (^C), Q (^\\), Z (^Z); default IQIZ
  --json FILE        also pass --json=FILE and check the recorded keys and exit order
  --expect-watchdog  type nothing; expect the --timeout 1 watchdog: exit 1, nothing left
Prints one diagnostic line per problem on stdout; exit 0 when everything held, 1 if not.
PTY_BUS_DEADLINE (seconds, default 20) bounds the wait for any one expected output.
"""
import argparse
import errno
import json
import os
import select
import signal
import sys
import termios
import time

LINES = {
    "zh": ["老司机开车了", "车速有点快，系好安全带", "到站了请下车"],
    "en": ["The old driver is starting the bus",
           "We're going a bit fast, fasten your seat belts",
           "We've arrived at the station, please get off"],
}
KEYS = {"I": (b"\x03", 0, "INT"), "Q": (b"\x1c", 1, "QUIT"), "Z": (b"\x1a", 2, "TSTP")}
ECHOES = ("^C", "^\\", "^Z")
DEADLINE = float(os.environ.get("PTY_BUS_DEADLINE", "20"))  # seconds for any one expected output


class Pty:
    """The master side: accumulates everything the bus writes (stdout and stderr)."""

    def __init__(self, fd):
        self.fd = fd
        self.raw = b""
        self.eof = False

    def pump(self, timeout):
        """Reads what is available within timeout; False on EOF (all slave fds closed)."""
        if self.eof:
            return False
        r, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not r:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError as e:
            if e.errno == errno.EIO:  # Linux: the slave side is closed
                self.eof = True
                return False
            raise
        if not data:
            self.eof = True
            return False
        self.raw += data
        return True

    def text(self):
        """The output as lines: CR removed, key echoes (^C ^\\ ^Z) removed."""
        t = self.raw.decode("utf-8", "replace").replace("\r", "")
        for e in ECHOES:
            t = t.replace(e, "")
        return t

    def complete_lines(self):
        t = self.text()
        return t.split("\n")[:-1]

    def wait_for(self, pred, what):
        """Pumps until pred(self) holds; raises TimeoutError naming what after DEADLINE."""
        end = time.monotonic() + DEADLINE
        while not pred(self):
            left = end - time.monotonic()
            if left <= 0 or not self.pump(left):
                if pred(self):
                    return
                raise TimeoutError("%s: not seen within %.0f s%s; output so far: %r" % (
                    what, DEADLINE, " (EOF)" if self.eof else "", self.text()[-600:]))

    def drain(self):
        """Reads until EOF, bounded by DEADLINE."""
        end = time.monotonic() + DEADLINE
        while not self.eof and time.monotonic() < end:
            self.pump(end - time.monotonic())
        return self.eof


def session_procs(sid):
    """PIDs (and states) of processes whose session id is sid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        # state ppid pgrp session ...
        if int(fields[3]) == sid:
            out.append("%s(%s)" % (d, fields[0]))
    return out


def bus_lines(p, lang):
    return [l for l in p.complete_lines() if l in LINES[lang]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ipclab")
    ap.add_argument("--lang", choices=("zh", "en"), default="zh")
    ap.add_argument("--keys", default="IQIZ")
    ap.add_argument("--json")
    ap.add_argument("--expect-watchdog", action="store_true")
    a = ap.parse_args()
    if not a.expect_watchdog and (not a.keys or a.keys[-1] != "Z" or any(k not in KEYS for k in a.keys)):
        print("bad --keys %r" % a.keys)
        return 2
    problems = []

    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[3] |= termios.ISIG | termios.ICANON | termios.ECHO
    attrs[6][termios.VINTR] = b"\x03"
    attrs[6][termios.VQUIT] = b"\x1c"
    attrs[6][termios.VSUSP] = b"\x1a"
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    argv = [a.ipclab, "signal", "bus", "--lang", a.lang,
            "--timeout", "1" if a.expect_watchdog else "30"]
    if a.json:
        argv.append("--json=" + a.json)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(master)
            os.login_tty(slave)  # setsid, TIOCSCTTY, slave on 0/1/2
            os.execv(a.ipclab, argv)
        finally:
            os._exit(127)
    os.close(slave)
    p = Pty(master)
    status = None
    # A hard bound on the whole run: the bus is killed (its session) if we overrun.
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("pty_bus.py overall deadline")))
    signal.alarm(90)
    try:
        p.wait_for(lambda q: "bus ready" in q.text(), "the 'bus ready' banner")
        if a.expect_watchdog:
            p.drain()
            _, status = os.waitpid(pid, 0)
            if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1):
                problems.append("watchdog: wait status %#x, want exit 1" % status)
            if "watchdog" not in p.text():
                problems.append("watchdog: no watchdog message in %r" % p.text()[-300:])
        else:
            want = []
            for i, k in enumerate(a.keys):
                seq, idx, name = KEYS[k]
                want.append(LINES[a.lang][idx])
                os.write(master, seq)
                p.wait_for(lambda q, n=len(want): len(bus_lines(q, a.lang)) >= n,
                           "line %d after key %d (%s)" % (len(want), i + 1, name))
            got = bus_lines(p, a.lang)
            if got != want:
                problems.append("lines %r, want %r" % (got, want))
            reap = "the conductor (pid "
            p.wait_for(lambda q: any(reap in l for l in q.complete_lines()), "the driver's reap report")
            if not p.drain():
                problems.append("the terminal was not closed within %.0f s of the reap report" % DEADLINE)
            _, status = os.waitpid(pid, 0)
            if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                problems.append("driver wait status %#x, want exit 0; output %r" % (status, p.text()[-600:]))
            lines = p.complete_lines()
            iarrive = max(i for i, l in enumerate(lines) if l == LINES[a.lang][2])
            ireap = [i for i, l in enumerate(lines) if reap in l]
            if not ireap or ireap[0] < iarrive:
                problems.append("the reap report does not follow the conductor's last line: %r" % lines)
            elif "exited with status 0" not in lines[ireap[0]]:
                problems.append("the conductor did not exit with status 0: %r" % lines[ireap[0]])
            if a.json:
                with open(a.json) as f:
                    d = json.load(f)
                r = d["results"]
                keys = r["keys"]
                names = [KEYS[k][2] for k in a.keys]
                if [k["key"] for k in keys] != names:
                    problems.append("JSON keys %r, want %r" % ([k["key"] for k in keys], names))
                if [k["line"] for k in keys] != want:
                    problems.append("JSON lines %r, want %r" % ([k["line"] for k in keys], want))
                if any(k["latency_from"] != "key_received" or not k["latency_ns"] or k["latency_ns"] <= 0
                       for k in keys):
                    problems.append("JSON latencies: %r" % [(k["latency_from"], k["latency_ns"]) for k in keys])
                if not r["conductor_exited_first"]:
                    problems.append("JSON: conductor_exited_first is false")
                eo = r["exit_order"]
                if [e["role"] for e in eo] != ["conductor", "driver"] or not eo[0]["t_exit_ns"] < eo[1]["t_exit_ns"]:
                    problems.append("JSON exit_order %r" % eo)
                ce = r["conductor_end"]
                if ce["exit_status"] != 0 or not ce["reaped"] or ce["t_reaped_ns"] > r["driver_end"]["t_exit_ns"]:
                    problems.append("JSON conductor_end %r" % ce)
                if r["driver_pid"] != pid or d["exit_code"] != 0 or r["process_group"] != pid:
                    problems.append("JSON driver_pid %r process_group %r (want %d), exit_code %r" % (
                        r["driver_pid"], r["process_group"], pid, d["exit_code"]))
    except TimeoutError as e:
        problems.append(str(e))
    finally:
        signal.alarm(0)
        if status is None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            os.waitpid(pid, 0)
        os.close(master)
    # The driver is reaped; nothing of its session may remain (the conductor included).
    left = session_procs(pid)
    if left:
        problems.append("left in the bus's session %d: %s" % (pid, ", ".join(left)))
    for pr in problems:
        print(pr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
