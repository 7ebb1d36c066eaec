#!/bin/bash
# analyze_plugin.sh - the babeltrace2 sink.ipclab.analyze plugin on a synthetic trace
# with known answers (tests/fixtures/synth.py): every analysis (message and signal pairing,
# locks, lost updates, tasks, bus states) finds exactly what the scenario contains, both
# fed in memory and read back from a CTF trace, from one stream or merged by the sink
# from several; discard records make the result
# incomplete; TSV files; composition with babeltrace2's trimmer (run and convert forms);
# parameter errors; state stays bounded. No LTTng needed.
# Usage: tests/integration/analyze_plugin.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PLUGIN_DIR=$TL_BUILD/lib/babeltrace2/plugins
SYNTH=$REPO/tests/fixtures/synth.py
BT2PY=/usr/bin/python3 # the interpreter with the bt2 bindings (python3-bt2)
T0=1700000000000000000  # the scenario's origin (synth.py T0), ns

# need_plugin: fail the case unless the plugin is built
need_plugin() {
	[ -f "$PLUGIN_DIR/babeltrace-plugin-ipclab.so" ] && return 0
	fail "no plugin at $PLUGIN_DIR (make BUILD=... analyze)"
	return 1
}

# synth ARGS...: run synth.py (bounded), failing the case on error
synth() {
	run "$BT2PY" "$SYNTH" "$@"
	expect_rc 0 "synth.py $*"
}

# make_ctf: the scenario as a fresh CTF trace in $T/ctf
make_ctf() {
	rm -rf "$T/ctf"
	synth --ctf "$T/ctf"
}

