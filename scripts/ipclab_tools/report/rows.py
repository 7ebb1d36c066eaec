"""rows.py - rows shared by several sections: every ipc latency run (the pipe histograms,
the perf bench comparison and the tracing cost read them), the perf bench references, the
harness overhead, the traces, the traced/untraced pairs and the status of every run."""

import os

from .. import leftovers, placement
from ..fmt import num
from .thresholds import NOISY, REF_TOLERANCE

def latency_rows(res):
    rows = []
    for rid in res.order():
        for variant in ("untraced", "traced"):
            doc = res.runs.get((rid, variant))
            if not doc or doc.get("experiment") != "ipc latency":
                continue
            r = doc.get("results", {})
            rtt = r.get("rtt")
            if not isinstance(rtt, dict):
                continue
            p = doc.get("params", {})
            pkey, ptext, pshort = placement.of_params(p)
            ini, resp = placement.observed(r)
            obs = placement.observed_text(ini, resp) if ini is not None else None
            cpu = p.get("cpu")
            migrated = False
            if cpu and ini is not None:
                migrated = ini != {cpu[0]} or resp != {cpu[1]}
            rsd_m = r.get("repeat_rel_stddev_mean")
            rsd_p = r.get("repeat_rel_stddev_p50")
            noisy = any(num(x) and x > NOISY for x in (rsd_m, rsd_p))
            rows.append({
                "id": rid, "variant": variant, "transport": p.get("transport"),
                "mode": p.get("mode"), "placement": pkey, "placement_text": ptext,
                "cpu_requested": ",".join(str(c) for c in cpu) if cpu else "none",
                "cpus_observed": obs, "migrated": migrated,
                "size": p.get("size"), "iterations": p.get("iterations"), "warmup": p.get("warmup"),
                "repeat": p.get("repeat"), "count": rtt.get("count"),
                "min_ns": rtt.get("min"), "p50_ns": rtt.get("p50"), "p90_ns": rtt.get("p90"),
                "p99_ns": rtt.get("p99"), "p999_ns": rtt.get("p999"), "max_ns": rtt.get("max"),
                "mean_ns": rtt.get("mean"), "stddev_ns": rtt.get("stddev"),
                "overflow": rtt.get("overflow"),
                "oneway_ab_p50_ns": (r.get("oneway_ab") or {}).get("p50"),
                "oneway_ba_p50_ns": (r.get("oneway_ba") or {}).get("p50"),
                "rsd_mean": rsd_m, "rsd_p50": rsd_p, "noisy": noisy,
                "clock_read_ns": r.get("clock_read_ns"),
                "traced_flag": r.get("traced"),
                "trace_status": doc.get("sysinfo", {}).get("trace_status"),
                "label": "%s, %s, %s" % (p.get("transport"), p.get("mode"), pshort),
                "doc": doc,
            })
    # label runs uniquely when a mode/placement repeats (full matrix rounds)
    seen = {}
    for row in rows:
        if row["variant"] == "untraced":
            seen.setdefault(row["label"], []).append(row["id"])
    for row in rows:
        ids = seen.get(row["label"], [])
        if len(ids) > 1 and row["id"] in ids:
            row["label"] = "%s #%d" % (row["label"], ids.index(row["id"]) + 1)
    return rows


def perf_rows(res, lat):
    """perf reference runs, each paired with its ipclab run (--compare, else same mode+placement)."""
    by_id = {r["id"]: r for r in lat if r["variant"] == "untraced"}
    rows = []
    for rid in res.order():
        doc = res.runs.get((rid, "reference"))
        if not doc or not str(doc.get("schema", "")).startswith("ipclab-perf-ref/"):
            continue
        p = doc.get("params", {})
        r = doc.get("results", {})
        target = p.get("compare")
        ours = by_id.get(target) if target else None
        if ours is None and not target:
            for o in by_id.values():
                if o["mode"] == p.get("mode") and o["placement"] == p.get("placement"):
                    ours = o
                    break
        perf_mean = r.get("rtt_mean_ns")
        ratio = ours["mean_ns"] / perf_mean if ours and num(perf_mean) and perf_mean > 0 else None
        ratio_p50 = ours["p50_ns"] / perf_mean if ours and num(perf_mean) and perf_mean > 0 else None
        rows.append({
            "id": rid, "compare": target, "ipclab_id": ours["id"] if ours else None,
            "mode": p.get("mode"), "cpus": p.get("cpus"), "pinned": p.get("pinned"),
            "placement": p.get("placement"), "placement_note": p.get("placement_note"),
            "loops": p.get("loops"), "repeat": p.get("repeat"),
            "perf_usecs_per_op": r.get("usecs_per_op"),
            "perf_mean_ns": perf_mean, "perf_rsd": r.get("repeat_rel_stddev_mean"),
            "ipclab_mean_ns": ours["mean_ns"] if ours else None,
            "ipclab_p50_ns": ours["p50_ns"] if ours else None,
            "ipclab_rsd": ours["rsd_mean"] if ours else None,
            "ipclab_placement": ours["placement_text"] if ours else None,
            "ratio_mean": ratio, "ratio_p50": ratio_p50,
            # ipclab's own work inside one round trip (clock reads, records, checks), measured in the run
            "harness_ns": (((ours or {}).get("doc") or {}).get("results") or {}).get("harness_ns_per_rtt", {}).get("total")
            if ours else None,
            "outside": num(ratio) and abs(ratio - 1) > REF_TOLERANCE,
            "perf_noisy": num(r.get("repeat_rel_stddev_mean")) and r["repeat_rel_stddev_mean"] > NOISY,
            "label": ours["label"] if ours else "%s, %s" % (p.get("mode"), p.get("placement")),
        })
    return rows


