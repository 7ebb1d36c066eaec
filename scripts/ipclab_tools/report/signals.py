"""signals.py - the signals section: delivery latency of the five receive methods
(process vs thread, same CPU vs cross-CPU), coalescing of standard vs queueing of
real-time signals, SIGCHLD policies, alarm/timer checks and lateness, the catalogue and
the driver/conductor bus."""

from .. import placement
from .figures import log_or_linear, write_bars, write_tsv
from .page import check_cell, esc, n, rel, rsd_cell
from ..fmt import fmt_g, fmt_us, num, us
from .ipc import pick_median

AREA = "signals"
METHODS = ["handler", "sigwaitinfo", "sigtimedwait", "signalfd", "sigsuspend"]
SERIES = [("process", "same-cpu"), ("thread", "same-cpu"), ("process", "cross-cpu"), ("thread", "cross-cpu")]


def latency_part(ctx, pg):
    pg.h(3, "Delivery latency by receive method", "sig-latency")
    groups = {}
    for rid, doc in ctx.res.find("signal latency"):
        p, r = doc.get("params") or {}, doc.get("results") or {}
        ow, rtt = r.get("oneway") or {}, r.get("rtt") or {}
        if not num(ow.get("p50")):
            continue
        key = (p.get("method"), p.get("signal") or "std", p.get("mode"), p.get("placement") or "unpinned")
        groups.setdefault(key, []).append({
            "id": rid, "method": key[0], "signal": key[1], "mode": key[2], "placement": key[3],
            "placement_text": placement.short(p), "send_call": p.get("send_call"),
            "ow_p50": ow.get("p50"), "ow_p99": ow.get("p99"), "ow_mean": ow.get("mean"), "ow_max": ow.get("max"),
            "rtt_p50": rtt.get("p50"), "rtt_p99": rtt.get("p99"), "rtt_mean": rtt.get("mean"),
            "rsd_p50": r.get("repeat_rel_stddev_p50"), "rsd_mean": r.get("repeat_rel_stddev_mean")})
    if not groups:
        pg.p("No <code>signal latency</code> runs in this directory.", "note")
        return
    lat = {}
    for key, runs in groups.items():
        row, k = pick_median(runs, lambda x: x["ow_p50"])
        row["runs"] = k
        lat[key] = row
    porder = {"same-cpu": 0, "cross-cpu": 1}
    rows = [lat[k] for k in sorted(lat, key=lambda k: (METHODS.index(k[0]) if k[0] in METHODS else 99, k[1],
                                                      porder.get(k[3], 2), k[2]))]
    write_tsv(ctx.tsv("sig_latency.tsv"),
              ["method", "signal", "mode", "placement", "id", "runs", "send_call", "ow_p50", "ow_p99", "ow_mean",
               "ow_max", "rtt_p50", "rtt_p99", "rtt_mean", "rsd_p50", "rsd_mean"], rows,
              "signal latency: one-way (ow_*) and round trip (rtt_*) in ns per method, signal kind, mode, placement")
    for sig in sorted({k[1] for k in lat}):
        series = [s for s in SERIES if any((m, sig) + s in lat for m in METHODS)]
        methods = [m for m in METHODS if any((m, sig) + s in lat for s in series)]
        groups_fig = []
        for m in methods:
            vals = []
            for s in series:
                r = lat.get((m, sig) + s)
                vals.append((us(r["ow_p50"]), us(r["ow_p99"])) if r else (None, None))
            groups_fig.append((m, vals))
        tsv = ctx.tsv("sig_latency_%s.tsv" % sig)
        names = [("%s, %s p50" % (mo, "same CPU" if pl == "same-cpu" else "cross-CPU"),
                  "whiskers: p50 to p99" if i == 0 else None) for i, (mo, pl) in enumerate(series)]
        write_bars(tsv, names, groups_fig, "figure: one-way signal delivery latency (µs), p50 and p99, %s signals" % sig)
        allv = [v for _g, vals in groups_fig for pair in vals for v in pair]
        scale = log_or_linear(allv)
        ctx.figure(pg, "bars.gp", tsv, "sig_latency_%s" % sig,
                   "Signal delivery latency (%s signals), one-way: p50 (whisker to p99)" % sig,
                   "One-way delivery latency of %s signals by receive method: process vs thread, same CPU (both on "
                   "CPU 0) vs cross-CPU (0→1)" % sig,
                   "one-way latency (µs%s)" % (", log scale" if scale.startswith("logy") else ""), scale)
    pg.p("One-way = from the sender's timestamp just before <code>kill</code>/<code>tgkill</code> (std) or "
         "<code>sigqueue</code> (rt) to the receiver's first clock read after delivery; both directions of the "
         "ping-pong pooled. <i>handler</i>: an async handler sets a flag the receiver polls with "
         "<code>sched_yield</code>; <i>sigsuspend</i>: handler plus atomic unblock; the other three take the "
         "blocked signal synchronously.", "note")
    body = []
    for r in rows:
        noisy = ctx.flag_noisy(AREA, r["id"], "one-way p50, %s, %s, %s" % (r["method"], r["mode"], r["placement_text"]),
                               r["rsd_p50"])
        body.append([esc(r["method"]), esc(r["signal"]), esc(r["mode"]), esc(r["placement_text"]),
                     (fmt_us(r["ow_p50"]), "n flag" if noisy else "n"), n(r["ow_p99"], fmt_us), n(r["ow_mean"], fmt_us),
                     n(r["rtt_p50"], fmt_us), n(r["rtt_p99"], fmt_us), rsd_cell(r["rsd_p50"]), rsd_cell(r["rsd_mean"]),
                     esc(r["id"]) + (" (median of %d)" % r["runs"] if r["runs"] > 1 else "")])
    pg.table(["method", "signal", "mode", "placement", "one-way p50", "p99", "mean", "round trip p50", "p99",
              "rel. stddev p50", "rel. stddev mean", "run"], body)


