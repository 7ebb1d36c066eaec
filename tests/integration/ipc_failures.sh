#!/bin/bash
# ipc_failures.sh - one failure, one line (issue 15 item 12) for every ipc experiment:
# the watchdog (--timeout 1 on a run that cannot finish in time) is exit 1 and its line is
# the only one, whatever the sides were doing, with no child and nothing named left; bad
# options (unknown, out of range, a value holding a newline) are exit 2 with exactly one
# line and nothing on stdout; a full /dev/shm does not concern the transports (anonymous
# shared memory): every one still runs (ipc shm --named on a full /dev/shm is
# ipc_shm.sh's). Killed peers: tests/lib.sh case_kill_responder (every transport),
# ipc_throughput.sh (killed receiver), ipc_shm.sh (killed writer or reader).
# Usage: tests/integration/ipc_failures.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# case_watchdog ARGS...: `ipclab ipc ARGS --timeout 1 --quiet` outlives its watchdog
case_watchdog() {
	local kids
	bg_start PID "$T/wout" "$T/werr" "$IPCLAB" ipc "$@" --timeout 1 --quiet
	wait_exit "$PID" 60
	[ "$RC" = 1 ] || fail "exit $RC, want 1: $(paste -sd'|' "$T/werr")"
	if ! { [ "$(lines "$T/werr")" -eq 1 ] && grep -q 'FAIL: watchdog expired after 1 s' "$T/werr"; }; then
		fail "want the watchdog's line alone: $(paste -sd'|' "$T/werr")"
	fi
	kids=$(children "$PID")
	[ -z "$kids" ] || fail "children left: $kids"
	rm -f "$T/wout" "$T/werr"
}

# case_usage EXP: bad command lines of `ipclab ipc EXP` (expect_usage: exit 2, one line,
# nothing on stdout); a newline inside a value stays on that line
case_usage() {
	local e=$1
	expect_usage "$IPCLAB" ipc "$e" --no-such-option
	expect_usage "$IPCLAB" ipc "$e" --timeout 0
	expect_usage "$IPCLAB" ipc "$e" --timeout $'1\n2'
	grep -q -F '1\n2' "$T/err" || fail "the newline in the value is not escaped: $(paste -sd'|' "$T/err")"
	expect_usage "$IPCLAB" ipc "$e" stray-argument
	case $e in
	latency | throughput | floor)
		expect_usage "$IPCLAB" ipc "$e" --transport $'no\nsuch'
		expect_usage "$IPCLAB" ipc "$e" --cpu 0,99999
		expect_usage "$IPCLAB" ipc "$e" --size 99999999999
		;;
	shm) expect_usage "$IPCLAB" ipc "$e" --lock none,mutex ;;
	queue) expect_usage "$IPCLAB" ipc "$e" --capacity 11 ;;
	esac
	return 0
}

# case_full_dev_shm: every transport runs on a full /dev/shm (a 1-page tmpfs, filled, in a
# private mount namespace): exit 0, nothing left there
case_full_dev_shm() {
	command -v unshare >/dev/null || { skip "no unshare(1)"; return; }
	if ! unshare -m true 2>/dev/null; then
		skip "cannot create a mount namespace here (needs root)"
		return
	fi
	# shellcheck disable=SC2016
	run unshare -m bash -c 'mount -t tmpfs -o size=4k ipclab-test /dev/shm || exit 99
		dd if=/dev/zero of=/dev/shm/fill bs=4k count=1 2>/dev/null
		rc=0
		for t in $("$0" ipc transports --json --quiet | python3 -c "import json, sys
print(\" \".join(x[\"name\"] for x in json.load(sys.stdin)[\"results\"][\"transports\"] if x[\"supported\"]))"); do
			"$0" ipc latency --transport "$t" --iterations 50 --warmup 5 --quiet >/dev/null || { echo "$t: exit $?"; rc=1; }
		done
		rm -f /dev/shm/fill
		echo "left: $(ls -A /dev/shm)"
		exit $rc' "$IPCLAB"
	expect_rc 0 "every transport on a full /dev/shm ($(grep -v '^left:' "$T/out" | paste -sd' ' -))" || return
	grep -q '^left: $' "$T/out" || fail "left in the full /dev/shm: $(grep '^left:' "$T/out")"
}

run_case ipc_failures_watchdog_latency_process case_watchdog latency --transport pipe --mode process \
	--iterations 100000000 --warmup 0
run_case ipc_failures_watchdog_latency_thread case_watchdog latency --transport shm-spin --mode thread \
	--iterations 100000000 --warmup 0
run_case ipc_failures_watchdog_latency_rt_loop case_watchdog latency --transport shm-sysv-sem --mode process \
	--loop rt-tests --iterations 100000000 --warmup 0
run_case ipc_failures_watchdog_throughput case_watchdog throughput --transport unix-stream --mode process \
	--count 100000000 --warmup 0
run_case ipc_failures_watchdog_shm case_watchdog shm --mode process --lock mutex --record-words 64 \
	--iterations 100000000
run_case ipc_failures_watchdog_floor case_watchdog floor --transport shm-spin --iterations 100000000
for e in latency floor throughput queue shm transports; do
	run_case "ipc_failures_usage_$e" case_usage "$e"
done
run_case ipc_failures_full_dev_shm case_full_dev_shm
finish
