#!/bin/bash
# signal_latency.sh - "ipclab signal latency": every method x mode x signal kind runs
# with tiny iterations and counts exactly (rtt count == iterations * repeat, one-way
# both ways), so does --loop sigwaittest (rt-tests' loop), the table and --hist render,
# pinning is reported per repeat, bad input
# exits 2 listing the valid choices, a killed responder makes the run fail (exit 1) with
# no child left, a killed initiator takes its responder with it.
# Usage: tests/integration/signal_latency.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

METHODS=(handler sigwaitinfo sigtimedwait signalfd sigsuspend)
N=30
W=5
R=2

# case_run MODE METHOD KIND: JSON run, exact counts, the parameters echoed
case_run() {
	local mode=$1 m=$2 kind=$3
	run "$IPCLAB" signal latency --mode "$mode" --method "$m" --signal "$kind" \
		--iterations "$N" --warmup "$W" --repeat "$R" --timeout 60 --json
	expect_rc 0 "signal latency --mode $mode --method $m --signal $kind" || return
	local ping=SIGUSR1 pong=SIGUSR2 call=kill
	if [ "$kind" = rt ]; then ping=SIGRTMIN+1 pong=SIGRTMIN+2 call=sigqueue; fi
	if [ "$mode" = thread ]; then
		if [ "$kind" = rt ]; then call=pthread_sigqueue; else call=tgkill; fi
	fi
	jcheck "$T/out" "${ENVELOPE[@]}" \
		'd["experiment"] == "signal latency" and d["exit_code"] == 0' \
		"d['params']['mode'] == '$mode' and d['params']['method'] == '$m' and d['params']['signal'] == '$kind'" \
		"d['params']['ping_signal'] == '$ping' and d['params']['pong_signal'] == '$pong'" \
		"d['params']['send_call'] == '$call'" \
		"d['params']['iterations'] == $N and d['params']['warmup'] == $W and d['params']['repeat'] == $R" \
		"d['results']['rtt']['count'] == $N * $R" \
		"d['results']['oneway_ab']['count'] == $N * $R and d['results']['oneway_ba']['count'] == $N * $R" \
		"d['results']['oneway']['count'] == 2 * $N * $R" \
		"d['results']['signals_per_repeat'] == 2 * ($N + $W)" \
		"len(d['results']['repeats']) == $R" \
		'0 < d["results"]["rtt"]["min"] <= d["results"]["rtt"]["p50"] <= d["results"]["rtt"]["max"]' \
		'd["results"]["oneway"]["min"] <= d["results"]["rtt"]["min"]' \
		'd["results"]["rtt"]["overflow"] == 0'
}

# the human table and the gnuplot blocks (four, named, with a '#' header each)
case_human_hist() {
	run "$IPCLAB" signal latency --method signalfd --signal rt --iterations 50 --warmup 5 \
		--hist="$T/h.tsv" --timeout 60
	expect_rc 0 "signal latency --hist=FILE" || return
	grep -q '^signal latency: signalfd, rt signals (SIGRTMIN+1/SIGRTMIN+2 by sigqueue), process mode' "$T/out" ||
		fail "no header line: $(head -n 1 "$T/out")"
	local label
	for label in 'round trip' 'one-way ' 'one-way A->B' 'one-way B->A'; do
		grep -q "^$label" "$T/out" || fail "no '$label' row"
	done
	[ -s "$T/h.tsv" ] || {
		fail "no histogram file"
		return
	}
	local names
	names=$(sed -n 's/^# histogram: //p' "$T/h.tsv" | paste -sd, -)
	[ "$names" = rtt,oneway,oneway_ab,oneway_ba ] || fail "histogram blocks: '$names', want rtt,oneway,oneway_ab,oneway_ba"
	# rows are bucket<TAB>count with counts summing to the samples
	awk -F'\t' '!/^#/ && NF == 2 { s += $2 } END { exit !(s == 50 + 50 + 100 + 50) }' "$T/h.tsv" ||
		fail "histogram counts do not add up to 250 (50 rtt + 100 one-way + 2 x 50)"
}

# pinned peers: the CPUs each side ran on are reported per repeat
case_pinned() {
	local ncpu
	ncpu=$(nproc)
	local b=$((ncpu > 1 ? 1 : 0))
	run "$IPCLAB" signal latency --mode thread --method sigwaitinfo --cpu "0,$b" --iterations 20 --warmup 2 \
		--repeat 2 --timeout 60 --json
	expect_rc 0 "signal latency --cpu 0,$b" || return
	jcheck "$T/out" "d['params']['cpu'] == [0, $b]" \
		"all(r['cpu']['initiator'] == [0, 0] and r['cpu']['responder'] == [$b, $b] for r in d['results']['repeats'])"
}