def coalesce_part(ctx, pg):
    runs = ctx.res.find("signal coalesce")
    if not ctx.part(pg, "Coalescing: standard signals merge, real-time signals queue", "sig-coalesce", runs, "No <code>signal coalesce</code> runs in this directory."):
        return
    rows, groups = [], []
    for rid, doc in runs:
        p, r = doc.get("params") or {}, doc.get("results") or {}
        std, rt = r.get("std") or {}, r.get("rt") or {}
        order = r.get("ordering") or {}
        label = "%s, %s" % (p.get("mode"), p.get("method"))
        rows.append({"id": rid, "mode": p.get("mode"), "method": p.get("method"), "count": p.get("count"),
                     "std_sent": std.get("sent"), "std_accepted": std.get("accepted"),
                     "std_delivered": std.get("delivered"), "rt_sent": rt.get("sent"),
                     "rt_accepted": rt.get("accepted"), "rt_delivered": rt.get("delivered"),
                     "rt_eagain": rt.get("eagain"), "rt_in_order": rt.get("in_order"),
                     "rt_payloads_ok": rt.get("payloads_ok"), "ordering_pass": order.get("pass"),
                     "std_first": (r.get("std_before_rt") or {}).get("pass"),
                     "limit": (r.get("limit") or {}).get("rlimit_sigpending"),
                     "checks_failed": r.get("checks_failed"), "label": label,
                     "std_signal": std.get("signal"), "rt_signal": rt.get("signal")})
        groups.append((label, [(std.get("sent"), None), (std.get("delivered"), None),
                               (rt.get("sent"), None), (rt.get("delivered"), None)]))
    write_tsv(ctx.tsv("sig_coalesce.tsv"), [k for k in rows[0] if k != "label"], rows,
              "signal coalesce: N standard and N real-time signals sent to a receiver that blocks them")
    tsv = ctx.tsv("sig_coalesce_fig.tsv")
    nw = write_bars(tsv, [("standard: sent", None), ("standard: delivered", None), ("real-time: sent", None),
                     ("real-time: delivered", None)], groups,
               "figure: signals sent vs delivered, standard vs real-time, per run (mode, receive method)")
    ctx.figure(pg, "bars.gp", tsv, "sig_coalesce",
               "Coalescing: %s standard vs real-time signals sent while blocked, and delivered" % fmt_g(rows[0]["count"]),
               "Signals sent while the receiver blocks them vs signals delivered once it unblocks (log scale)",
               "signals (log scale)", "logy,ymin=0.5,values" + nw)
    body = []
    for r in rows:
        body.append([esc(r["mode"]), esc(r["method"]), n(r["std_sent"], str), n(r["std_accepted"], str),
                     n(r["std_delivered"], str), n(r["rt_sent"], str), n(r["rt_accepted"], str),
                     n(r["rt_delivered"], str), n(r["rt_eagain"], str),
                     check_cell(r["rt_in_order"] and r["rt_payloads_ok"]), check_cell(r["std_first"]),
                     check_cell(r["ordering_pass"]), esc(r["id"])])
    pg.table(["mode", "receive", "std sent", "std accepted", "std delivered", "rt sent", "rt accepted",
              "rt delivered", "rt EAGAIN", "rt in order, payloads intact", "std before rt", "lowest rt first",
              "run"], body)
    pg.p("%s and %s: a pending standard signal is one bit, so N sends while blocked deliver once; real-time "
         "signals queue (up to <code>RLIMIT_SIGPENDING</code> = %s here; <code>sigqueue</code> then fails with "
         "EAGAIN, counted) and arrive in order with their payloads." % (
             esc(rows[0]["std_signal"]), esc(rows[0]["rt_signal"]), fmt_g(rows[0]["limit"])), "note")


