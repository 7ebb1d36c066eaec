"""expectations.py - timing expectations that used to be assertions of make check (where a
verdict would depend on the machine) and are now shown, judged, never failed on: fork's
creation-to-reaped time grows with the creator's memory and pthread's does not; a context
switch's measurement overhead stays below the round trip it is taken from; the spinning
shm transport yields on one CPU (round trip far below a scheduler tick); an event already
set returns at once."""

from ..fmt import fmt_us, fmt_x, num
from .page import esc

FORK_GROWTH = 4.0          # fork to_reaped p50 at 256 MiB / at 1-16 MiB: more than this
PTHREAD_GROWTH = 1.5       # pthread's: less than this (it copies no page tables)
SPIN_SAME_CPU_NS = 1e6     # shm-spin on one CPU, round trip p50: below 1 ms (it yields)
IMMEDIATE_WAIT_NS = 5e8    # waiting on an event already set: below 0.5 s (returns at once)


def p50_of(point, method):
    for v in point.get("variants") or []:
        if v.get("method") == method:
            return (v.get("to_reaped") or {}).get("p50")
    return None


def fork_rows(ctx):
    """fork vs pthread creation-to-reaped p50, largest memory point vs the smallest ones."""
    out = []
    for rid, doc in ctx.res.find("task spawn", sweep=True):
        pts = {p.get("touch_mb"): p for p in (doc.get("results") or {}).get("points") or []}
        small = [m for m in pts if num(m) and m <= 16]
        big = 256 if 256 in pts else max((m for m in pts if num(m)), default=None)
        if not small or big is None or big in small:
            continue
        base = min(small)
        for method, limit, cmp in (("fork", FORK_GROWTH, ">"), ("pthread", PTHREAD_GROWTH, "<")):
            a, b = p50_of(pts[base], method), p50_of(pts[big], method)
            if not (num(a) and num(b) and a > 0):
                continue
            r = b / a
            out.append((rid, "%s creation to reaped, p50 at %s MiB / at %s MiB" % (method, big, base),
                        fmt_x(r), "%s %s" % (cmp, fmt_x(limit, 1)), r > limit if cmp == ">" else r < limit))
    return out


def ctxsw_rows(ctx):
    out = []
    for rid, doc in ctx.res.find("task ctxsw"):
        for p in (doc.get("results") or {}).get("points") or []:
            o, rt = (p.get("overhead") or {}).get("p50"), (p.get("round_trip") or {}).get("p50")
            if num(o) and num(rt):
                out.append((rid, "measurement overhead p50 vs round trip p50, working set %s KiB"
                            % p.get("working_set_kb"), "%s / %s µs" % (fmt_us(o), fmt_us(rt)), "overhead < round trip",
                            o < rt))
    return out


def spin_rows(ctx):
    out = []
    for rid, doc in ctx.res.find("ipc latency", transport="shm-spin", placement="same-cpu"):
        v = ((doc.get("results") or {}).get("rtt") or {}).get("p50")
        if num(v):
            out.append((rid, "shm-spin round trip p50 on one CPU (%s mode): the spinner yields"
                        % (doc.get("params") or {}).get("mode"), "%s µs" % fmt_us(v), "< 1 ms", v < SPIN_SAME_CPU_NS))
    return out


def event_rows(ctx):
    out = []
    for rid, doc in ctx.res.find("sync event"):
        v = (doc.get("results") or {}).get("immediate_wait_ns")
        if num(v):
            out.append((rid, "wait on an event already set (%s, %s)" % (((doc.get("results") or {}).get("impl") or {})
                                                                       .get("name"), (doc.get("params") or {}).get("mode")),
                        "%s µs" % fmt_us(v), "< 0.5 s", v < IMMEDIATE_WAIT_NS))
    return out


def section(ctx, pg):
    rows = fork_rows(ctx) + ctxsw_rows(ctx) + spin_rows(ctx) + event_rows(ctx)
    if not rows:
        return False
    pg.p("Expectations about time used to be assertions of <code>make check</code>, where the verdict would "
         "depend on the machine; they are judged here instead, from this folder's runs, and a miss is a warning, "
         "not a failure.", "note")
    body, cls = [], []
    for rid, what, measured, want, ok in rows:
        body.append([esc(rid), esc(what), (esc(measured), "n"), esc(want),
                     '<span class="ok">met</span>' if ok else '<span class="flag">not met</span>'])
        cls.append(None if ok else "warn")
        if not ok:
            ctx.warn("expectations", "%s: %s: %s, expected %s" % (esc(rid), esc(what), esc(measured), esc(want)))
    pg.table(["run", "expectation", "measured", "expected", ""], body, cls)
    return True