# EXACT: what the scenario's analysis must say (see synth.py scenario() and expect())
EXACT=(
	'd["schema"] == "ipclab-analysis/1"'
	'd["complete"] is True and d["discarded_events"] == 0 and d["discarded_packets"] == 0'
	'd["events"]["total"] == d["events"]["ipclab"] == 63'
	'd["events"]["by_name"]["ipclab_msg:msg_send"] == 9'
	'd["warnings"] == []'
	'[(r["experiment"], r["variant"], r["warmup"], r["status"]) for r in d["runs"]] == [("ipc latency", "pipe", 1, 0), ("sync race", "none", 0, 0)]'
	# messages: 8 matched, 1 send never received, 1 receive without send
	'(lambda m: (m["sends"], m["recvs"], m["matched"], m["unmatched_sends"], m["unmatched_recvs"]) == (9, 9, 8, 1, 1))(d["messages"])'
	'd["messages"]["in_flight_peak"] == 1'
	'(lambda x: x["latency"]["count"] == 4 and x["latency"]["min"] == 1000 and x["latency"]["max"] == 1300 and x["latency"]["mean"] == 1150)(d["messages"]["by_direction"][0])'
	'(lambda x: x["latency_measured"]["count"] == 3 and x["latency_measured"]["min"] == 1100 and x["latency_measured"]["mean"] == 1200)(d["messages"]["by_direction"][0])'
	'(lambda x: x["direction"] == 1 and x["latency"]["count"] == 4 and x["latency"]["min"] == x["latency"]["max"] == 500)(d["messages"]["by_direction"][1])'
	'[(c["chan"], c["warmup"], c["unmatched_sends"], c["unmatched_recvs"]) for c in d["messages"]["channels"]] == [(0, 1, 1, 0), (1, 1, 0, 1)]'
	# the experiment's own stamps: its latencies exactly (the unmatched receive included),
	# and the tracer's view 70 ns longer for every message both saw
	'[(x["experiment"]["count"], x["experiment"]["min"], x["experiment"]["max"], x["experiment"]["mean"]) for x in d["messages"]["by_direction"]] == [(3, 1030, 1230, 1130), (4, 430, 600, 472.5)]'
	'[(x["tracing_offset"]["count"], x["tracing_offset"]["min"], x["tracing_offset"]["max"]) for x in d["messages"]["by_direction"]] == [(3, 70, 70), (3, 70, 70)]'
	# signals: SIGUSR1 5000 and 3000 ns (one of the two seq-1 sends coalesced); SIGINT to a group, 2 receivers
	'(lambda s: (s["sends"], s["receives"], s["matched"], s["unmatched_sends"], s["unmatched_receives"], s["group_sends"], s["child_reaps"]) == (4, 4, 4, 1, 0, 1, 1))(d["signals"])'
	'{x["signo"]: (x["latency"]["count"], x["latency"]["min"], x["latency"]["max"]) for x in d["signals"]["by_signo"]} == {2: (2, 1000, 2000), 10: (2, 3000, 5000)}'
	'sorted(next(x for x in d["signals"]["by_signo"] if x["signo"] == 10)["methods"]) == ["handler", "sigwaitinfo"]'
	'{x["signo"]: (x["experiment"]["count"], x["experiment"]["min"], x["experiment"]["max"], x["tracing_offset"]["count"], x["tracing_offset"]["max"]) for x in d["signals"]["by_signo"]} == {2: (0, 0, 0, 0, 0), 10: (2, 2950, 4950, 2, 50)}'
	# locks: mutex 0 waits 100/1100, holds 1000/500; sem 1 handed over (released by another thread)
	'[(l["lock"], l["kind"], l["wait"]["count"], l["wait"]["min"], l["wait"]["max"], l["hold"]["min"], l["hold"]["max"]) for l in d["locks"]["locks"]] == [(0, "mutex", 2, 100, 1100, 500, 1000), (1, "sem", 1, 200, 200, 700, 700)]'
	'd["locks"]["locks"][1]["cross_thread_releases"] == 1 and d["locks"]["locks"][0]["cross_thread_releases"] == 0'
	'd["locks"]["pending_requests"] == 0 and d["locks"]["still_held"] == 0'
	# timed acquisitions: a hand-over (from the other thread's release) and a wait (from the own request)
	'[(l["experiment"]["count"], l["experiment"]["max"], l["tracing_offset"]["count"], l["tracing_offset"]["max"]) for l in d["locks"]["locks"]] == [(1, 40, 1, 10), (1, 180, 1, 20)]'
	'{t["vtid"]: (t["waits"], t["wait_total_ns"], t["holds"], t["hold_total_ns"]) for t in d["locks"]["threads"]} == {11: (1, 100, 1, 1000), 12: (1, 1100, 1, 500), 13: (1, 200, 1, 700)}'
	# race: 3 increments from 0 to 2: one lost update, one overlapping read-write window
	'(lambda r: (r["segments_total"], r["increments"], r["lost_updates"]) == (1, 3, 1))(d["races"])'
	'(lambda s: (s["initial"], s["final"], s["lost_updates"], s["overlapping_windows"], s["workers_seen"], s["begin_ns"] - '"$T0"', s["end_ns"] - '"$T0"') == (0, 2, 1, 1, 2, 400010, 400060))(d["races"]["segments"][0])'
	# tasks: one complete timeline (200 / 1000 / 300 ns), one never reaped, one proxied
	# (its start and exit emitted after the reap: complete, but out of the stage durations)
	'(lambda t: (t["spawned"], t["started"], t["exited"], t["reaped"], t["complete_timelines"], t["incomplete"], t["proxied_events"]) == (3, 3, 2, 2, 2, 1, 2))(d["tasks"])'
	'(lambda t: (t["spawn_to_start"]["count"], t["spawn_to_start"]["min"], t["spawn_to_start"]["max"], t["start_to_exit"]["count"], t["start_to_exit"]["max"], t["exit_to_reaped"]["count"], t["exit_to_reaped"]["max"]) == (2, 100, 200, 1, 1000, 1, 300))(d["tasks"])'
	'(lambda t: (t["spawn_to_reaped"]["count"], t["spawn_to_reaped"]["min"], t["spawn_to_reaped"]["max"]) == (2, 800, 1500))(d["tasks"])'
	# bus: closed intervals per (role, state), the open final states
	'{(b["role"], b["state"]): (b["count"], b["total_ns"]) for b in d["bus"]["states"]} == {("driver", "waiting"): (1, 1000), ("driver", "driving"): (1, 2000), ("driver", "at_station"): (1, 3000), ("conductor", "selling"): (1, 4000), ("conductor", "announcing"): (1, 500)}'
	'sorted((f["role"], f["state"]) for f in d["bus"]["final_states"]) == [("conductor", "off"), ("driver", "off")]'
	'd["time_range"]["begin_ns"] == '"$T0"' and d["time_range"]["end_ns"] == '"$T0"' + 503820'
)

