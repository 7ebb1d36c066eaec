#!/usr/bin/python3
"""synth.py - a synthetic ipclab trace with known answers, for the analysis tests.

Builds the events of one scripted scenario (every ipclab_* provider, with exact, hand-
computable latencies, unmatched ends, a lost update...) as a babeltrace2 source
component written in Python, then either

  --ctf DIR        writes them as a CTF trace (sink.ctf.fs), which any CTF reader,
                   scripts/ipclab-analyze and scripts/ipclab-lami can then read, or
  --analyze FILE   feeds them straight to sink.ipclab.analyze (found in --plugin-dir)
                   and writes its JSON result to FILE (--tsv DIR: its TSV files too);
                   only this mode can add --discarded-events N / --discarded-packets N
                   records (a CTF writer only encodes discards at packet boundaries).

  --streams N      spreads the events over N streams, one output port each (an event
                   goes to stream vtid % N, as a pinned thread's events go to one
                   per-CPU buffer): the sink then merges its N inputs by time itself
                   (--analyze), or the CTF trace has N stream files (--ctf). The
                   answers are the same (no two events share a timestamp).
  --tick NS        rounds every timestamp down to a multiple of NS: events of different
                   streams then share timestamps (for the tie order of merges; the
                   answers change). Stream ids run against the port order.
  --mux            with --analyze: filter.utils.muxer between the streams and the sink
                   (the sink's own merge must give the same result, ties included)

  --expect         prints the answers the analysis must find, as JSON, and exits.

The scenario's event and field names are those of trace/ipclab_*.h.
Exit: 0 ok, 1 graph failure, 2 usage.
"""

import argparse
import json
import sys

T0 = 1_700_000_000_000_000_000  # ns since the Unix epoch: a plausible LTTng timestamp
# The clock class's offset from the epoch, as LTTng writes it: an event's clock value (and
# an experiment's CLOCK_MONOTONIC stamp) is its time since the origin minus this.
CLOCK_OFFSET_S = 1_699_000_000

# (provider:event, [(field, kind)]); kind: "s" string, "u32", "u64", "s32"
EVENTS = {
    "ipclab_run:run_begin": [("experiment", "s"), ("variant", "s"), ("mode", "s32"),
                             ("repeat", "u32"), ("iterations", "u64"), ("warmup", "u64")],
    "ipclab_run:run_end": [("experiment", "s"), ("variant", "s"), ("repeat", "u32"), ("status", "s32")],
    "ipclab_run:probe": [("value", "u64")],
    "ipclab_msg:msg_send": [("transport", "s"), ("chan", "u32"), ("seq", "u64"), ("size", "u32")],
    "ipclab_msg:msg_recv": [("transport", "s"), ("chan", "u32"), ("seq", "u64"), ("size", "u32"),
                            ("t_send", "u64"), ("t_recv", "u64")],
    "ipclab_sig:sig_send": [("signo", "s32"), ("seq", "u64"), ("target", "s32")],
    "ipclab_sig:sig_receive": [("signo", "s32"), ("seq", "u64"), ("sender", "s32"), ("method", "s"),
                               ("t_send", "u64"), ("t_recv", "u64")],
    "ipclab_sig:bus_state": [("role", "s"), ("state", "s")],
    "ipclab_sig:child_reap": [("pid", "s32"), ("status", "s32"), ("seq", "u64")],
    "ipclab_lock:lock_request": [("lock", "u32"), ("kind", "s")],
    "ipclab_lock:lock_acquire": [("lock", "u32"), ("kind", "s"), ("t_begin", "u64"), ("t_acquire", "u64")],
    "ipclab_lock:lock_release": [("lock", "u32"), ("kind", "s")],
    "ipclab_lock:race_read": [("worker", "u32"), ("value", "u64")],
    "ipclab_lock:race_write": [("worker", "u32"), ("value", "u64")],
    "ipclab_task:task_spawn": [("method", "s"), ("seq", "u64"), ("pid", "s32"), ("tid", "s32")],
    "ipclab_task:task_start": [("seq", "u64"), ("pid", "s32"), ("tid", "s32"), ("t_start", "u64"),
                               ("proxy", "s32")],
    "ipclab_task:task_exit": [("seq", "u64"), ("pid", "s32"), ("tid", "s32"), ("status", "s32"),
                              ("proxy", "s32")],
    "ipclab_task:task_reaped": [("seq", "u64"), ("pid", "s32"), ("tid", "s32"), ("status", "s32"),
                                ("latency_ns", "u64")],
    "demo_app:tick": [("value", "u64")],  # --foreign: not ours
}