# --loop sigwaittest: rt-tests sigwaittest's loop, exact counts, what it used in params
case_loop_sigwaittest() {
	local mode=$1 call=kill
	[ "$mode" = process ] || call=pthread_kill
	run "$IPCLAB" signal latency --loop sigwaittest --interval-us 0 --mode "$mode" \
		--iterations "$N" --warmup "$W" --repeat "$R" --timeout 60 --json
	expect_rc 0 "signal latency --loop sigwaittest --mode $mode" || return
	jcheck "$T/out" "${ENVELOPE[@]}" \
		"d['params']['loop'] == 'sigwaittest' and d['params']['method'] == 'sigwait'" \
		"d['params']['interval_us'] == 0 and d['params']['send_call'] == '$call'" \
		"d['params']['ping_signal'] == 'SIGUSR1' and d['params']['pong_signal'] == 'SIGUSR2'" \
		"d['results']['rtt']['count'] == $N * $R" \
		"d['results']['oneway_ab']['count'] == $N * $R and d['results']['oneway_ba']['count'] == $N * $R" \
		"d['results']['signals_per_repeat'] == 2 * ($N + $W)" \
		'isinstance(d["results"]["mlockall"], bool)'
	run "$IPCLAB" signal latency --loop sigwaittest --iterations 5 --warmup 0 --timeout 60
	expect_rc 0 "signal latency --loop sigwaittest (table)" || return
	grep -q "^loop: rt-tests sigwaittest's" "$T/out" || fail "the table does not say which loop: $(head -n 2 "$T/out")"
}

case_bad_input() {
	expect_usage "$IPCLAB" signal latency --loop sigwaittest --method handler
	grep -q -- '--method' "$T/err" || fail "--loop sigwaittest --method: $(cat "$T/err")"
	expect_usage "$IPCLAB" signal latency --loop sigwaittest --signal rt
	expect_usage "$IPCLAB" signal latency --interval-us 10
	grep -q -- '--loop sigwaittest' "$T/err" || fail "--interval-us alone: $(cat "$T/err")"
	expect_usage "$IPCLAB" signal latency --loop sigwaittest --interval-us 1000001
	expect_usage "$IPCLAB" signal latency --loop rt-tests
	grep -q 'ipclab|sigwaittest' "$T/err" || fail "--loop rt-tests: choices not listed: $(cat "$T/err")"
	expect_usage "$IPCLAB" signal latency --method bogus
	grep -q 'handler|sigwaitinfo|sigtimedwait|signalfd|sigsuspend' "$T/err" ||
		fail "--method bogus: choices not listed: $(cat "$T/err")"
	expect_usage "$IPCLAB" signal latency --signal realtime
	grep -q 'std|rt' "$T/err" || fail "--signal realtime: choices not listed: $(cat "$T/err")"
	expect_usage "$IPCLAB" signal latency --mode fork
	grep -q 'process|thread' "$T/err" || fail "--mode fork: choices not listed: $(cat "$T/err")"
	local v
	for v in 0 -1 abc 10x ""; do
		expect_usage "$IPCLAB" signal latency --iterations "$v"
	done
	expect_usage "$IPCLAB" signal latency --cpu 0,0,0
	expect_usage "$IPCLAB" signal latency --method
	expect_usage "$IPCLAB" signal latency --size 64
	expect_usage "$IPCLAB" signal latency extra
	run "$IPCLAB" signal latency --help
	expect_rc 0 "--help"
	grep -q -- '--method=M' "$T/out" || fail "--help does not list --method"
	grep -q -- '--signal=S' "$T/out" || fail "--help does not list --signal"
}

# responder_busy PID: true once PID has a child named ipclab-sigresp that has switched or
# run enough to be past the start barrier, in the ping-pong loop; sets CHILD
responder_busy() {
	local c comm sw ns
	for c in $(children "$1"); do
		comm=
		{ read -r comm <"/proc/$c/comm"; } 2>/dev/null
		[ "$comm" = ipclab-sigresp ] || continue
		sw=$(awk '/ctxt_switches/ { s += $2 } END { print s + 0 }' "/proc/$c/status" 2>/dev/null)
		ns=$(awk '{ print $1 }' "/proc/$c/schedstat" 2>/dev/null)
		if [ "${sw:-0}" -gt 200 ] || [ "${ns:-0}" -gt 50000000 ]; then
			CHILD=$c
			return 0
		fi
	done
	return 1
}

# gone PID: PID no longer runs (a zombie or reaped); vanished PID: reaped
gone() {
	local s
	s=$(proc_state "$1")
	[ -z "$s" ] || [ "$s" = Z ]
}
vanished() { [ -z "$(proc_state "$1")" ]; }

