#!/bin/bash
# task_footprint.sh - "ipclab task footprint": points at 0,1,2,4,..,N idle tasks (N
# included), totals grow with the task count, a process costs more Pss, Rss and page
# tables than a thread; --max out of range exits 2; nothing left behind.
# Usage: tests/integration/task_footprint.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# case_points MAX EXPECTED_LIST
case_points() {
	run "$IPCLAB" task footprint --max "$1" --json --quiet
	expect_rc 0 "task footprint --max $1" || return
	local p='d["results"]["points"]' s='d["results"]["slope_kb_per_task"]'
	jcheck "$T/out" "${ENVELOPE[@]}" \
		"d['params']['max'] == $1" \
		"[q['tasks'] for q in ${p}] == $2" \
		"all(q[k][f] > 0 for q in $p for k in ('process', 'thread') for f in ('rss_kb', 'pss_kb', 'pte_kb'))" \
		"all(${p}[i + 1]['process']['rss_kb'] > ${p}[i]['process']['rss_kb'] for i in range(len(${p}) - 1))" \
		"${p}[-1]['process']['pss_kb'] > ${p}[0]['process']['pss_kb'] and ${p}[-1]['thread']['rss_kb'] >= ${p}[0]['thread']['rss_kb']" \
		"all(isinstance(${s}[k][f], float) for k in ('process', 'thread') for f in ('rss_kb', 'pss_kb', 'private_kb', 'pte_kb'))" \
		"${s}['process']['rss_kb'] > ${s}['process']['pss_kb']" \
		"${s}['process']['pte_kb'] > ${s}['thread']['pte_kb']"
	# a process costs more than a thread (the demonstration); not in an ASan build
	[ -n "$ASAN_RT" ] || jcheck "$T/out" "${s}['process']['pss_kb'] > ${s}['thread']['pss_kb'] > 0" \
		'd["results"]["pss_ratio_process_over_thread"] > 1'
}

case_human() {
	run "$IPCLAB" task footprint --max 4
	expect_rc 0 "task footprint (human)" || return
	grep -q '^task footprint: up to 4 idle tasks' "$T/out" || fail "no header: $(head -n 1 "$T/out")"
	grep -q '^per extra task (slope, KiB): process Rss' "$T/out" || fail "no slope line"
}

case_bad_options() {
	local v
	for v in 0 1025 -1 abc ""; do
		expect_usage "$IPCLAB" task footprint --max "$v"
		grep -q -- '--max' "$T/err" || fail "--max '$v': message does not name the option"
	done
	expect_usage "$IPCLAB" task footprint --iterations 5
}

run_case task_footprint_max8 with_orphan_check case_points 8 '[0, 1, 2, 4, 8]'
run_case task_footprint_max5 with_orphan_check case_points 5 '[0, 1, 2, 4, 5]'
run_case task_footprint_max64 with_orphan_check case_points 64 '[0, 1, 2, 4, 8, 16, 32, 64]'
[ -z "$ASAN_RT" ] || skip_case task_footprint_pss_process_over_thread "ASan build: the sanitizer's shadow memory and per-thread fake stacks change what a task costs; process vs thread memory is compared in the normal build"
run_case task_footprint_human case_human
run_case task_footprint_bad_options case_bad_options
finish