MAIN, RESP = 100, 101  # vpids


def stamp(t):
    """An experiment's CLOCK_MONOTONIC read at scenario time t (the clock value there)."""
    return T0 + t - CLOCK_OFFSET_S * 1_000_000_000


def stamps(t0, t1):
    """The experiment stamp fields of a receive timed from t0 to t1."""
    return dict(t_send=stamp(t0), t_recv=stamp(t1))


NO_STAMPS = dict(t_send=0, t_recv=0)


def scenario(probes=0):
    """The scripted events: list of (t_ns_relative, name, vpid, vtid, {field: value})."""
    ev = []

    def add(t, name, fields, vpid=MAIN, vtid=None):
        ev.append((t, name, vpid, vtid if vtid is not None else vpid, fields))

    add(0, "ipclab_run:run_begin", dict(experiment="ipc latency", variant="pipe", mode=0, repeat=0,
                                        iterations=3, warmup=1))
    # messages: 4 round trips (seq 0 is the warm-up); A->B takes 1000+100*seq ns, B->A 500 ns.
    # The experiment stamps each measured message 40 ns after its send event and 30 ns
    # before its receive event (its latency 70 ns shorter); the warm-up is not stamped.
    t = 1000
    for seq in range(4):
        a_b, b_a = t + 1000 + 100 * seq, t + 2500
        st = (lambda t0, t1: stamps(t0 + 40, t1 - 30)) if seq else (lambda t0, t1: NO_STAMPS)
        add(t, "ipclab_msg:msg_send", dict(transport="pipe", chan=0, seq=seq, size=16))
        add(a_b, "ipclab_msg:msg_recv", dict(transport="pipe", chan=0, seq=seq, size=16, **st(t, a_b)), RESP)
        add(t + 2000, "ipclab_msg:msg_send", dict(transport="pipe", chan=1, seq=seq, size=16), RESP)
        add(b_a, "ipclab_msg:msg_recv", dict(transport="pipe", chan=1, seq=seq, size=16, **st(t + 2000, b_a)))
        t += 10000
    # an unmatched send (never received) and an unmatched receive (its send not traced; the
    # experiment timed it: 600 ns)
    add(t, "ipclab_msg:msg_send", dict(transport="pipe", chan=0, seq=99, size=16))
    add(t + 10, "ipclab_msg:msg_recv", dict(transport="pipe", chan=1, seq=77, size=16, **stamps(t - 590, t + 10)))
    add(t + 20, "ipclab_run:run_end", dict(experiment="ipc latency", variant="pipe", repeat=0, status=0))

    # signals: SIGUSR1 (10) seq 0 delivered in 5000 ns; seq 1 sent twice (coalesced), received
    # once 3000 ns after the second send; SIGINT (2) to a process group, received by two.
    # SIGUSR1's deliveries are stamped 20 ns after the send event and 30 ns before the
    # receive event (the experiment's view 50 ns shorter); SIGINT's are not.
    t = 100_000
    add(t, "ipclab_sig:sig_send", dict(signo=10, seq=0, target=RESP))
    add(t + 5000, "ipclab_sig:sig_receive", dict(signo=10, seq=0, sender=MAIN, method="handler",
                                                 **stamps(t + 20, t + 4970)), RESP)
    add(t + 6000, "ipclab_sig:sig_send", dict(signo=10, seq=1, target=RESP))
    add(t + 7000, "ipclab_sig:sig_send", dict(signo=10, seq=1, target=RESP))
    add(t + 10000, "ipclab_sig:sig_receive", dict(signo=10, seq=1, sender=MAIN, method="sigwaitinfo",
                                                  **stamps(t + 7020, t + 9970)), RESP)
    add(t + 20000, "ipclab_sig:sig_send", dict(signo=2, seq=0, target=-RESP))
    add(t + 21000, "ipclab_sig:sig_receive", dict(signo=2, seq=0, sender=0, method="handler", **NO_STAMPS), RESP)
    add(t + 22000, "ipclab_sig:sig_receive", dict(signo=2, seq=0, sender=0, method="handler", **NO_STAMPS), 102)
    add(t + 30000, "ipclab_sig:child_reap", dict(pid=RESP, status=0, seq=0))

    # bus: driver waiting 1000, driving 2000, at_station 3000, then off (open);
    # conductor selling 4000, announcing 500, then off (open)
    t = 200_000
    add(t, "ipclab_sig:bus_state", dict(role="driver", state="waiting"), 201)
    add(t + 100, "ipclab_sig:bus_state", dict(role="conductor", state="selling"), 202)
    add(t + 1000, "ipclab_sig:bus_state", dict(role="driver", state="driving"), 201)
    add(t + 3000, "ipclab_sig:bus_state", dict(role="driver", state="at_station"), 201)
    add(t + 4100, "ipclab_sig:bus_state", dict(role="conductor", state="announcing"), 202)
    add(t + 4600, "ipclab_sig:bus_state", dict(role="conductor", state="off"), 202)
    add(t + 6000, "ipclab_sig:bus_state", dict(role="driver", state="off"), 201)

    # locks: lock 0 (mutex), thread 11 waits 100 and holds 1000; thread 12 requests at +50,
    # gets it at +1150 (waits 1100) and holds 500; lock 1 (sem) handed over: taken by 13,
    # released by 14 after 700 ns. Timed by the experiment: 12's acquisition from 5 ns after
    # 11's release to 5 ns before its acquire event (a hand-over: 40 ns, tracer 50), 13's from
    # 10 ns after its own request to 10 ns before its acquire event (a wait: 180, tracer 200)
    t = 300_000
    untimed = dict(t_begin=0, t_acquire=0)
    add(t, "ipclab_lock:lock_request", dict(lock=0, kind="mutex"), MAIN, 11)
    add(t + 50, "ipclab_lock:lock_request", dict(lock=0, kind="mutex"), MAIN, 12)
    add(t + 100, "ipclab_lock:lock_acquire", dict(lock=0, kind="mutex", **untimed), MAIN, 11)
    add(t + 1100, "ipclab_lock:lock_release", dict(lock=0, kind="mutex"), MAIN, 11)
    add(t + 1150, "ipclab_lock:lock_acquire", dict(lock=0, kind="mutex", t_begin=stamp(t + 1105),
                                                   t_acquire=stamp(t + 1145)), MAIN, 12)
    add(t + 1650, "ipclab_lock:lock_release", dict(lock=0, kind="mutex"), MAIN, 12)
    add(t + 2000, "ipclab_lock:lock_request", dict(lock=1, kind="sem"), MAIN, 13)
    add(t + 2200, "ipclab_lock:lock_acquire", dict(lock=1, kind="sem", t_begin=stamp(t + 2010),
                                                   t_acquire=stamp(t + 2190)), MAIN, 13)
    add(t + 2900, "ipclab_lock:lock_release", dict(lock=1, kind="sem"), MAIN, 14)

    # race (one run): w0 and w1 both read 0 and write 1 (one lost update), then w0 reads 1
    # and writes 2: 3 increments, final 2, lost 1, one overlapping window (w1's)
    t = 400_000
    add(t, "ipclab_run:run_begin", dict(experiment="sync race", variant="none", mode=1, repeat=0,
                                        iterations=3, warmup=0))
    add(t + 10, "ipclab_lock:race_read", dict(worker=0, value=0), MAIN, 21)
    add(t + 20, "ipclab_lock:race_read", dict(worker=1, value=0), MAIN, 22)
    add(t + 30, "ipclab_lock:race_write", dict(worker=0, value=1), MAIN, 21)
    add(t + 40, "ipclab_lock:race_write", dict(worker=1, value=1), MAIN, 22)
    add(t + 50, "ipclab_lock:race_read", dict(worker=0, value=1), MAIN, 21)
    add(t + 60, "ipclab_lock:race_write", dict(worker=0, value=2), MAIN, 21)
    add(t + 100, "ipclab_run:run_end", dict(experiment="sync race", variant="none", repeat=0, status=0))

    # tasks: seq 0 spawn -> start 200 -> exit +1000 -> reaped +300; seq 1 never reaped; seq 2
    # cannot trace itself: its creator emits start and exit (proxy = 1) after the reap
    t = 500_000
    add(t, "ipclab_task:task_spawn", dict(method="fork", seq=0, pid=MAIN, tid=MAIN))
    add(t + 200, "ipclab_task:task_start", dict(seq=0, pid=300, tid=300, t_start=0, proxy=0), 300)
    add(t + 1200, "ipclab_task:task_exit", dict(seq=0, pid=300, tid=300, status=0, proxy=0), 300)
    add(t + 1500, "ipclab_task:task_reaped", dict(seq=0, pid=300, tid=300, status=0, latency_ns=1500))
    add(t + 2000, "ipclab_task:task_spawn", dict(method="fork", seq=1, pid=MAIN, tid=MAIN))
    add(t + 2100, "ipclab_task:task_start", dict(seq=1, pid=301, tid=301, t_start=0, proxy=0), 301)
    add(t + 3000, "ipclab_task:task_spawn", dict(method="vfork", seq=2, pid=MAIN, tid=MAIN))
    add(t + 3800, "ipclab_task:task_reaped", dict(seq=2, pid=302, tid=302, status=0, latency_ns=800))
    add(t + 3810, "ipclab_task:task_start", dict(seq=2, pid=302, tid=302, t_start=0, proxy=1))
    add(t + 3820, "ipclab_task:task_exit", dict(seq=2, pid=302, tid=302, status=0, proxy=1))

    for i in range(probes):
        add(600_000 + i, "ipclab_run:probe", dict(value=i))
    ev.sort(key=lambda e: e[0])
    return ev


