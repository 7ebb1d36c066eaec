#!/bin/bash
# signal_alarm.sh - "ipclab signal alarm": every semantic check passes (alarm replaces
# and returns the seconds left, alarm(0) cancels, SIGALRM's default action kills, pause()
# returns -1/EINTR), the lateness of each timer is summarised with exactly --ticks
# samples, the table and --hist render, bad input exits 2.
# Usage: tests/integration/signal_alarm.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=tests/integration/signal_peer.bash
. "$(dirname "${BASH_SOURCE[0]}")/signal_peer.bash"

CHECKS="['alarm_first', 'alarm_replace', 'alarm_is_itimer_real', 'alarm_cancel', 'alarm_cancelled', 'sigalrm_default_terminates', 'pause_eintr', 'pause_eintr_sa_restart']"
TIMERS="['itimer_real', 'posix_sigev_signal', 'posix_sigev_thread_id', 'clock_nanosleep_abs']"

# case_json PERIOD_US TICKS [ARGS...]
case_json() {
	local p=$1 k=$2
	shift 2
	run "$IPCLAB" signal alarm --period-us "$p" --ticks "$k" --timeout 60 --json "$@"
	expect_rc 0 "signal alarm --period-us $p --ticks $k $*" || return
	jcheck "$T/out" "${ENVELOPE[@]}" \
		'd["experiment"] == "signal alarm" and d["exit_code"] == 0' \
		'd["results"]["effect"]["shown"] is True and d["results"]["effect"]["why"]' \
		"d['params']['period_us'] == $p and d['params']['ticks'] == $k" \
		"sorted(d['results']['checks']) == sorted($CHECKS)" \
		'all(c["pass"] is True for c in d["results"]["checks"].values())' \
		'all({"what", "expected", "actual", "pass"} <= set(c) for c in d["results"]["checks"].values())' \
		'd["results"]["checks"]["alarm_first"]["actual"] == 0' \
		'd["results"]["checks"]["alarm_replace"]["actual"] in (9, 10)' \
		'd["results"]["checks"]["alarm_cancel"]["actual"] in (4, 5)' \
		'd["results"]["checks"]["sigalrm_default_terminates"]["actual"].startswith("killed by signal 14")' \
		'd["results"]["checks_failed"] == 0' \
		"sorted(d['results']['lateness']) == sorted($TIMERS)" \
		"all(t['lateness']['count'] == $k and t['signals'] == $k for t in d['results']['lateness'].values())" \
		'all(t["lateness"]["min"] <= t["lateness"]["p50"] <= t["lateness"]["max"] for t in d["results"]["lateness"].values())' \
		'all(t["overruns"] >= 0 and t["early"] == 0 for t in d["results"]["lateness"].values())' \
		'd["results"]["sigalrm_death_ns"] >= 10000000'
}

# the human rendering and the four gnuplot blocks
case_human_hist() {
	run "$IPCLAB" signal alarm --ticks 20 --hist="$T/h.tsv" --timeout 60
	expect_rc 0 "signal alarm --ticks 20 --hist=FILE" || return
	local n
	n=$(grep -c -E '^  [a-z_]+ +PASS ' "$T/out")
	[ "$n" -eq 8 ] || fail "$n PASS lines, want 8: $(paste -sd'|' "$T/out")"
	grep -q FAIL "$T/out" && fail "a FAIL line: $(grep FAIL "$T/out")"
	local t
	for t in itimer_real posix_sigev_signal posix_sigev_thread_id clock_nanosleep_abs; do
		grep -q -E "^$t +20 " "$T/out" || fail "no lateness row for $t"
	done
	[ "$(sed -n 's/^# histogram: //p' "$T/h.tsv" | paste -sd, -)" = \
		itimer_real,posix_sigev_signal,posix_sigev_thread_id,clock_nanosleep_abs ] ||
		fail "histogram blocks: $(grep '^# histogram' "$T/h.tsv" | paste -sd'|' -)"
	awk -F'\t' '!/^#/ && NF == 2 { s += $2 } END { exit !(s == 80) }' "$T/h.tsv" ||
		fail "histogram counts do not add up to 4 x 20"
}

case_bad_input() {
	local v
	for v in 0 19 1000001 -5 1ms ""; do
		expect_usage "$IPCLAB" signal alarm --period-us "$v"
		grep -q -- '--period-us' "$T/err" || fail "--period-us '$v': message does not name the option"
	done
	for v in 0 1000001 x; do
		expect_usage "$IPCLAB" signal alarm --ticks "$v"
	done
	# 1 s x 1000 ticks x 4 timers does not fit in a 60 s watchdog
	expect_usage "$IPCLAB" signal alarm --period-us 1000000 --ticks 1000 --timeout 60
	grep -q -- '--timeout' "$T/err" || fail "the duration check does not point at --timeout: $(cat "$T/err")"
	expect_usage "$IPCLAB" signal alarm --mode thread
	expect_usage "$IPCLAB" signal alarm --iterations 3
}

# case_timer_child SIG: a lateness child killed (KILL: the parent says which, exit 1) or
# stopped (STOP: the watchdog ends the run, exit 1) mid-run; one line, the child reaped
case_timer_child() {
	local want='watchdog expired'
	[ "$1" = KILL ] && want='FAIL: the [a-z_]+ lateness child \(pid @PID@\) was killed by signal 9'
	peer_ended "$1" ipclab-sigtimer "$want" "$IPCLAB" signal alarm --ticks 500 --period-us 1000 --timeout 7 --quiet
}

case_valgrind() {
	if ! command -v valgrind >/dev/null 2>&1; then
		skip "valgrind not installed"
		return 0
	fi
	if ldd "$IPCLAB" 2>/dev/null | grep -q -E 'lib(a|t)san'; then
		skip "a sanitizer build: valgrind cannot run it"
		return 0
	fi
	run valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
		--child-silent-after-fork=yes "$IPCLAB" signal alarm --ticks 20 --timeout 120 --json
	[ "$RC" -eq 0 ] || fail "valgrind: exit $RC: $(grep -m 3 '==' "$T/err" | paste -sd'|' -)"
}

run_case signal_alarm_default case_json 1000 500
run_case signal_alarm_fast case_json 200 50
run_case signal_alarm_one_tick case_json 5000 1
run_case signal_alarm_pinned case_json 1000 50 --cpu 0
run_case signal_alarm_human_hist case_human_hist
run_case signal_alarm_bad_input case_bad_input
run_case signal_alarm_timer_child_killed case_timer_child KILL
run_case signal_alarm_timer_child_stopped_watchdog case_timer_child STOP
run_case signal_alarm_valgrind case_valgrind
finish
