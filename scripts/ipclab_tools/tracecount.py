#!/usr/bin/python3
"""ipclab-trace-count - count the events of a CTF trace by name and by vpid.

Reads every message of the trace(s) under TRACE_DIR with babeltrace2's Python
bindings and reports totals, per-name and per-vpid counts, and the events and
packets the tracer reported as discarded (a trace with discards is incomplete:
exact-count tests must not trust it).

The counting runs in a forked child: babeltrace2 2.0 aborts the whole process
(a library precondition failure, SIGABRT) on some corrupt metadata instead of
raising, and we still owe the caller one line and exit 1.
"""

import json
import os
import resource
import sys
import tempfile
import traceback

from . import ctf
from .cli import ArgumentParser, Failure, NoResource, one_line, run

PROG = "ipclab-trace-count"

DESCRIPTION = """\
Count the events of the CTF trace(s) under TRACE_DIR (searched recursively,
e.g. an LTTng session output directory).

--json prints one JSON object instead of the human summary:
  {"total": N, "by_name": {NAME: n}, "by_vpid": {"PID": n},
   "by_name_vpid": {NAME: {"PID": n}},
   "discarded_events": D, "discarded_packets": P,
   "complete": D == 0 and P == 0}

Events without a "vpid" common context field count in total and by_name only.
A discarded-events/packets record whose count is unknown counts as 1 and makes
the trace incomplete."""

EPILOG = """\
Exit status: 0 ok; 1 corrupt trace; 2 usage error, missing directory or no CTF
trace; 3 babeltrace2 Python bindings (python3-bt2) unavailable."""


def bt2_reason(exc):
    """One line from a bt2 error: the root cause, plus the first cause naming a file."""
    causes = []
    try:
        causes = [one_line(c.message) for c in exc]
    except TypeError:
        pass
    if not causes:
        return one_line(exc)
    reason = causes[0]
    for msg in causes[1:]:
        if "/" in msg or "`" in msg:
            reason += " (" + msg + ")"
            break
    return reason


