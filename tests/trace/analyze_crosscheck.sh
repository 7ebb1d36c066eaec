#!/bin/bash
# analyze_crosscheck.sh - the trace analysis (sink.ipclab.analyze via scripts/ipclab-analyze)
# finds exactly the experiments' own numbers, on one traced session running
#   ipclab ipc latency --iterations 2000 --mode thread --cpu 0
#   ipclab signal latency --iterations 1000 --warmup 0
#   ipclab sync handoff --iterations 1000
#   ipclab sync semaphore
#   ipclab core overhead (traced: the cost of one recorded tracepoint, printed only)
# Counts agree exactly: 2*(N+W) messages sent and received, N+W matched per direction, N
# after the warm-up, nothing unmatched; every signal sent is received and matched.
# Latencies agree EXACTLY, not within a tolerance: each receive (msg_recv, sig_receive)
# and each timed lock_acquire carries the experiment's own two clock reads, so the
# analysis rebuilds the very values the experiment put in its histograms, with the same
# histogram code (src/core/hist.c is compiled into the plugin): count, min, p50, p90,
# p99, p99.9 and max must be identical (mean and stddev are sums in another order).
#   ipc latency oneway_ab/oneway_ba  = messages.by_direction[0/1].experiment
#   signal latency oneway_ab/ba      = signals.by_signo[ping/pong].experiment
#   sync handoff oneway              = locks (1, mutex).experiment
#   sync semaphore wait              = locks (0, sem).experiment
# The tracer's own view (event timestamps) of the same intervals differs from the
# experiment's by what tracing one interval costs (the send event before the sender's
# read, the receive event after the receiver's): the analysis measures that per interval
# ("tracing_offset"), printed here as '#' lines beside one tracepoint's cost, never
# compared with a constant.
# LTTng is required: if no session daemon can be started the cases FAIL.
# Usage: tests/trace/analyze_crosscheck.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRACE=$REPO/scripts/ipclab-trace
ANALYZE=$REPO/scripts/ipclab-analyze
PLUGIN_DIR=$TL_BUILD/lib/babeltrace2/plugins
PROVIDER=$TL_BUILD/lib/libipclab-tp.so
# bound for the traced run (seconds)
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
			"$1" sync handoff --iterations "$3" --json="$4/hand.json" --quiet
			"$1" sync semaphore --json="$4/sem.json" --quiet
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

# same NAME INPROC_JSON INPROC_EXPR ANA_EXPR: the experiment's summary (INPROC_EXPR over
# INPROC_JSON) and the analysis's "experiment" view (ANA_EXPR over the analysis, an object
# with "experiment" and "tracing_offset") are identical; the tracer's offset is printed
same() {
	local got want off
	want=$(jget "$2" "[$3[k] for k in $KEYS]") || return 1
	got=$(jget "$T/ana.json" "[$4['experiment'][k] for k in $KEYS]") || return 1
	off=$(jget "$T/ana.json" "' '.join('%s %s' % (k, $4['tracing_offset'][k]) for k in ('count', 'p50', 'p99', 'max'))")
	echo "# $1: experiment $want (count min p50 p90 p99 p999 max, ns), identical in the trace: $got"
	echo "# $1: tracer's view - experiment's, per interval: $off ns (one recorded tracepoint: $(jget "$T/ovh.json" 'round(d["results"]["tracepoint_ns"], 1)') ns)"
	[ "$got" = "$want" ] || fail "$1: the trace gives $got, the experiment $want"
}
KEYS='("count", "min", "p50", "p90", "p99", "p999", "max")'

# every one-way latency of ipc latency, rebuilt from the trace, is the experiment's
case_msg_exact() {
	same "message one-way A->B" "$T/lat.json" 'd["results"]["oneway_ab"]' \
		'next(x for x in d["messages"]["by_direction"] if x["direction"] == 0)'
	same "message one-way B->A" "$T/lat.json" 'd["results"]["oneway_ba"]' \
		'next(x for x in d["messages"]["by_direction"] if x["direction"] == 1)'
	jcheck "$T/ana.json" "all(x['tracing_offset']['count'] == $N for x in d['messages']['by_direction'])"
}

# every signal sent is received and paired; every delivery latency is the experiment's
case_sig() {
	local per ping pong
	per=$(jget "$T/sig.json" 'd["results"]["signals_per_repeat"] * d["params"]["repeat"]')
	jcheck "$T/ana.json" \
		"d['signals']['sends'] == d['signals']['receives'] == d['signals']['matched'] == $per" \
		'd["signals"]["unmatched_sends"] == 0 and d["signals"]["unmatched_receives"] == 0' || return
	# ping (A->B) and pong (B->A) signal numbers, e.g. SIGUSR1 = 10 and SIGUSR2 = 12 on x86
	ping=$("$PY" -c "import signal; print(int(signal.Signals['$(jget "$T/sig.json" 'd["params"]["ping_signal"]')']))")
	pong=$("$PY" -c "import signal; print(int(signal.Signals['$(jget "$T/sig.json" 'd["params"]["pong_signal"]')']))")
	same "signal one-way A->B (signal $ping)" "$T/sig.json" 'd["results"]["oneway_ab"]' \
		"next(x for x in d['signals']['by_signo'] if x['signo'] == $ping)"
	same "signal one-way B->A (signal $pong)" "$T/sig.json" 'd["results"]["oneway_ba"]' \
		"next(x for x in d['signals']['by_signo'] if x['signo'] == $pong)"
}

# sync handoff's one-way hand-over and sync semaphore's acquire wait are the experiments'
case_lock_exact() {
	jcheck "$T/hand.json" 'd["exit_code"] == 0' "d['results']['oneway']['count'] == $NSIG" || return
	jcheck "$T/sem.json" 'd["exit_code"] == 0' 'd["results"]["wait"]["count"] > 0' || return
	same "sync handoff one way (lock 1)" "$T/hand.json" 'd["results"]["oneway"]' \
		'next(l for l in d["locks"]["locks"] if (l["lock"], l["kind"]) == (1, "mutex"))'
	same "sync semaphore acquire wait" "$T/sem.json" 'd["results"]["wait"]' \
		'next(l for l in d["locks"]["locks"] if (l["lock"], l["kind"]) == (0, "sem"))'
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
	run_case analyze_crosscheck_msg_exact case_msg_exact
	run_case analyze_crosscheck_signals case_sig
	run_case analyze_crosscheck_locks case_lock_exact
	run_case analyze_crosscheck_event_counts case_event_counts
else
	for c in msg_counts msg_exact signals locks event_counts; do
		notok_case "analyze_crosscheck_$c" "no traced session to analyse"
	done
fi
finish