def sigchld_part(ctx, pg):
    runs = ctx.res.find("signal sigchld")
    if not ctx.part(pg, "SIGCHLD: default, ignored, reaping handler", "sig-sigchld", runs, "No <code>signal sigchld</code> runs in this directory."):
        return
    rows = []
    for rid, doc in runs:
        p, r = doc.get("params") or {}, doc.get("results") or {}
        checks = r.get("checks") or {}
        rows.append({"id": rid, "policy": p.get("policy"), "children": r.get("children_spawned"),
                     "zombies_max": r.get("zombies_seen_max"), "zombies_all_exited": r.get("zombies_when_all_exited"),
                     "reaped_by": r.get("reaped_by"), "by_waitpid": r.get("reaped_by_waitpid"),
                     "by_kernel": r.get("reaped_by_kernel"), "handler_calls": r.get("handler_calls"),
                     "coalesced": r.get("sigchld_coalesced"), "waitpid_echild": r.get("waitpid_echild"),
                     "zombies_after": r.get("zombies_after"), "reap_p50_ns": (r.get("reap_latency") or {}).get("p50"),
                     "checks_pass": all(v is True for v in checks.values()) if checks else None,
                     "checks": ", ".join(k for k, v in checks.items() if v is not True)})
    write_tsv(ctx.tsv("sig_sigchld.tsv"), list(rows[0]), rows, "signal sigchld: one row per policy")
    body = []
    for r in rows:
        body.append([esc(r["policy"]), n(r["children"], str), n(r["zombies_max"], str), n(r["zombies_all_exited"], str),
                     esc(r["reaped_by"]), n(r["by_waitpid"], str), n(r["by_kernel"], str), n(r["handler_calls"], str),
                     n(r["coalesced"], str), n(r["zombies_after"], str), n(r["reap_p50_ns"], fmt_us),
                     check_cell(r["checks_pass"]) if r["checks_pass"] is not False
                     else ('<span class="flag">FAIL: %s</span>' % esc(r["checks"]), ""), esc(r["id"])])
    pg.table(["policy", "children", "zombies seen (max)", "zombies when all had exited", "reaped by",
              "by waitpid", "by the kernel", "handler calls", "SIGCHLD coalesced", "zombies left",
              "reap latency p50 (µs)", "checks", "run"], body)
    pg.p("<i>default</i>: exited children stay zombies until <code>waitpid</code>; <i>ignore</i> "
         "(SIG_IGN): the kernel reaps them at once and <code>waitpid</code> fails with ECHILD; <i>handler</i>: "
         "fewer handler calls than children (SIGCHLD coalesces), so the handler loops on "
         "<code>waitpid(-1, WNOHANG)</code> and still leaves none.", "note")


