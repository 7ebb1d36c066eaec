#!/bin/bash
# latency_counts.sh - "ipclab ipc latency" traced with scripts/ipclab-trace: exact event
# counts (2*(N+W)*R msg_send and msg_recv, R run_begin/run_end, nothing discarded) and
# which process emitted them (process mode: the main process and one responder per
# repeat, each with half the messages; thread mode: one process).
# LTTng is required: if no session daemon can be started the cases FAIL.
# Usage: tests/trace/latency_counts.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRACE=$REPO/scripts/ipclab-trace
COUNT=$REPO/scripts/ipclab-trace-count
NTRACE=0
# bound for one traced run (seconds): session setup and teardown included
TRACE_TIMEOUT=${TRACE_TIMEOUT:-300}

# traced OUTVAR CMD...: run CMD under ipclab-trace into a fresh directory under $T; the
# directory in OUTVAR, COMMAND's pid (via a pid file written before exec) in $T/pid.
# Fails the case unless the run was really traced.
traced() {
	local _var=$1 _dir
	shift
	NTRACE=$((NTRACE + 1))
	_dir=$T/trace-$NTRACE
	printf -v "$_var" '%s' "$_dir"
	if [ ! -x "$TRACE" ] || [ ! -x "$COUNT" ]; then
		fail "scripts/ipclab-trace or scripts/ipclab-trace-count missing or not executable"
		return 1
	fi
	rm -f "$T/pid"
	# the wrapper records its pid, then execs COMMAND: that pid is COMMAND's vpid
	# shellcheck disable=SC2016
	RUN_TIMEOUT=$TRACE_TIMEOUT run "$TRACE" --out "$_dir" --name "ipclabtest" --provider "$TL_BUILD/lib/libipclab-tp.so" --quiet -- \
		bash -c 'echo $$ >"$1"; shift; exec "$@"' wrapper "$T/pid" "$@"
	if [ ! -s "$_dir/ipclab-trace.json" ]; then
		fail "ipclab-trace wrote no $_dir/ipclab-trace.json (exit $RC: $(head -n 2 "$T/err" | paste -sd'|' -))"
		return 1
	fi
	if ! jcheck "$_dir/ipclab-trace.json" 'd["traced"] is True'; then
		fail "not traced: LTTng unavailable? $(grep -m1 'ipclab-trace' "$T/err")"
		return 1
	fi
	return 0
}

# count_events DIR: ipclab-trace-count --json DIR into $T/count.json
count_events() {
	if ! "$COUNT" "$1" --json >"$T/count.json" 2>"$T/count.err"; then
		fail "ipclab-trace-count $1 failed: $(head -n 1 "$T/count.err")"
		return 1
	fi
}