# killed responder: the initiator notices (SIGCHLD, whatever the method), says so, exits 1
case_killed_peer() {
	local m=$1
	CHILD=
	bg_start PID "$T/bg.out" "$T/bg.err" "$IPCLAB" signal latency --method "$m" --iterations 100000000 \
		--warmup 0 --timeout 60 --quiet
	if ! poll_until 20 responder_busy "$PID"; then
		fail "no busy ipclab-sigresp child of $PID within 20 s"
		return
	fi
	kill -KILL "$CHILD"
	if ! wait_exit "$PID" 10; then
		fail "ipclab did not exit within 10 s of its responder's death"
		return
	fi
	[ "$RC" -eq 1 ] || fail "exit $RC after the responder was killed, want 1 ($(paste -sd'|' "$T/bg.err"))"
	grep -q 'responder was killed by signal 9' "$T/bg.err" ||
		fail "stderr does not say the responder was killed: $(paste -sd'|' "$T/bg.err")"
	[ "$(lines "$T/bg.err")" -eq 1 ] || fail "one failure, one line: $(paste -sd'|' "$T/bg.err")"
	grep -q -i watchdog "$T/bg.err" && fail "noticed by the watchdog, not by the experiment"
	poll_until 5 gone "$CHILD" || fail "responder $CHILD still exists"
	[ -z "$(children "$PID")" ] || fail "children left: $(children "$PID" | paste -sd, -)"
}

# the watchdog ends a run that cannot finish: its line is the only one, whatever the
# sides were doing (issue 15: one failure, one line), and nothing is left
case_watchdog() {
	local mode=$1 loop=$2
	run "$IPCLAB" signal latency --mode "$mode" --loop "$loop" --iterations 100000000 --warmup 0 \
		--timeout 1 --quiet
	expect_rc 1 "signal latency --mode $mode --loop $loop --timeout 1" || return
	grep -q 'watchdog expired' "$T/err" || fail "no watchdog line: $(paste -sd'|' "$T/err")"
	[ "$(lines "$T/err")" -eq 1 ] || fail "one failure, one line: $(paste -sd'|' "$T/err")"
}

# killed initiator: its responder dies with it (PR_SET_PDEATHSIG), nothing is left
case_killed_initiator() {
	CHILD=
	bg_start PID "$T/bg.out" "$T/bg.err" "$IPCLAB" signal latency --method sigsuspend --signal rt \
		--iterations 100000000 --warmup 0 --timeout 60
	if ! poll_until 20 responder_busy "$PID"; then
		fail "no busy ipclab-sigresp child of $PID within 20 s"
		return
	fi
	kill -KILL "$PID"
	wait_exit "$PID" 10 || fail "ipclab survived SIGKILL"
	poll_until 10 gone "$CHILD" || fail "responder $CHILD survived its initiator"
	# orphaned, it is reaped by init (or a subreaper): wait for that, not for a zombie
	poll_until 10 vanished "$CHILD" || fail "responder $CHILD is still a zombie (state $(proc_state "$CHILD"))"
}

# no leak, no invalid access: the two asynchronous methods, both modes
case_valgrind() {
	if ! command -v valgrind >/dev/null 2>&1; then
		skip "valgrind not installed"
		return 0
	fi
	if ldd "$IPCLAB" 2>/dev/null | grep -q -E 'lib(a|t)san'; then
		skip "a sanitizer build: valgrind cannot run it"
		return 0
	fi
	local mode m
	for mode in process thread; do
		for m in handler signalfd; do
			run valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
				--child-silent-after-fork=yes "$IPCLAB" signal latency --mode "$mode" --method "$m" \
				--signal rt --iterations 100 --warmup 10 --repeat 2 --timeout 120 --json
			[ "$RC" -eq 0 ] || fail "valgrind: --mode $mode --method $m exit $RC: $(grep -m 3 '==' "$T/err" | paste -sd'|' -)"
		done
	done
}

for mode in process thread; do
	for m in "${METHODS[@]}"; do
		for kind in std rt; do
			run_case "signal_latency_${mode}_${m}_${kind}" case_run "$mode" "$m" "$kind"
		done
	done
done
run_case signal_latency_loop_sigwaittest_process case_loop_sigwaittest process
run_case signal_latency_loop_sigwaittest_thread case_loop_sigwaittest thread
run_case signal_latency_human_hist case_human_hist
run_case signal_latency_pinned case_pinned
run_case signal_latency_bad_input case_bad_input
for m in "${METHODS[@]}"; do
	run_case "signal_latency_killed_responder_$m" case_killed_peer "$m"
done
run_case signal_latency_killed_initiator case_killed_initiator
for mode in process thread; do
	run_case "signal_latency_watchdog_${mode}" case_watchdog "$mode" ipclab
done
run_case signal_latency_watchdog_sigwaittest case_watchdog process sigwaittest
run_case signal_latency_valgrind case_valgrind
finish
