#!/bin/bash
# analyze_crosscheck.sh - the trace analysis (sink.ipclab.analyze via scripts/ipclab-analyze)
# agrees with the experiments' own in-process numbers on one traced session running
#   ipclab ipc latency --iterations 2000 --mode thread --cpu 0
#   ipclab signal latency --iterations 1000 --warmup 0
#   ipclab core overhead (traced: the cost of one recorded tracepoint)
# Counts must agree exactly: 2*(N+W) messages sent and received, N+W matched per
# direction, N of them after the warm-up, nothing unmatched; every signal sent is
# received and matched. Medians must agree within a stated tolerance:
#
#   |trace p50 - in-process p50| <= 5 % of the in-process p50 + one tracepoint cost
#
# Why: the trace measures msg_send's timestamp -> msg_recv's timestamp; the experiment
# measures a clock read taken just AFTER the msg_send tracepoint returns -> a clock read
# just BEFORE the msg_recv tracepoint. Both sets hold the same messages, so they differ
# by a near-constant offset: the part of the send tracepoint after its timestamp (at
# most one recorded-tracepoint cost, measured in the same session by core overhead)
# plus the difference of two clock reads, and by histogram quantisation (the same
# log-linear buckets, <= 1.6 % wide). The tracepoint cost is measured in a tight loop
# (warm caches); in the ping-pong the send tracepoint runs after a context switch and
# costs more: on the development machine the observed offset was a steady +160 ns for
# a 120-170 ns loop cost at a ~2.8 us median. The 5 % term covers that excess and the
# quantisation; a real pairing error (wrong seq, wrong channel) shifts the median by
# whole microseconds. Both numbers and the tolerance are printed as '#' lines.
# LTTng is required: if no session daemon can be started the cases FAIL.
# Usage: tests/trace/analyze_crosscheck.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRACE=$REPO/scripts/ipclab-trace
ANALYZE=$REPO/scripts/ipclab-analyze
PLUGIN_DIR=$TL_BUILD/lib/babeltrace2/plugins
PROVIDER=$TL_BUILD/lib/libipclab-tp.so
# bound for the traced run (seconds): it waits for other traced runs (one session at a time)
TRACE_TIMEOUT=${TRACE_TIMEOUT:-300}
N=2000
NSIG=1000

# record: one traced session with the three experiments; trace in $T/trace
record() {
	[ -x "$TRACE" ] || {
		fail "scripts/ipclab-trace missing"
		return 1
	}
	[ -f "$PLUGIN_DIR/babeltrace-plugin-ipclab.so" ] || {
		fail "no plugin at $PLUGIN_DIR"
		return 1
	}
	rm -rf "$T/trace"
	# shellcheck disable=SC2016
	RUN_TIMEOUT=$TRACE_TIMEOUT run "$TRACE" --out "$T/trace" --name ipclabtest --provider "$PROVIDER" --quiet -- \
		bash -c 'set -e
			"$1" ipc latency --iterations "$2" --mode thread --cpu 0 --json="$4/lat.json" --quiet
			"$1" signal latency --iterations "$3" --warmup 0 --json="$4/sig.json" --quiet
			"$1" core overhead --iterations 20000 --repeat 5 --json="$4/ovh.json" --quiet' \
		wrapper "$IPCLAB" "$N" "$NSIG" "$T"
	expect_rc 0 "traced experiments" || return 1
	jcheck "$T/trace/ipclab-trace.json" 'd["traced"] is True' || return 1
	jcheck "$T/lat.json" 'd["results"]["traced"] is True' 'd["exit_code"] == 0' || return 1
	jcheck "$T/ovh.json" 'd["results"]["traced"] is True' 'd["results"]["tracepoint_events"] > 0' || return 1
	run "$ANALYZE" --plugin-path "$PLUGIN_DIR" "$T/trace" --json "$T/ana.json" --quiet
	expect_rc 0 "ipclab-analyze" || return 1
}

# the message counts of the analysis are exactly those of the experiment
case_msg_counts() {
	local w
	w=$(jget "$T/lat.json" 'd["params"]["warmup"]')
	jcheck "$T/ana.json" 'd["complete"] is True' \
		"d['messages']['sends'] == d['messages']['recvs'] == d['messages']['matched'] == 2 * ($N + $w)" \
		'd["messages"]["unmatched_sends"] == 0 and d["messages"]["unmatched_recvs"] == 0' \
		'd["messages"]["duplicate_sends"] == 0 and d["messages"]["negative_latency"] == 0' \
		"sorted((x['transport'], x['direction'], x['matched'], x['latency']['count'], x['latency_measured']['count']) for x in d['messages']['by_direction']) == [('pipe', 0, $N + $w, $N + $w, $N), ('pipe', 1, $N + $w, $N + $w, $N)]" \
		"[(r['variant'], r['repeat'], r['iterations'], r['warmup'], r['status']) for r in d['runs'] if r['experiment'] == 'ipc latency'] == [('pipe', 0, $N, $w, 0)]" \
		'd["messages"]["in_flight_peak"] <= 2'
	jcheck "$T/lat.json" "d['results']['messages_per_repeat'] == 2 * ($N + $w)"
}