# SHAPE: every latency summary has exactly the experiments' keys
SHAPE=(
	'all(sorted(s) == sorted(["count", "min", "mean", "stddev", "p50", "p90", "p99", "p999", "max", "overflow"]) for s in [x["latency"] for x in d["messages"]["by_direction"]] + [x["latency_measured"] for x in d["messages"]["by_direction"]] + [c["latency"] for c in d["messages"]["channels"]] + [x["latency"] for x in d["signals"]["by_signo"]] + [l[k] for l in d["locks"]["locks"] for k in ("wait", "hold", "experiment", "tracing_offset")] + [x[k] for x in d["messages"]["by_direction"] + d["signals"]["by_signo"] for k in ("experiment", "tracing_offset")] + [d["tasks"][k] for k in ("spawn_to_start", "start_to_exit", "exit_to_reaped", "spawn_to_reaped")] + [b["duration"] for b in d["bus"]["states"]])'
	'all(s["min"] <= s["p50"] <= s["p90"] <= s["p99"] <= s["p999"] <= s["max"] for s in [x["latency"] for x in d["messages"]["by_direction"]] + [x["latency"] for x in d["signals"]["by_signo"]])'
)

# in memory (Python source -> sink): every answer exact
case_exact_memory() {
	need_plugin || return
	synth --analyze "$T/r.json" --plugin-dir "$PLUGIN_DIR" || return
	jcheck "$T/r.json" "${EXACT[@]}" "${SHAPE[@]}"
}

# written as CTF, read back by babeltrace2 (source.ctf.fs -> muxer -> sink): the same result
case_exact_ctf() {
	need_plugin || return
	make_ctf || return
	run babeltrace2 --plugin-path="$PLUGIN_DIR" "$T/ctf" -c sink.ipclab.analyze -p "output=\"$T/r.json\""
	expect_rc 0 "babeltrace2 ... -c sink.ipclab.analyze" || return
	[ -s "$T/out" ] && fail "the sink wrote to stdout although output= was given"
	jcheck "$T/r.json" "${EXACT[@]}" "${SHAPE[@]}"
	rm -rf "$T/ctf"
}

# without output=, the JSON goes to stdout
case_stdout() {
	need_plugin || return
	make_ctf || return
	run babeltrace2 --plugin-path="$PLUGIN_DIR" "$T/ctf" -c sink.ipclab.analyze
	expect_rc 0 "sink without output=" || return
	jcheck "$T/out" 'd["messages"]["matched"] == 8'
	rm -rf "$T/ctf"
}

# discarded-events / discarded-packets records: counted, and the result is incomplete
case_discards() {
	need_plugin || return
	synth --analyze "$T/r.json" --plugin-dir "$PLUGIN_DIR" --discarded-events 5 --discarded-packets 2 || return
	jcheck "$T/r.json" 'd["complete"] is False' 'd["discarded_events"] == 5' 'd["discarded_packets"] == 2' \
		'd["messages"]["matched"] == 8'
}

# tsv-dir: one file per analysis, '#' headers, the rows the scenario implies
case_tsv() {
	need_plugin || return
	synth --analyze "$T/r.json" --tsv "$T/tsv" --plugin-dir "$PLUGIN_DIR" || return
	local f
	for f in messages messages_hist signals signals_hist locks lock_threads races bus_states bus_intervals tasks; do
		[ -s "$T/tsv/$f.tsv" ] || fail "no $f.tsv"
		head -n 1 "$T/tsv/$f.tsv" | grep -q '^#' || fail "$f.tsv does not start with a '#' header"
	done
	[ "$(grep -vc '^#' "$T/tsv/messages.tsv")" -eq 2 ] || fail "messages.tsv: want 2 channel rows"
	[ "$(grep -vc '^#' "$T/tsv/bus_intervals.tsv")" -eq 5 ] || fail "bus_intervals.tsv: want 5 intervals"
	[ "$(grep -vc '^#' "$T/tsv/tasks.tsv")" -eq 3 ] || fail "tasks.tsv: want 3 timelines"
	grep -q $'^0\t300\t500000\t500200\t501200\t501500\t0$' "$T/tsv/tasks.tsv" ||
		fail "tasks.tsv lacks the complete timeline of seq 0: $(grep -v '^#' "$T/tsv/tasks.tsv" | head -n 1)"
	grep -q $'^2\t302\t503000\t-1\t-1\t503800\t1$' "$T/tsv/tasks.tsv" ||
		fail "tasks.tsv lacks the proxied timeline of seq 2"
	grep -q $'^driver\t201\twaiting\t200000\t201000\t1000$' "$T/tsv/bus_intervals.tsv" ||
		fail "bus_intervals.tsv lacks the driver's waiting interval"
	# gnuplot blocks: 4 (2 directions x all/measured), separated by two blank lines
	[ "$(grep -c '^# histogram:' "$T/tsv/messages_hist.tsv")" -eq 4 ] || fail "messages_hist.tsv: want 4 blocks"
	rm -rf "$T/tsv"
}