def scenario_foreign():
    """A trace without ipclab events: ten demo_app:tick events."""
    return [(1000 * i, "demo_app:tick", MAIN, MAIN, {"value": i}) for i in range(10)]


def summary(values):
    """count/min/max/p50 the analysis must report for these exact values (all < 128 ns
    buckets are exact; above, the histogram's bucket midpoint is compared with a tolerance)."""
    v = sorted(values)
    return {"count": len(v), "min": v[0], "max": v[-1]} if v else {"count": 0}


def expect():
    """The answers, computed independently of the analysis code."""
    return {
        "messages": {
            "sends": 9, "recvs": 9, "matched": 8, "unmatched_sends": 1, "unmatched_recvs": 1,
            "dir0": summary([1000 + 100 * s for s in range(4)]),
            "dir0_measured": summary([1000 + 100 * s for s in range(1, 4)]),
            "dir1": summary([500] * 4),
            "dir0_experiment": summary([1030, 1130, 1230]), "dir0_offset": summary([70] * 3),
            "dir1_experiment": summary([430] * 3 + [600]), "dir1_offset": summary([70] * 3),
        },
        "signals": {
            "sends": 4, "receives": 4, "matched": 4, "unmatched_sends": 1, "unmatched_receives": 0,
            "sig10": summary([5000, 3000]), "sig2": summary([1000, 2000]),
            "sig10_experiment": summary([4950, 2950]), "sig10_offset": summary([50, 50]),
            "sig2_experiment": summary([]),
        },
        "bus": {"driver": {"waiting": 1000, "driving": 2000, "at_station": 3000},
                "conductor": {"selling": 4000, "announcing": 500},
                "final_states": {"driver": "off", "conductor": "off"}},
        "locks": {"mutex0": {"wait": summary([100, 1100]), "hold": summary([1000, 500]),
                             "experiment": summary([40]), "tracing_offset": summary([10])},
                  "sem1": {"wait": summary([200]), "hold": summary([700]), "cross_thread_releases": 1,
                           "experiment": summary([180]), "tracing_offset": summary([20])},
                  "threads": {"11": {"waits": 1, "holds": 1}, "12": {"waits": 1, "holds": 1},
                              "13": {"waits": 1, "holds": 1}}},
        "races": {"increments": 3, "initial": 0, "final": 2, "lost_updates": 1, "overlapping_windows": 1},
        "tasks": {"spawned": 3, "started": 3, "exited": 2, "reaped": 2, "complete_timelines": 2,
                  "incomplete": 1, "proxied_events": 2, "spawn_to_start": summary([200, 100]),
                  "start_to_exit": summary([1000]), "exit_to_reaped": summary([300]),
                  "spawn_to_reaped": summary([1500, 800])},
    }


