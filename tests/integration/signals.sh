#!/bin/bash
# signals.sh - ipclab under stress from outside: a killed responder, the watchdog,
# Ctrl-C and SIGTERM. Every path must end promptly with the documented status, a
# message, no child process and no IPC object left.
# Usage: tests/integration/signals.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

LONG=(ipc latency --iterations 100000000 --warmup 0)

# has_read PID: true once PID has read at least one byte (rchar in /proc/PID/io)
has_read() {
	local rchar
	rchar=$(awk '$1 == "rchar:" { print $2 }' "/proc/$1/io" 2>/dev/null)
	[ "${rchar:-0}" -gt 0 ]
}

# has_thread PID NAME: true if one of PID's threads is named NAME
has_thread() {
	local t comm
	for t in /proc/"$1"/task/*; do
		comm=
		{ read -r comm <"$t/comm"; } 2>/dev/null
		[ "$comm" = "$2" ] && return 0
	done
	return 1
}

# responder_ready PID: true once PID has a child named ipclab-resp that has received at
# least one message (so it is past the start barrier, in the ping-pong loop); sets CHILD
responder_ready() {
	local c comm
	for c in $(children "$1"); do
		comm=
		{ read -r comm <"/proc/$c/comm"; } 2>/dev/null
		[ "$comm" = ipclab-resp ] || continue
		if has_read "$c"; then
			CHILD=$c
			return 0
		fi
	done
	return 1
}

# start_long MODE...: start a long latency run in the background; sets PID and, once the
# responder is running (process mode), CHILD
start_long() {
	CHILD=
	bg_start PID "$T/bg.out" "$T/bg.err" "$IPCLAB" "${LONG[@]}" "$@"
}

# gone PID: true when PID no longer runs (exited and reaped by whoever its parent is)
gone() {
	local s
	s=$(proc_state "$1")
	[ -z "$s" ] || [ "$s" = Z ]
}

# killed peer: SIGKILL the responder; the initiator notices, reports it, exits 1
case_killed_peer() {
	start_long --timeout 60
	if ! poll_until 20 responder_ready "$PID"; then
		fail "no running ipclab-resp child of $PID within 20 s"
		return
	fi
	kill -KILL "$CHILD"
	if ! wait_exit "$PID" 5; then
		fail "ipclab did not exit within 5 s of its responder's death"
		return
	fi
	[ "$RC" -eq 1 ] || fail "exit $RC after the responder was killed, want 1"
	grep -q 'responder' "$T/bg.err" || fail "stderr does not name the responder: $(paste -sd'|' "$T/bg.err")"
	grep -q -i 'killed\|signal 9' "$T/bg.err" || fail "stderr does not say it was killed: $(paste -sd'|' "$T/bg.err")"
	poll_until 5 gone "$CHILD" || fail "responder $CHILD still exists"
}

# watchdog: --timeout 1 on a run that would take minutes: exit 1, says watchdog, no child
case_watchdog() {
	local mode=$1 kids=()
	start_long --timeout 1 --mode "$mode"
	if [ "$mode" = process ]; then
		if poll_until 20 responder_ready "$PID"; then kids=("$CHILD"); fi
	fi
	if ! wait_exit "$PID" 20; then
		fail "the 1 s watchdog did not end the run within 20 s"
		return
	fi
	[ "$RC" -eq 1 ] || fail "exit $RC after the watchdog, want 1"
	grep -q -i 'watchdog' "$T/bg.err" || fail "stderr does not mention the watchdog: $(paste -sd'|' "$T/bg.err")"
	local c
	for c in "${kids[@]}"; do
		poll_until 5 gone "$c" || fail "responder $c survived the watchdog"
	done
}

# case_signal SIG STATUS MODE: SIGINT (Ctrl-C) or SIGTERM to a running measurement: it dies
# by that signal (the shell sees STATUS) with its responder gone and nothing left
case_signal() {
	local sig=$1 want=$2 mode=$3 kids=()
	start_long --timeout 120 --mode "$mode"
	if [ "$mode" = process ]; then
		if ! poll_until 20 responder_ready "$PID"; then
			fail "no running ipclab-resp child of $PID within 20 s"
			return
		fi
		kids=("$CHILD")
	else
		# thread mode: the responder thread exists (it is spawned after the guard is
		# installed; before that an inherited SIG_IGN would swallow the signal)
		if ! poll_until 20 has_thread "$PID" ipclab-resp; then
			fail "no ipclab-resp thread in $PID within 20 s"
			return
		fi
	fi
	kill -"$sig" "$PID"
	if ! wait_exit "$PID" 10; then
		fail "ipclab ignored SIG$sig for 10 s"
		return
	fi
	[ "$RC" -eq "$want" ] || fail "exit status $RC after SIG$sig, want $want"
	local c
	for c in "${kids[@]}"; do
		poll_until 5 gone "$c" || fail "responder $c survived SIG$sig"
	done
}

run_case signals_killed_peer case_killed_peer
run_case signals_watchdog_process case_watchdog process
run_case signals_watchdog_thread case_watchdog thread
run_case signals_sigint_process case_signal INT 130 process
run_case signals_sigint_thread case_signal INT 130 thread
run_case signals_sigterm_process case_signal TERM 143 process
finish