# composition: babeltrace2 run with source.ctf.fs -> muxer -> trimmer -> sink, and the
# convert form with --begin/--end: only the events of the range are analysed
case_trimmer() {
	need_plugin || return
	make_ctf || return
	run babeltrace2 --plugin-path="$PLUGIN_DIR" run \
		--component=src:source.ctf.fs --params="inputs=[\"$T/ctf\"]" \
		--component=mux:filter.utils.muxer \
		--component=trim:filter.utils.trimmer --params='begin="1700000000.000300000",end="1700000000.000399999"' \
		--component=ana:sink.ipclab.analyze --params="output=\"$T/run.json\"" \
		--connect=src:mux --connect=mux:trim --connect=trim:ana
	expect_rc 0 "babeltrace2 run ... trimmer ... sink.ipclab.analyze" || return
	# the lock section only (9 events between 300000 and 302900)
	jcheck "$T/run.json" 'd["events"]["total"] == 9' 'd["messages"]["sends"] == 0' \
		'len(d["locks"]["locks"]) == 2' 'd["bus"]["transitions"] == 0'
	run babeltrace2 --plugin-path="$PLUGIN_DIR" "$T/ctf" --begin=1700000000.000300000 --end=1700000000.000399999 \
		-c sink.ipclab.analyze -p "output=\"$T/conv.json\""
	expect_rc 0 "babeltrace2 TRACE --begin --end -c sink.ipclab.analyze" || return
	jcheck "$T/conv.json" 'd["events"]["total"] == 9' 'd["locks"]["locks"][0]["wait"]["count"] == 2'
	rm -rf "$T/ctf" "$T/run.json" "$T/conv.json"
}

# parameter errors fail at initialisation with a message naming the problem
case_params() {
	need_plugin || return
	make_ctf || return
	run babeltrace2 --plugin-path="$PLUGIN_DIR" "$T/ctf" -c sink.ipclab.analyze -p 'outptu="x.json"'
	[ "$RC" -ne 0 ] || fail "a misspelt parameter was accepted"
	[ "$RC" -lt 128 ] || fail "babeltrace2 died (exit $RC) on a misspelt parameter"
	grep -q "unknown parameter 'outptu'" "$T/err" || fail "no message about the unknown parameter"
	run babeltrace2 --plugin-path="$PLUGIN_DIR" "$T/ctf" -c sink.ipclab.analyze -p "output=\"$T/no/such/dir/r.json\""
	[ "$RC" -ne 0 ] || fail "an unwritable output file was accepted"
	grep -q "cannot write the output file" "$T/err" || fail "no message about the output file"
	run babeltrace2 --plugin-path="$PLUGIN_DIR" "$T/ctf" -c sink.ipclab.analyze -p 'output=3'
	[ "$RC" -ne 0 ] || fail "a non-string output was accepted"
	[ "$RC" -lt 128 ] || fail "babeltrace2 died (exit $RC) on a non-string output"
	grep -q "parameter 'output' must be a string" "$T/err" || fail "no message about the parameter type"
	rm -rf "$T/ctf"
}

# bounded state: 200000 more events (probes) change no pairing table's peak
case_bounded() {
	need_plugin || return
	synth --analyze "$T/r.json" --plugin-dir "$PLUGIN_DIR" --probes 200000 || return
	# the probes (not analysed) come last: the time range still ends at the last one
	jcheck "$T/r.json" 'd["events"]["by_name"]["ipclab_run:probe"] == 200000' \
		'd["time_range"]["end_ns"] == '"$T0"' + 600000 + 199999' \
		'd["messages"]["in_flight_peak"] == 1' 'd["signals"]["in_flight_peak"] <= 2' \
		'd["locks"]["in_flight_peak"] <= 2' 'd["tasks"]["in_flight_peak"] <= 2'
}