def count(trace_dir):
    """Iterate all messages of the trace(s) under trace_dir; return the result dict."""
    try:
        import bt2  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise NoResource("babeltrace2 Python bindings unavailable (%s); install python3-bt2"
                         % one_line(exc)) from None

    discarded_events = 0
    discarded_packets = 0
    unknown_discards = False
    pairs = {}  # (event name, vpid or None) -> count

    event_msg = bt2._EventMessageConst  # pylint: disable=protected-access
    devents_msg = bt2._DiscardedEventsMessageConst  # pylint: disable=protected-access
    dpackets_msg = bt2._DiscardedPacketsMessageConst  # pylint: disable=protected-access
    event_key = make_event_key(bt2)

    try:
        msg_it = bt2.TraceCollectionMessageIterator(os.path.realpath(trace_dir))
    except RuntimeError as exc:
        if "did not produce any component" in str(exc):
            raise Failure("%s: not a CTF trace" % trace_dir, 2) from None
        raise Failure("%s: corrupt trace: %s" % (trace_dir, one_line(exc)), 1) from None
    except bt2._Error as exc:  # pylint: disable=protected-access
        raise Failure("%s: corrupt trace: %s" % (trace_dir, bt2_reason(exc)), 1) from None

    try:
        for msg in msg_it:
            kind = type(msg)
            if kind is event_msg:
                key = event_key(msg)
                pairs[key] = pairs.get(key, 0) + 1
            elif kind is devents_msg:
                if msg.count is None:
                    discarded_events += 1
                    unknown_discards = True
                else:
                    discarded_events += msg.count
            elif kind is dpackets_msg:
                if msg.count is None:
                    discarded_packets += 1
                    unknown_discards = True
                else:
                    discarded_packets += msg.count
    except bt2._Error as exc:  # pylint: disable=protected-access
        raise Failure("%s: corrupt trace: %s" % (trace_dir, bt2_reason(exc)), 1) from None

    by_name = {}
    by_vpid = {}
    by_name_vpid = {}
    for (name, vpid), n in sorted(pairs.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        by_name[name] = by_name.get(name, 0) + n
        if vpid is not None:
            vkey = str(vpid)
            by_vpid[vkey] = by_vpid.get(vkey, 0) + n
            per = by_name_vpid.setdefault(name, {})
            per[vkey] = per.get(vkey, 0) + n
    return {
        "total": sum(pairs.values()),
        "by_name": by_name,
        "by_vpid": dict(sorted(by_vpid.items(), key=lambda kv: int(kv[0]))),
        "by_name_vpid": by_name_vpid,
        "discarded_events": discarded_events,
        "discarded_packets": discarded_packets,
        "complete": discarded_events == 0 and discarded_packets == 0 and not unknown_discards,
    }


def make_event_key(bt2):
    """Return f(event message) -> (event name, vpid or None).

    The public bt2 API builds Python wrappers for the event, its class and its
    context on every access, which makes counting ~2.5x slower than needed. When
    bt2's SWIG layer (native_bt) is there, borrow the C objects directly and look
    the class up once; otherwise (or with IPCLAB_TRACE_COUNT_SLOW=1) use the public API.
    """

    def public_key(msg):
        event = msg.event
        ctx = event.common_context_field
        if ctx is not None and "vpid" in ctx:
            return (event.name, int(ctx["vpid"]))
        return (event.name, None)

    try:
        from bt2 import native_bt as nbt  # pylint: disable=import-outside-toplevel
        borrow_event = nbt.message_event_borrow_event_const
        borrow_class = nbt.event_borrow_class_const
        borrow_ctx = nbt.event_borrow_common_context_field_const
        member = nbt.field_structure_borrow_member_field_by_name_const
        signed_getter = nbt.field_integer_signed_get_value
        unsigned_getter = nbt.field_integer_unsigned_get_value
        signed_type = bt2._SignedIntegerFieldConst  # pylint: disable=protected-access
        unsigned_type = bt2._UnsignedIntegerFieldConst  # pylint: disable=protected-access
    except (ImportError, AttributeError):
        return public_key
    if os.environ.get("IPCLAB_TRACE_COUNT_SLOW"):
        return public_key

    classes = {}  # event class address -> (name, vpid getter, or None without a vpid)

    def class_info(msg):
        event = msg.event
        getter = None
        ctx = event.common_context_field
        if ctx is not None and "vpid" in ctx:
            field = ctx["vpid"]
            if isinstance(field, signed_type):
                getter = signed_getter
            elif isinstance(field, unsigned_type):
                getter = unsigned_getter
        return (event.name, getter)

    def native_key(msg):
        ev_ptr = borrow_event(msg._ptr)  # pylint: disable=protected-access
        addr = int(borrow_class(ev_ptr))
        info = classes.get(addr)
        if info is None:
            info = classes[addr] = class_info(msg)
        name, getter = info
        if getter is None:
            return (name, None)
        return (name, getter(member(borrow_ctx(ev_ptr), "vpid")))

    return native_key


def count_in_child(trace_dir):
    """Run count() in a forked child so a libbabeltrace2 abort becomes a Failure, not a crash."""
    read_fd, write_fd = os.pipe()
    log = tempfile.TemporaryFile()  # libbabeltrace2's own stderr chatter, kept for the abort reason
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child: never returns
        code = 0
        real_stderr = os.dup(2)
        try:
            os.close(read_fd)
            os.dup2(log.fileno(), 2)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort must not leave a core file
            try:
                payload = {"ok": count(trace_dir)}
            except Failure as fail:
                payload = {"reason": fail.message, "code": fail.code}
            with os.fdopen(write_fd, "wb") as out:
                out.write(json.dumps(payload).encode())
        except BaseException:  # pylint: disable=broad-except
            # a bug (not a bad trace): its traceback on the real stderr, exit 1
            os.write(real_stderr, traceback.format_exc().encode(errors="replace"))
            code = 1
        os._exit(code)  # pylint: disable=protected-access

    os.close(write_fd)
    chunks = []
    with os.fdopen(read_fd, "rb") as inp:
        while True:
            chunk = inp.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    data = b"".join(chunks)
    if data:
        try:
            payload = json.loads(data)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            if "ok" in payload:
                return payload["ok"]
            raise Failure(payload["reason"], payload["code"])
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1:
        raise Failure("%s: the reader failed (its traceback is above)" % trace_dir)
    # The child died without answering: libbabeltrace2 aborted (or worse). Its
    # fatal lines only say "precondition not satisfied"; an error-level line, if
    # any, says why.
    log.seek(0)
    lines = [one_line(line) for line in log.read().decode(errors="replace").splitlines()]
    detail = next((line for line in lines if " E " in line), "")
    if os.WIFSIGNALED(status):
        what = "babeltrace2 aborted (signal %d)" % os.WTERMSIG(status)
    else:
        what = "reader exited with status %d" % os.WEXITSTATUS(status)
    if detail:
        what += ": " + detail[:300]
    else:
        what += "; run 'babeltrace2 %s' for details" % trace_dir
    raise Failure("%s: corrupt trace: %s" % (trace_dir, what), 1)


def render_human(trace_dir, res):
    """The summary a person reads: totals, per-name and per-vpid counts, discards."""
    out = ["trace: %s" % os.path.abspath(trace_dir),
           "total: %d events" % res["total"]]
    if res["by_name"]:
        width = max(len(n) for n in res["by_name"])
        out.append("by name:")
        out.extend("  %-*s %d" % (width, n, c) for n, c in res["by_name"].items())
    if res["by_vpid"]:
        out.append("by vpid:")
        out.extend("  %-8s %d" % (p, c) for p, c in res["by_vpid"].items())
    out.append("discarded: %d events, %d packets" % (res["discarded_events"],
                                                    res["discarded_packets"]))
    out.append("complete: %s" % ("yes" if res["complete"] else
                                "NO (the tracer lost data; counts are lower bounds)"))
    return "\n".join(out) + "\n"


def parser():
    p = ArgumentParser(prog=PROG, usage="%(prog)s TRACE_DIR [--json]", description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("trace_dir", metavar="TRACE_DIR")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    return p


def main(argv):
    """Entry point: returns the exit status."""
    args = parser().parse_args(argv)
    ctf.require_traces(args.trace_dir)
    res = count_in_child(args.trace_dir)
    if args.json:
        sys.stdout.write(json.dumps(res, indent=2) + "\n")
    else:
        sys.stdout.write(render_human(args.trace_dir, res))
    return 0


def entry():
    run(main, PROG)