def make_source(bt2, events, discarded_events, discarded_packets, nstreams=1, tick=1):
    """A source component class emitting the scenario in nstreams packetised streams, one
    output port each ("out", "out1", ...); the discard records go to the first."""

    class Iter(bt2._UserMessageIterator):
        def __init__(self, config, port):
            src = port.user_data
            index = src["index"]
            mine = [e for e in events if e[3] % nstreams == index]
            if index > 0:
                discarded_here = (0, 0)
            else:
                discarded_here = (discarded_events, discarded_packets)
            self._discards = discarded_here
            self._queue = []
            # stream ids run against the port order (port 0 has the highest id), so a
            # merge that broke timestamp ties by port instead of stream id would show
            stream = src["trace"].create_stream(src["sc"], id=nstreams - 1 - index)
            q = self._queue
            q.append(self._create_stream_beginning_message(stream))
            packet = stream.create_packet()
            q.append(self._create_packet_beginning_message(packet, stamp(0)))
            last = stamp(0)
            for i, (t, name, vpid, vtid, fields) in enumerate(mine):
                ts = stamp(t - t % tick)
                msg = self._create_event_message(src["ecs"][name], packet, ts)
                msg.event.common_context_field["vpid"] = vpid
                msg.event.common_context_field["vtid"] = vtid
                msg.event.common_context_field["procname"] = "synth"
                for k, v in fields.items():
                    msg.event.payload_field[k] = v
                q.append(msg)
                last = ts
                if i == len(mine) // 2 and any(discarded_here):
                    # only for --analyze: the sink counts these records
                    q.append(("discards", ts))
            q.append(self._create_packet_end_message(packet, last + 1))
            q.append(self._create_stream_end_message(stream))
            self._stream = stream

        def __next__(self):
            if not self._queue:
                raise StopIteration
            m = self._queue.pop(0)
            if isinstance(m, tuple):  # built late: needs the iterator's stream
                ts = m[1]
                out = []
                devents, dpackets = self._discards
                if devents:
                    out.append(self._create_discarded_events_message(self._stream, devents, ts, ts))
                if dpackets:
                    out.append(self._create_discarded_packets_message(self._stream, dpackets, ts, ts))
                self._queue[0:0] = out[1:]
                return out[0]
            return m

    class Source(bt2._UserSourceComponent, message_iterator_class=Iter):
        def __init__(self, config, params, obj):
            tc = self._create_trace_class()
            cc = self._create_clock_class(frequency=1_000_000_000, origin_is_unix_epoch=True, name="monotonic",
                                          offset=bt2.ClockClassOffset(CLOCK_OFFSET_S))
            ctx = tc.create_structure_field_class()
            ctx.append_member("vpid", tc.create_signed_integer_field_class(32))
            ctx.append_member("vtid", tc.create_signed_integer_field_class(32))
            ctx.append_member("procname", tc.create_string_field_class())
            with_discards = bool(discarded_events or discarded_packets)
            sc = tc.create_stream_class(
                assigns_automatic_stream_id=False,
                default_clock_class=cc, event_common_context_field_class=ctx, supports_packets=True,
                packets_have_beginning_default_clock_snapshot=True,
                packets_have_end_default_clock_snapshot=True,
                supports_discarded_events=with_discards,
                discarded_events_have_default_clock_snapshots=with_discards,
                supports_discarded_packets=with_discards,
                discarded_packets_have_default_clock_snapshots=with_discards)
            ecs = {}
            used = {e[1] for e in events}
            for name, fields in EVENTS.items():
                if name not in used:
                    continue
                payload = tc.create_structure_field_class()
                for fname, kind in fields:
                    if kind == "s":
                        fc = tc.create_string_field_class()
                    elif kind == "s32":
                        fc = tc.create_signed_integer_field_class(32)
                    else:
                        fc = tc.create_unsigned_integer_field_class(int(kind[1:]))
                    payload.append_member(fname, fc)
                ecs[name] = sc.create_event_class(name=name, payload_field_class=payload)
            trace = tc(environment={"hostname": "synth", "domain": "ust", "tracer_name": "lttng-ust"})
            for i in range(nstreams):
                self._add_output_port("out%s" % (i or ""), {"trace": trace, "sc": sc, "ecs": ecs, "index": i})

    return Source