def alarm_part(ctx, pg):
    runs = ctx.res.find("signal alarm")
    if not ctx.part(pg, "alarm(), setitimer() and POSIX timers", "sig-alarm", runs, "No <code>signal alarm</code> runs in this directory."):
        return
    rid, doc = runs[-1]
    p, r = doc.get("params") or {}, doc.get("results") or {}
    body = []
    for name, c in (r.get("checks") or {}).items():
        exp = c.get("expected")
        body.append([esc(name), esc(c.get("what")), esc(exp if not isinstance(exp, list) else "[%s]" % ", ".join(map(str, exp))),
                     esc(c.get("actual") if not isinstance(c.get("actual"), list) else ", ".join(map(str, c["actual"]))),
                     check_cell(c.get("pass"))])
    pg.table(["check", "what", "expected", "actual", "result"], body)
    rows, groups = [], []
    for name, t in (r.get("lateness") or {}).items():
        lt = t.get("lateness") or {}
        rows.append({"timer": name, "what": t.get("what"), "signals": t.get("signals"), "p50_ns": lt.get("p50"),
                     "p99_ns": lt.get("p99"), "max_ns": lt.get("max"), "mean_ns": lt.get("mean"),
                     "overruns": t.get("overruns"), "overruns_source": t.get("overruns_source"),
                     "early": t.get("early"), "cpu": t.get("cpu")})
        groups.append((name, [(us(lt.get("p50")), us(lt.get("p99")))]))
    if rows:
        write_tsv(ctx.tsv("sig_alarm_lateness.tsv"), list(rows[0]), rows,
                  "signal alarm: lateness of periodic timer expiries (ns) per timer, period %s µs" % p.get("period_us"))
        tsv = ctx.tsv("sig_alarm_fig.tsv")
        write_bars(tsv, [("lateness p50", "whiskers: p50 to p99")], groups,
                   "figure: timer lateness (µs) p50 and p99 per timer")
        allv = [v for _g, vals in groups for pair in vals for v in pair]
        scale = log_or_linear(allv)
        ctx.figure(pg, "bars.gp", tsv, "sig_alarm",
                   "Periodic timer lateness, period %s µs, %s expiries each: p50 (whisker to p99)"
                   % (p.get("period_us"), p.get("ticks")),
                   "How late each periodic timer's expiry is seen (p50 bars, whiskers to p99)",
                   "lateness (µs%s)" % (", log scale" if scale.startswith("logy") else ""), scale)
        body = [[esc(x["timer"]), esc(x["what"]), n(x["signals"], str), n(x["p50_ns"], fmt_us), n(x["p99_ns"], fmt_us),
                 n(x["max_ns"], fmt_us), n(x["mean_ns"], fmt_us), n(x["overruns"], str), esc(x["overruns_source"]),
                 n(x["early"], str)] for x in rows]
        pg.table(["timer", "how", "expiries", "late p50 (µs)", "p99", "max", "mean", "overruns", "overruns from",
                  "early"], body)
        pg.p("Lateness = when the waiting thread sees the expiry minus when it was due; the timer slack of this "
             "thread is %s µs. <code>clock_nanosleep</code> with an absolute deadline is the no-signal baseline. "
             "Run <code>%s</code>." % (fmt_g(us(r.get("timer_slack_ns"))), esc(rid)), "note")


def misc_part(ctx, pg):
    lst = ctx.res.find("signal list")
    bus = ctx.res.find("signal bus")
    if not lst and not bus:
        return
    pg.h(3, "Signal catalogue and the driver/conductor bus", "sig-misc")
    if lst:
        rid, doc = lst[-1]
        r = doc.get("results") or {}
        sigs = r.get("signals") or []
        write_tsv(ctx.tsv("sig_list.tsv"), ["number", "signal", "default_action", "catchable", "realtime",
                                            "reserved_by_libc", "description"], sigs,
                  "signal list: every signal, its default action and whether sigaction() can catch it")
        uncatch = [s.get("signal") for s in sigs if s.get("catchable") is False]
        pg.p("<code>signal list</code>: %s signals, %s catchable (measured with %s); not catchable: %s; "
             "real-time from %s (kernel %s; libc reserves %s). <a href=\"%s\">Full table</a>."
             % (n(r.get("count"), str)[0], n(r.get("catchable_count"), str)[0], esc(r.get("catchable_measured_with")),
                esc(", ".join(str(u) for u in uncatch)) or "none",
                esc(next((s.get("signal") for s in sigs if s.get("realtime") and not s.get("reserved_by_libc")), "?")),
                esc(r.get("kernel_sigrtmin")), esc(", ".join(map(str, r.get("libc_reserved") or []))),
                esc(rel(ctx.tsv("sig_list.tsv"), ctx.dir))))
    if bus:
        rid, doc = bus[-1]
        r = doc.get("results") or {}
        body = [[esc(k.get("key")), esc(k.get("key_signal")), esc(k.get("line") or "–"),
                 "ignored" if k.get("ignored") else "", n(k.get("latency_ns"), fmt_us)] for k in r.get("keys") or []]
        pg.table(["key", "signal", "line printed", "", "key → line (µs)"], body)
        ce = r.get("conductor_end") or {}
        pg.p("<code>signal bus</code> (%s): the conductor %s and %s first; run <code>%s</code>."
             % (esc((doc.get("params") or {}).get("script")), esc(ce.get("how")),
                "got off" if r.get("conductor_exited_first") else "did <b>not</b> get off", esc(rid)), "note")


def section(ctx, pg):
    latency_part(ctx, pg)
    coalesce_part(ctx, pg)
    sigchld_part(ctx, pg)
    alarm_part(ctx, pg)
    misc_part(ctx, pg)
    return True

