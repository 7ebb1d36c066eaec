#!/bin/bash
# task_ctxsw.sh - "ipclab task ctxsw": process and thread mode on one pinned CPU give a
# context-switch estimate from exactly iterations x repeats round trips, both tasks stay
# on the CPU, the sweep covers 0..1024 KiB working sets; bad options exit 2; nothing left.
# Usage: tests/integration/task_ctxsw.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

CPU=$(awk '/^Cpus_allowed_list/ { split($2, a, /[-,]/); print a[1] }' /proc/self/status)

# case_mode MODE: one working set, two repeats
case_mode() {
	run "$IPCLAB" task ctxsw --mode "$1" --working-set 16 --iterations 500 --warmup 50 --repeat 2 --cpu "$CPU" --json --quiet
	expect_rc 0 "task ctxsw --mode $1" || return
	jcheck "$T/out" "${ENVELOPE[@]}" \
		"d['params']['mode'] == '$1' and d['params']['working_set_kb'] == 16 and d['params']['cpu'] == [$CPU, $CPU]" \
		"d['results']['cpu'] == $CPU and d['results']['cpu_seen'] == [$CPU, $CPU]" \
		'd["results"]["working_set_kb"] == 16' \
		'd["results"]["round_trip"]["count"] == 1000 and d["results"]["overhead"]["count"] == 1000' \
		'd["results"]["overhead"]["p50"] > 0 and d["results"]["round_trip"]["p50"] > 0' \
		'isinstance(d["results"]["ctxsw_ns"], float)' \
		'isinstance(d["results"]["ctxsw_mean_ns"], float) and d["results"]["repeat_rel_stddev"] >= 0' \
		'len(d["results"]["points"]) == 1 and all(c["pass"] for c in d["results"]["checks"])'
}

# the sweep: five points in order, each measured on the one CPU
case_sweep() {
	run "$IPCLAB" task ctxsw --mode thread --sweep --iterations 200 --warmup 20 --json --quiet
	expect_rc 0 "task ctxsw --sweep" || return
	jcheck "$T/out" '[p["working_set_kb"] for p in d["results"]["points"]] == [0, 16, 64, 256, 1024]' \
		'all(p["round_trip"]["count"] == 200 and p["cpu_seen"] == [p["cpu"], p["cpu"]] for p in d["results"]["points"])' \
		'd["params"]["working_set_kb"] is None and d["params"]["sweep"] is True' \
		'len(d["results"]["checks"]) == 10 and all(c["pass"] for c in d["results"]["checks"])'
}

case_human() {
	run "$IPCLAB" task ctxsw --mode process --iterations 300 --warmup 10
	expect_rc 0 "task ctxsw (human)" || return
	grep -q '^task ctxsw: process mode, CPU [0-9]*, 300 round trips' "$T/out" || fail "no header: $(head -n 1 "$T/out")"
	grep -q -E '^ +0 +-?[0-9]+ ' "$T/out" || fail "no row for 0 KiB"
}

case_bad_options() {
	local v
	for v in 65537 -1 abc ""; do
		expect_usage "$IPCLAB" task ctxsw --working-set "$v"
		grep -q -- '--working-set' "$T/err" || fail "--working-set '$v': message does not name the option"
	done
	expect_usage "$IPCLAB" task ctxsw --sweep --working-set 16 --json
	expect_usage "$IPCLAB" task ctxsw --cpu 0,1 --json
	expect_usage "$IPCLAB" task ctxsw --mode bogus
	expect_usage "$IPCLAB" task ctxsw --iterations 0
}

run_case task_ctxsw_process with_orphan_check case_mode process
run_case task_ctxsw_thread with_orphan_check case_mode thread
run_case task_ctxsw_sweep with_orphan_check case_sweep
run_case task_ctxsw_human case_human
run_case task_ctxsw_bad_options case_bad_options
finish