def main():
    ap = argparse.ArgumentParser(description="Write or analyse a synthetic ipclab trace with known answers.")
    ap.add_argument("--ctf", metavar="DIR", help="write the scenario as a CTF trace into DIR")
    ap.add_argument("--analyze", metavar="FILE", help="run sink.ipclab.analyze on it, JSON result to FILE")
    ap.add_argument("--tsv", metavar="DIR", help="with --analyze: the sink's tsv-dir")
    ap.add_argument("--plugin-dir", metavar="DIR", help="directory holding babeltrace-plugin-ipclab.so")
    ap.add_argument("--discarded-events", type=int, default=0, metavar="N")
    ap.add_argument("--discarded-packets", type=int, default=0, metavar="N")
    ap.add_argument("--probes", type=int, default=0, metavar="N", help="add N ipclab_run:probe events")
    ap.add_argument("--foreign", action="store_true", help="only non-ipclab events (demo_app:tick)")
    ap.add_argument("--streams", type=int, default=1, metavar="N", help="spread the events over N streams (1..16)")
    ap.add_argument("--mux", action="store_true", help="--analyze through filter.utils.muxer")
    ap.add_argument("--tick", type=int, default=1, metavar="NS", help="round timestamps down to multiples of NS")
    ap.add_argument("--expect", action="store_true", help="print the expected answers (JSON) and exit")
    args = ap.parse_args()
    if args.expect:
        json.dump(expect(), sys.stdout, indent=1)
        print()
        return 0
    if bool(args.ctf) == bool(args.analyze):
        ap.error("give exactly one of --ctf DIR, --analyze FILE")
    if args.analyze and not args.plugin_dir:
        ap.error("--analyze needs --plugin-dir")
    if args.ctf and (args.discarded_events or args.discarded_packets):
        ap.error("discard records only with --analyze")
    if not 1 <= args.streams <= 16:
        ap.error("--streams takes 1..16")
    if not 1 <= args.tick <= 1_000_000_000:
        ap.error("--tick takes 1..1000000000 ns")
    import bt2  # pylint: disable=import-outside-toplevel

    events = scenario_foreign() if args.foreign else scenario(args.probes)
    src_cls = make_source(bt2, events, args.discarded_events, args.discarded_packets, args.streams, args.tick)
    graph = bt2.Graph()
    src = graph.add_component(src_cls, "src")
    if args.ctf:
        sink_cls = bt2.find_plugin("ctf").sink_component_classes["fs"]
        sink = graph.add_component(sink_cls, "sink", {"path": args.ctf, "assume-single-trace": True, "quiet": True})
    else:
        plugins = bt2.find_plugins_in_path(args.plugin_dir)
        mine = [p for p in plugins if p.name == "ipclab"] if plugins else []
        if not mine:
            print("synth.py: no ipclab plugin in %s" % args.plugin_dir, file=sys.stderr)
            return 1
        params = {"output": args.analyze}
        if args.tsv:
            params["tsv-dir"] = args.tsv
        sink = graph.add_component(mine[0].sink_component_classes["analyze"], "sink", params)
    if args.ctf or args.mux:
        # a muxer in front: sink.ctf.fs has one input (it still writes one file per
        # stream); with --mux the analysis sink gets the muxed sequence
        mux = graph.add_component(bt2.find_plugin("utils").filter_component_classes["muxer"], "mux")
        for i in range(args.streams):
            graph.connect_ports(src.output_ports["out%s" % (i or "")], mux.input_ports["in%d" % i])
        graph.connect_ports(mux.output_ports["out"], sink.input_ports["in"])
    else:
        for i in range(args.streams):
            # the analysis sink adds an input port ("in1", "in2"...) each time one is connected
            graph.connect_ports(src.output_ports["out%s" % (i or "")], sink.input_ports["in%s" % (i or "")])
    try:
        graph.run()
    except bt2._Error as exc:  # pylint: disable=protected-access
        print("synth.py: graph failed: %s" % " | ".join(str(c.message) for c in exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