def msg_events(trace):
    """Number of ipclab_msg:* events in a trace summary (None if unknown)."""
    ev = (trace or {}).get("events")
    if not isinstance(ev, dict):
        return None
    names = ev.get("by_name") or {}
    return sum(v for k, v in names.items() if k.startswith("ipclab_msg:") and num(v))


def tracing_rows(res, lat):
    """Tracing cost per event: (traced mean - untraced mean) / events per round trip."""
    un = {r["id"]: r for r in lat if r["variant"] == "untraced"}
    rows = []
    for t in lat:
        if t["variant"] != "traced" or t["id"] not in un:
            continue
        u = un[t["id"]]
        trace = res.traces.get(t["id"])
        rt_total = None
        if num(t["repeat"]) and num(t["iterations"]) and num(t["warmup"]):
            rt_total = t["repeat"] * (t["iterations"] + t["warmup"])
        ev = msg_events(trace)
        per_rt = ev / rt_total if num(ev) and rt_total else None
        # the documented contract of ipc latency (src/ipc/latency.c): 4 ipclab_msg events
        # per round trip (send+recv on each side); the trace count checks it
        epr = per_rt if num(per_rt) and per_rt > 0 else 4.0
        d_mean = t["mean_ns"] - u["mean_ns"] if num(t["mean_ns"]) and num(u["mean_ns"]) else None
        d_p50 = t["p50_ns"] - u["p50_ns"] if num(t["p50_ns"]) and num(u["p50_ns"]) else None
        rows.append({
            "id": t["id"], "mode": t["mode"], "placement": t["placement"],
            "placement_text": t["placement_text"], "label": u["label"],
            "untraced_mean_ns": u["mean_ns"], "traced_mean_ns": t["mean_ns"],
            "untraced_p50_ns": u["p50_ns"], "traced_p50_ns": t["p50_ns"],
            "untraced_p99_ns": u["p99_ns"], "traced_p99_ns": t["p99_ns"],
            "delta_mean_ns": d_mean, "delta_p50_ns": d_p50,
            "events_per_rtt": epr, "events_per_rtt_source": "trace count" if num(per_rt) else "latency.c contract (no trace count)",
            "events_per_rtt_ok": (abs(per_rt - 4.0) < 1e-9) if num(per_rt) else None,
            "cost_per_event_mean_ns": d_mean / epr if num(d_mean) else None,
            # what repeat-to-repeat drift alone moves a mean by, per event: a cost below it is noise
            "noise_per_event_ns": max(x["rsd_mean"] * x["mean_ns"] for x in (u, t)) / epr
            if all(num(x["rsd_mean"]) and num(x["mean_ns"]) for x in (u, t)) else None,
            "cost_per_event_p50_ns": d_p50 / epr if num(d_p50) else None,
            "traced_really": bool(trace and trace.get("traced")) and t["traced_flag"] is True,
        })
    return rows


def overhead_rows(res):
    rows = []
    for rid in res.order():
        u = res.runs.get((rid, "untraced"))
        if not u or u.get("experiment") != "core overhead":
            continue
        t = res.runs.get((rid, "traced")) or {}
        ur, tr = u.get("results", {}), t.get("results", {})
        for key, what, unit in (
                ("clock_read_ns", "clock read (CLOCK_MONOTONIC)", "ns"),
                ("iteration_overhead_ns", "per-sample overhead (clock read + histogram record)", "ns"),
                ("iteration_overhead_minus_clock_ns", "per-sample overhead above one clock read", "ns"),
                ("tracepoint_ns", "tracepoint call site", "ns")):
            rsd_key = {"clock_read_ns": "clock_read_rel_stddev",
                       "iteration_overhead_ns": "iteration_overhead_rel_stddev",
                       "tracepoint_ns": "tracepoint_rel_stddev"}.get(key)
            rows.append({
                "id": rid, "quantity": what, "key": key, "unit": unit,
                "untraced": ur.get(key), "untraced_rsd": ur.get(rsd_key) if rsd_key else None,
                "traced": tr.get(key) if t else None,
                "traced_rsd": tr.get(rsd_key) if (t and rsd_key) else None,
                "traced_really": tr.get("traced") is True,
                "events": tr.get("tracepoint_events"),
            })
    return rows