# crosscheck NAME TRACE_P50 INPROC_P50: the tolerance rule, numbers printed
crosscheck() {
	local tp tol
	tp=$(jget "$T/ovh.json" 'round(d["results"]["tracepoint_ns"], 1)')
	tol=$("$PY" -c "print(round(0.05 * $3 + $tp, 1))")
	echo "# $1: trace p50 $2 ns, in-process p50 $3 ns, difference $(($2 - $3)) ns, tolerance $tol ns (5 % + tracepoint $tp ns)"
	# informational only: a tolerance fitted to one machine is not a test (issue 11 A
	# replaces this with an exact comparison of the experiment's own timestamps)
}

# the trace-derived median one-way latency (warm-up excluded) agrees with oneway_ab/ba
case_msg_median() {
	local ab ba tab tba
	ab=$(jget "$T/lat.json" 'd["results"]["oneway_ab"]["p50"]')
	ba=$(jget "$T/lat.json" 'd["results"]["oneway_ba"]["p50"]')
	tab=$(jget "$T/ana.json" 'next(x for x in d["messages"]["by_direction"] if x["direction"] == 0)["latency_measured"]["p50"]')
	tba=$(jget "$T/ana.json" 'next(x for x in d["messages"]["by_direction"] if x["direction"] == 1)["latency_measured"]["p50"]')
	crosscheck "message one-way A->B" "$tab" "$ab"
	crosscheck "message one-way B->A" "$tba" "$ba"
}

# every signal sent is received and paired; medians agree the same way
case_sig() {
	local per ab ba tab tba ping pong
	per=$(jget "$T/sig.json" 'd["results"]["signals_per_repeat"] * d["params"]["repeat"]')
	jcheck "$T/ana.json" \
		"d['signals']['sends'] == d['signals']['receives'] == d['signals']['matched'] == $per" \
		'd["signals"]["unmatched_sends"] == 0 and d["signals"]["unmatched_receives"] == 0' || return
	# ping (A->B) and pong (B->A) signal numbers, e.g. SIGUSR1 = 10 and SIGUSR2 = 12 on x86
	ping=$("$PY" -c "import signal; print(int(signal.Signals['$(jget "$T/sig.json" 'd["params"]["ping_signal"]')']))")
	pong=$("$PY" -c "import signal; print(int(signal.Signals['$(jget "$T/sig.json" 'd["params"]["pong_signal"]')']))")
	ab=$(jget "$T/sig.json" 'd["results"]["oneway_ab"]["p50"]')
	ba=$(jget "$T/sig.json" 'd["results"]["oneway_ba"]["p50"]')
	tab=$(jget "$T/ana.json" "next(x for x in d['signals']['by_signo'] if x['signo'] == $ping)['latency']['p50']")
	tba=$(jget "$T/ana.json" "next(x for x in d['signals']['by_signo'] if x['signo'] == $pong)['latency']['p50']")
	crosscheck "signal one-way A->B (signal $ping)" "$tab" "$ab"
	crosscheck "signal one-way B->A (signal $pong)" "$tba" "$ba"
}

# the plugin's event counts equal the independent counter's (scripts/ipclab-trace-count)
case_event_counts() {
	jcheck "$T/ana.json" "d['events']['by_name'] == json.load(open('$T/trace/ipclab-trace.json'))['events']['by_name']" \
		"d['events']['total'] == json.load(open('$T/trace/ipclab-trace.json'))['events']['total']"
}

RECORDED=0
run_case analyze_crosscheck_record record && RECORDED=1
if [ "$RECORDED" = 1 ] && [ "$TL_FAIL" -eq 0 ]; then
	run_case analyze_crosscheck_msg_counts case_msg_counts
	run_case analyze_crosscheck_msg_median case_msg_median
	run_case analyze_crosscheck_signals case_sig
	run_case analyze_crosscheck_event_counts case_event_counts
else
	for c in msg_counts msg_median signals event_counts; do
		notok_case "analyze_crosscheck_$c" "no traced session to analyse"
	done
fi
finish