# case_latency MODE N W R
case_latency() {
	local mode=$1 n=$2 w=$3 r=$4 dir
	traced dir "$IPCLAB" ipc latency --mode "$mode" --iterations "$n" --warmup "$w" --repeat "$r" \
		--json="$T/r.json" --quiet || return
	expect_rc 0 "traced ipc latency" || return
	jcheck "$dir/ipclab-trace.json" 'd["exit_code"] == 0'
	jcheck "$T/r.json" 'd["exit_code"] == 0' 'd["results"]["traced"] is True' \
		'd["sysinfo"]["trace_status"] == "traced"' "d['results']['rtt']['count'] == $n * $r"
	count_events "$dir" || return
	# the events ipclab-trace embedded are the ones the counter finds
	jcheck "$dir/ipclab-trace.json" "d['events'] == json.load(open('$T/count.json'))"
	local msgs=$((2 * (n + w) * r)) main
	main=$(cat "$T/pid")
	jcheck "$T/count.json" \
		'd["complete"] is True' \
		'd["discarded_events"] == 0 and d["discarded_packets"] == 0' \
		"d['by_name'].get('ipclab_msg:msg_send') == $msgs" \
		"d['by_name'].get('ipclab_msg:msg_recv') == $msgs" \
		"d['by_name'].get('ipclab_run:run_begin') == $r" \
		"d['by_name'].get('ipclab_run:run_end') == $r" \
		"d['total'] == 2 * $msgs + 2 * $r" \
		"list(d['by_name_vpid']['ipclab_run:run_begin']) == ['$main']" \
		"list(d['by_name_vpid']['ipclab_run:run_end']) == ['$main']"
	# per-process message counts
	local vp="(set(d['by_name_vpid']['ipclab_msg:msg_send']) | set(d['by_name_vpid']['ipclab_msg:msg_recv']))"
	local per="(lambda p: d['by_name_vpid']['ipclab_msg:msg_send'].get(p, 0) + d['by_name_vpid']['ipclab_msg:msg_recv'].get(p, 0))"
	if [ "$mode" = thread ]; then
		jcheck "$T/count.json" "$vp == {'$main'}"
	else
		# the main process sends and receives half the messages; every repeat forks one
		# responder that carries 2*(N+W) of them
		jcheck "$T/count.json" \
			"len($vp) == 1 + $r" \
			"'$main' in $vp" \
			"$per('$main') == $msgs" \
			"d['by_name_vpid']['ipclab_msg:msg_send']['$main'] == $msgs // 2" \
			"all($per(p) == 2 * ($n + $w) for p in $vp - {'$main'})" \
			"sum($per(p) for p in $vp - {'$main'}) == $msgs"
	fi
	rm -f "$T/r.json"
}

# core overhead traced: exactly iterations*repeat probe events; JSON says traced
case_overhead_traced() {
	local dir
	traced dir "$IPCLAB" core overhead --iterations 1000 --repeat 3 --json="$T/o.json" --quiet || return
	expect_rc 0 "traced core overhead" || return
	jcheck "$T/o.json" 'd["results"]["traced"] is True' 'd["results"]["tracepoint_events"] == 3000'
	count_events "$dir" || return
	jcheck "$T/count.json" 'd["complete"] is True' \
		'd["by_name"].get("ipclab_run:probe") == 3000' \
		'd["total"] == 3000'
	rm -f "$T/o.json"
}

# core overhead untraced (plain run): the JSON says traced false, no events promised
case_overhead_untraced() {
	run "$IPCLAB" core overhead --iterations 1000 --repeat 3 --json --quiet
	expect_rc 0 "core overhead" || return
	jcheck "$T/out" 'd["results"]["traced"] is False' 'd["results"]["tracepoint_events"] == 0' \
		'd["sysinfo"]["tracing_loaded"] is False'
}

# ipclab-trace passes COMMAND's exit status through (a usage error: 2)
case_exit_status() {
	local dir
	traced dir "$IPCLAB" ipc latency --iterations 0 || return
	expect_rc 2 "traced ipc latency --iterations 0"
	jcheck "$dir/ipclab-trace.json" 'd["exit_code"] == 2'
}