def trace_rows(res):
    rows = []
    manifest = {(r.get("id"), r.get("variant")): r for r in res.manifest_runs()}
    ids = [i for i in res.order() if i in res.traces]
    ids += [i for i in sorted(res.traces) if i not in ids]
    # traced runs that have no trace folder at all (setup failed, skipped...)
    for (rid, variant), m in manifest.items():
        if variant == "traced" and rid not in ids:
            ids.append(rid)
    for rid in ids:
        t = res.traces.get(rid)
        m = manifest.get((rid, "traced"), {})
        ev = (t or {}).get("events") if isinstance((t or {}).get("events"), dict) else {}
        traced = bool(t and t.get("traced"))
        disc = ev.get("discarded_events") if ev else None
        packets = ev.get("discarded_packets") if ev else None
        why = []
        if t is None:
            why.append("no trace folder (%s)" % (m.get("reason") or m.get("status") or "not run"))
        elif t.get("error"):
            why.append(t["error"] + (" — run %s: %s" % (m.get("status"), m["reason"]) if m.get("reason") else ""))
        elif not traced:
            why.append("ran untraced (LTTng unavailable)")
        if num(disc) and disc > 0:
            why.append("%d events discarded" % disc)
        if num(packets) and packets > 0:
            why.append("%d packets discarded" % packets)
        if t and traced and ev and ev.get("complete") is False:
            why.append("trace incomplete")
        if t and traced and not ev:
            why.append("events could not be counted")
        # scripts/ipclab-trace's own warnings (zero events recorded, discards, buffers not created)
        why += [str(w) for w in (t or {}).get("warnings") or [] if str(w) not in why]
        by_name = ev.get("by_name") if ev else None
        rows.append({
            "id": rid, "dir": os.path.join(res.dir, "traces", rid) if t is not None else None,
            "traced": traced if t is not None else None, "session": (t or {}).get("session"),
            "events_total": ev.get("total") if ev else None,
            "events_by_name": ", ".join("%s %d" % (k, v) for k, v in sorted((by_name or {}).items())),
            "discarded_events": disc, "discarded_packets": packets,
            "exit_code": (t or {}).get("exit_code"),
            "warning": "; ".join(why),
        })
    return rows


def status_rows(res):
    rows = []
    for m in res.manifest_runs():
        rows.append({
            "index": m.get("index"), "id": m.get("id"), "kind": m.get("kind"),
            "variant": m.get("variant"), "status": m.get("status"), "exit_code": m.get("exit_code"),
            "elapsed_s": m.get("elapsed_s"), "reason": m.get("reason"),
            # liblttng-ust's own files are never leftovers (leftovers.py), even in folders
            # written before the runner knew it
            "leftovers": "; ".join(e for e in m.get("leftovers") or [] if not leftovers.tracer_owned(e)),
            "leftovers_transient": "; ".join(m.get("leftovers_transient") or []),
            "stderr": m.get("stderr"), "command": m.get("command"),
        })
    return rows


# the headline number of a traced/untraced pair, per experiment: (what, getter from results)
HEADLINE = {
    "ipc latency": ("round trip p50 (ns)", lambda r: (r.get("rtt") or {}).get("p50")),
    "signal latency": ("round trip p50 (ns)", lambda r: (r.get("rtt") or {}).get("p50")),
    "sync handoff": ("round trip p50 (ns)", lambda r: (r.get("rtt") or {}).get("p50")),
    "task spawn": ("creation to start p50 (ns)", lambda r: (r.get("to_start") or {}).get("p50")),
    "core overhead": ("tracepoint call site (ns)", lambda r: r.get("tracepoint_ns")),
    "sync race": ("ns per increment", lambda r: r.get("ns_per_increment")),
    "sync event": ("wake latency p50 (ns)", lambda r: (r.get("wake_latency") or {}).get("p50")),
}


def traced_pairs(res):
    """Every run with an untraced result and a traced twin: its headline number both ways."""
    rows = []
    for rid in res.order():
        u, t = res.runs.get((rid, "untraced")), res.runs.get((rid, "traced"))
        if not u or not t:
            continue
        exp = u.get("experiment")
        what, get = HEADLINE.get(exp, (None, lambda r: None))
        uv, tv = get(u.get("results") or {}), get(t.get("results") or {})
        trace = res.traces.get(rid) or {}
        ev = trace.get("events") if isinstance(trace.get("events"), dict) else {}
        rows.append({"id": rid, "experiment": exp, "metric": what, "untraced": uv, "traced": tv,
                     "delta": tv - uv if num(tv) and num(uv) else None,
                     # a relative change of a near-zero quantity (an untraced tracepoint) means nothing
                     "delta_rel": (tv - uv) / uv if num(tv) and num(uv) and abs(uv) >= 1.0 else None,
                     "events": ev.get("total"), "discarded": ev.get("discarded_events"),
                     "traced_really": bool(trace.get("traced")) and (t.get("results") or {}).get("traced") is not False})
    return rows