# several inputs (one stream per port, events by vtid): the sink merges them by time
# itself and finds exactly the same answers; discard records of one input still count
case_merge_memory() {
	need_plugin || return
	local n
	for n in 2 5; do
		synth --analyze "$T/r$n.json" --plugin-dir "$PLUGIN_DIR" --streams "$n" || return
		jcheck "$T/r$n.json" "${EXACT[@]}" "${SHAPE[@]}" || return
	done
	synth --analyze "$T/r.json" --plugin-dir "$PLUGIN_DIR" --streams 3 --discarded-events 5 --discarded-packets 2 || return
	jcheck "$T/r.json" 'd["complete"] is False' 'd["discarded_events"] == 5' 'd["discarded_packets"] == 2' \
		'd["messages"]["matched"] == 8'
}

# a CTF trace with 3 stream files: scripts/ipclab-analyze connects every stream port of
# source.ctf.fs to the sink (no muxer) and gets the exact answers, the same bytes as the
# CLI's muxer path; --print-command shows that graph
case_merge_ctf() {
	need_plugin || return
	rm -rf "$T/ctf"
	synth --ctf "$T/ctf" --streams 3 || return
	[ "$(find "$T/ctf" -maxdepth 1 -type f -name 'stream*' | wc -l)" -eq 3 ] || fail "want 3 stream files"
	run "$REPO/scripts/ipclab-analyze" --plugin-path "$PLUGIN_DIR" --print-command --json "$T/m.json" "$T/ctf"
	expect_rc 0 "ipclab-analyze --print-command" || return
	grep -q ' run -c src0:source.ctf.fs .* -x src0:sink -c sink:sink.ipclab.analyze' "$T/out" ||
		fail "unexpected graph: $(head -c 300 "$T/out")"
	run "$REPO/scripts/ipclab-analyze" --plugin-path "$PLUGIN_DIR" --quiet --json "$T/m.json" "$T/ctf"
	expect_rc 0 "ipclab-analyze on 3 streams" || return
	jcheck "$T/m.json" "${EXACT[@]}" "${SHAPE[@]}" || return
	run babeltrace2 --plugin-path="$PLUGIN_DIR" "$T/ctf" -c sink.ipclab.analyze -p "output=\"$T/x.json\""
	expect_rc 0 "babeltrace2 TRACE -c sink.ipclab.analyze" || return
	cmp -s "$T/m.json" "$T/x.json" || fail "the sink's merge and the CLI's muxer give different results"
	rm -rf "$T/ctf"
}

# equal timestamps across streams (timestamps rounded to 1 or 100 us; stream ids run
# against the port order): the sink's merge takes them in filter.utils.muxer's order
# (trace, stream class, stream id), so both give the same bytes
case_merge_ties() {
	need_plugin || return
	local tick
	for tick in 1000 100000; do
		synth --analyze "$T/own.json" --plugin-dir "$PLUGIN_DIR" --streams 4 --tick "$tick" || return
		synth --analyze "$T/mux.json" --plugin-dir "$PLUGIN_DIR" --streams 4 --tick "$tick" --mux || return
		cmp -s "$T/own.json" "$T/mux.json" ||
			fail "tick $tick ns: the sink's merge and the muxer differ: $(diff "$T/own.json" "$T/mux.json" | head -n 4 | paste -sd' ' -)"
	done
}

run_case analyze_plugin_exact_memory case_exact_memory
run_case analyze_plugin_merge_memory case_merge_memory
run_case analyze_plugin_merge_ctf case_merge_ctf
run_case analyze_plugin_merge_ties case_merge_ties
run_case analyze_plugin_exact_ctf case_exact_ctf
run_case analyze_plugin_stdout case_stdout
run_case analyze_plugin_discards case_discards
run_case analyze_plugin_tsv case_tsv
run_case analyze_plugin_trimmer case_trimmer
run_case analyze_plugin_params case_params
run_case analyze_plugin_bounded case_bounded
finish
