#!/bin/bash
# barrier_abort.sh - a peer process that ends before the start barrier (the testing aid
# IPCLAB_TEST_PEER_EXIT_BEFORE_BARRIER=1 makes every spawned peer process exit there)
# is noticed by the side that spawned it: the run exits 1 with one line naming the
# peer, well before its watchdog (--timeout 120: the message says which one ended it),
# writes its JSON with exit code 1, and leaves no process or IPC object behind (the
# run_case leftover check). In thread mode the aid does nothing: the run succeeds.
# Usage: tests/integration/barrier_abort.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# case_lost ARGS...: ipclab ARGS in process mode with the aid
case_lost() {
	IPCLAB_TEST_PEER_EXIT_BEFORE_BARRIER=1 run "$IPCLAB" "$@" --timeout 120 --json="$T/r.json"
	expect_rc 1 "$*" || return
	grep -q 'ended before the start barrier' "$T/err" ||
		fail "no 'ended before the start barrier' line: $(head -c 300 "$T/err")"
	grep -qi 'watchdog' "$T/err" && fail "the watchdog ended the run: $(grep -i -m1 watchdog "$T/err")"
	jcheck "$T/r.json" 'd["exit_code"] == 1'
}

# the aid has no effect on threads (they are in the process that made the barrier)
case_thread() {
	IPCLAB_TEST_PEER_EXIT_BEFORE_BARRIER=1 run "$IPCLAB" ipc latency --mode thread --iterations 50 --warmup 5 --json
	expect_rc 0 "ipc latency --mode thread with the aid" || return
	jcheck "$T/out" 'd["results"]["rtt"]["count"] == 50'
}

run_case barrier_abort_ipc_latency case_lost ipc latency --mode process --iterations 100
run_case barrier_abort_ipc_latency_mq case_lost ipc latency --mode process --transport posix-mq --iterations 100
run_case barrier_abort_ipc_throughput case_lost ipc throughput --mode process --count 1000
run_case barrier_abort_signal_latency case_lost signal latency --mode process --iterations 100
run_case barrier_abort_signal_coalesce case_lost signal coalesce --mode process --count 10
run_case barrier_abort_sync_handoff case_lost sync handoff --lock sysvsem --mode process --iterations 100
run_case barrier_abort_task_ctxsw case_lost task ctxsw --mode process --iterations 100
run_case barrier_abort_thread case_thread
finish
