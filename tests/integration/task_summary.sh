#!/bin/bash
# task_summary.sh - "ipclab task summary": one table (terminal and JSON) of process vs
# thread: creation, context switch, memory per task, crash isolation and, unless --no-ipc,
# the pipe round trip of "ipc latency" run in-process; nothing left behind.
# Usage: tests/integration/task_summary.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

METRICS='["creation to start, p50", "creation to reaped, p50", "context switch, 0 KiB working set",
 "memory per extra idle task, Pss", "memory per extra idle task, Rss", "page tables per extra idle task",
 "one worker crashes (NULL write)"]'

case_json() {
	run "$IPCLAB" task summary --json --quiet
	expect_rc 0 "task summary --json" || return
	[ "$(head -c 1 "$T/out")" = "{" ] || fail "stdout is not the JSON alone"
	jcheck "$T/out" "${ENVELOPE[@]}" 'd["experiment"] == "task summary"' \
		"[r['metric'] for r in d['results']['rows']] == $METRICS + ['pipe round trip (ipc latency), p50']" \
		'all(set(r) == {"metric", "unit", "process", "thread", "process_over_thread"} for r in d["results"]["rows"])' \
		'all(r["process"] > 0 and r["thread"] > 0 and r["process_over_thread"] > 0 for r in d["results"]["rows"] if r["unit"] == "ns" and "context switch" not in r["metric"])' \
		'all(r["process"] > 0 and isinstance(r["thread"], (int, float)) and (r["process_over_thread"] is None) == (r["thread"] == 0) for r in d["results"]["rows"] if r["unit"] == "KiB")' \
		'all(isinstance(r["process"], (int, float)) for r in d["results"]["rows"] if r["unit"] != "outcome")' \
		'd["results"]["rows"][6]["process"] == "worker killed by signal 11 (SIGSEGV), parent survives"' \
		'd["results"]["rows"][6]["thread"] == "whole process killed by signal 11 (SIGSEGV)"' \
		'all(c["pass"] for c in d["results"]["checks"]) and len(d["results"]["checks"]) == 3' \
		'all(c["pass"] for c in d["results"]["details"]["isolation"]["checks"])' \
		'd["results"]["details"]["spawn"]["fork"]["reaped"] == 1100' \
		'd["results"]["details"]["ipc_latency"]["process"]["rtt"]["count"] == 10000' \
		'd["warnings"] == []'
	# a process costs more memory than a thread (the demonstration); not in an ASan build
	[ -n "$ASAN_RT" ] || jcheck "$T/out" 'd["results"]["rows"][3]["process"] > d["results"]["rows"][3]["thread"]'
}

case_human_no_ipc() {
	run "$IPCLAB" task summary --no-ipc
	expect_rc 0 "task summary --no-ipc" || return
	grep -q '^task summary: process vs thread' "$T/out" || fail "no header: $(head -n 1 "$T/out")"
	grep -q '^  creation to reaped, p50 ' "$T/out" || fail "no creation row"
	grep -q 'process: worker killed by signal 11 (SIGSEGV)' "$T/out" || fail "no isolation outcome"
	grep -q 'pipe round trip' "$T/out" && fail "--no-ipc still shows the pipe row"
	# the in-process ipc latency must not print its own table into ours
	grep -q 'ipc latency:' "$T/out" && fail "ipc latency's table leaked into the summary"
	return 0
}

case_human_ipc() {
	run "$IPCLAB" task summary
	expect_rc 0 "task summary" || return
	grep -q '^  pipe round trip (ipc latency), p50 ' "$T/out" || fail "no pipe row"
	grep -q 'round trip  ' "$T/out" && fail "ipc latency's table leaked into the summary"
	return 0
}

run_case task_summary_json with_orphan_check case_json
[ -z "$ASAN_RT" ] || skip_case task_summary_pss_process_over_thread "ASan build: the sanitizer's shadow memory and per-thread fake stacks change what a task costs; process vs thread memory is compared in the normal build"
run_case task_summary_human_no_ipc with_orphan_check case_human_no_ipc
run_case task_summary_human_ipc with_orphan_check case_human_ipc
finish