# contexts: vpid and vtid on every event by default; --procname adds the thread name
# (the main thread is "ipclab", the responder thread "ipclab-resp")
case_contexts() {
	local dir
	traced dir "$IPCLAB" ipc latency --mode thread --iterations 5 --warmup 0 --quiet || return
	expect_rc 0 "traced ipc latency" || return
	jcheck "$dir/ipclab-trace.json" 'd["contexts"] == ["vpid", "vtid"]'
	babeltrace2 "$dir" >"$T/text" 2>"$T/text.err" || fail "babeltrace2 failed: $(head -n 1 "$T/text.err")"
	[ "$(grep -c 'ipclab_msg:msg_send: { cpu_id = [0-9]* }, { vpid = [0-9]*, vtid = [0-9]* }, {' "$T/text")" -eq 10 ] ||
		fail "want 10 msg_send events with exactly the vpid and vtid contexts: $(grep -m1 msg_send "$T/text")"
	dir=$T/trace-procname
	RUN_TIMEOUT=$TRACE_TIMEOUT run "$TRACE" --out "$dir" --name ipclabtest --provider "$TL_BUILD/lib/libipclab-tp.so" --procname --quiet -- \
		"$IPCLAB" ipc latency --mode thread --iterations 5 --warmup 0 --quiet
	expect_rc 0 "ipclab-trace --procname" || return
	jcheck "$dir/ipclab-trace.json" 'd["traced"] is True' 'd["contexts"] == ["vpid", "vtid", "procname"]' \
		'd["events"]["by_name"]["ipclab_msg:msg_send"] == 10'
	babeltrace2 "$dir" >"$T/text" 2>"$T/text.err" || fail "babeltrace2 failed: $(head -n 1 "$T/text.err")"
	grep -q 'vtid = [0-9]*, procname = "ipclab" }, { transport = "pipe", chan = 0' "$T/text" ||
		fail "no procname \"ipclab\" on the main thread's send"
	grep -q 'procname = "ipclab-resp" }, { transport = "pipe", chan = 1' "$T/text" ||
		fail "no procname \"ipclab-resp\" on the responder's send"
	rm -rf "$dir" "$T/text"
}

# case_all_transports MODE: every transport, traced in one session (one ipclab run each,
# in sequence): for each, exactly N+W messages per direction sent, received and paired by
# the analysis plugin from the trace alone, none unmatched, nothing discarded.
case_all_transports() {
	local mode=$1 n=40 w=5 dir ts tl
	ts=$("$IPCLAB" ipc transports --json | "$PY" -c 'import json,sys; print(" ".join(t["name"] for t in json.load(sys.stdin)["results"]["transports"] if t["supported"]))')
	[ -n "$ts" ] || { fail "no supported transport listed"; return; }
	read -ra tl <<<"$ts"
	# shellcheck disable=SC2016
	traced dir bash -c 'ipclab=$1 mode=$2 n=$3 w=$4; shift 4
		for t in "$@"; do "$ipclab" ipc latency --transport "$t" --mode "$mode" --iterations "$n" \
			--warmup "$w" --quiet >/dev/null || exit 1; done' all "$IPCLAB" "$mode" "$n" "$w" "${tl[@]}" || return
	expect_rc 0 "traced latency over every transport" || return
	count_events "$dir" || return
	local nt=${#tl[@]}
	jcheck "$T/count.json" "d['by_name'].get('ipclab_msg:msg_send') == 2 * $((n + w)) * $nt" \
		"d['by_name'].get('ipclab_msg:msg_recv') == 2 * $((n + w)) * $nt" "d['discarded_events'] == 0"
	if ! "$REPO/scripts/ipclab-analyze" "$dir" --json "$T/ana.json" --quiet \
		--plugin-path "$TL_BUILD/lib/babeltrace2/plugins" 2>"$T/ana.err"; then
		fail "ipclab-analyze failed: $(head -n 1 "$T/ana.err")"
		return
	fi
	jcheck "$T/ana.json" "sorted({x['transport'] for x in d['messages']['by_direction']}) == sorted('$ts'.split())" \
		"all(x['sends'] == x['recvs'] == x['matched'] == $((n + w)) and x['unmatched_sends'] == 0 for x in d['messages']['by_direction'])"
}

run_case trace_latency_process_r1 case_latency process 500 50 1
run_case trace_latency_process_r3 case_latency process 300 30 3
run_case trace_latency_thread_r2 case_latency thread 400 40 2
run_case trace_overhead_traced case_overhead_traced
run_case trace_overhead_untraced case_overhead_untraced
run_case trace_exit_status case_exit_status
run_case trace_contexts case_contexts
run_case trace_all_transports_process case_all_transports process
run_case trace_all_transports_thread case_all_transports thread
finish
