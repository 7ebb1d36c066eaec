#!/bin/bash
# task_spawn.sh - "ipclab task spawn": every creation method creates, starts and reaps
# exactly warm-up + iterations tasks (spawned == started == exited 0 == reaped), the three
# latency summaries have the measured count in order, posix_spawn execs the helper and
# ipclab itself, the human table, bad options exit 2 with one line, and no process is
# left behind (no zombie, no ipclab orphan under PID 1).
# Usage: tests/integration/task_spawn.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ITER=200
WARM=10

# summary_checks KEY COUNT: a latency summary with COUNT samples and ordered percentiles
summary_checks() {
	local k="d['results']['$1']"
	printf '%s\n' \
		"${k}['count'] == $2" \
		"0 < ${k}['min'] <= ${k}['p50'] <= ${k}['p90'] <= ${k}['p99'] <= ${k}['max']" \
		"${k}['overflow'] == 0"
}

# case_method METHOD [EXTRA...]: counts, summaries, checks of one method
case_method() {
	local m=$1 checks=() ct=null
	shift
	[ "$m" = fork ] && ct="'proxy'"
	[ "${1:-}" = --child-trace ] && ct="'$2'"
	run "$IPCLAB" task spawn --method "$m" "$@" --iterations "$ITER" --warmup "$WARM" --json --quiet
	expect_rc 0 "task spawn --method $m $*" || return
	[ -s "$T/err" ] && fail "--quiet run wrote to stderr: $(head -n 1 "$T/err")"
	mapfile -t checks < <(summary_checks to_return "$ITER"; summary_checks to_start "$ITER"; summary_checks to_reaped "$ITER")
	jcheck "$T/out" "${ENVELOPE[@]}" "${checks[@]}" \
		'd["experiment"] == "task spawn" and d["exit_code"] == 0' \
		"d['params']['method'] == '$m' and d['params']['iterations'] == $ITER and d['params']['warmup'] == $WARM" \
		"d['results']['spawned'] == d['results']['started'] == d['results']['exited_ok'] == d['results']['reaped'] == $ITER + $WARM" \
		"d['results']['measured'] == $ITER" \
		"d['results']['method'] == '$m' and d['results']['backing'] == 'none' and d['results']['touch_mb'] == 0" \
		'd["results"]["to_start"]["p50"] <= d["results"]["to_reaped"]["p50"]' \
		'len(d["results"]["checks"]) >= 4 and all(c["pass"] for c in d["results"]["checks"])' \
		'd["results"]["traced"] is False' \
		"d['params']['child_trace'] == ${ct/null/None}"
}

case_posix_spawn() {
	case_method posix_spawn --exec "$1" || return
	jcheck "$T/out" "d['params']['exec'] == '$1'" 'isinstance(d["results"]["exec_path"], str)'
	if [ "$1" = nop ]; then
		jcheck "$T/out" 'd["results"]["exec_path"].endswith("/ipclab-nop")' \
			'isinstance(d["results"]["exec_static"], bool)'
		# the Makefile links it statically when libc.a exists
		if [ -e "$(cc -print-file-name=libc.a 2>/dev/null)" ]; then
			jcheck "$T/out" 'd["results"]["exec_static"] is True'
		fi
	else
		jcheck "$T/out" 'd["results"]["exec_static"] is False'
	fi
}

# "task nop" (what --exec self runs) alone: exit 0, stamps, a JSON envelope
case_nop() {
	run "$IPCLAB" task nop --json
	expect_rc 0 "task nop --json" || return
	jcheck "$T/out" "${ENVELOPE[@]}" 'd["results"]["t_start_ns"] > 0' 'd["params"]["fd"] is None'
	run "$IPCLAB" task nop --fd 2
	expect_rc 2 "task nop --fd 2"
}

# the human table names the method and has the three rows
case_human() {
	run "$IPCLAB" task spawn --method pthread --iterations 50 --warmup 0
	expect_rc 0 "task spawn --method pthread (human)" || return
	grep -q '^task spawn: pthread, 50 iterations' "$T/out" || fail "no header: $(head -n 1 "$T/out")"
	grep -q 'spawned 50, started 50, exited 0 50, reaped 50' "$T/out" || fail "no count line"
	local r
	for r in 'to return' 'to start' 'to reaped'; do
		grep -q "^  $r " "$T/out" || fail "no '$r' row"
	done
}

# --touch-mb: the creator's resident memory really grew before the fork
case_touch() {
	run "$IPCLAB" task spawn --method fork --touch-mb 64 --iterations 20 --warmup 1 --json --quiet
	expect_rc 0 "--touch-mb 64" || return
	jcheck "$T/out" 'd["params"]["touch_mb"] == 64 and d["results"]["touch_mb"] == 64' \
		'd["results"]["backing"] == "4k"' \
		'd["results"]["parent_rss_kb"] >= 64 * 1024' \
		'd["results"]["reaped"] == 21 and d["results"]["measured"] == 20'
}

case_bad_options() {
	local v
	for v in 0 1025 -1 abc 1M ""; do
		expect_usage "$IPCLAB" task spawn --touch-mb "$v"
		grep -q -- '--touch-mb' "$T/err" || fail "--touch-mb '$v': message does not name the option"
	done
	expect_usage "$IPCLAB" task spawn --method bogus
	grep -q 'fork|vfork|posix_spawn|clone|pthread|pthread_detached' "$T/err" || fail "--method bogus: choices not listed"
	expect_usage "$IPCLAB" task spawn --iterations 0
	expect_usage "$IPCLAB" task spawn --method fork --exec self --json
	expect_usage "$IPCLAB" task spawn --method posix_spawn --exec bogus
	expect_usage "$IPCLAB" task spawn --sweep --touch-mb 4 --json
	expect_usage "$IPCLAB" task spawn --hugepages
	expect_usage "$IPCLAB" task spawn --budget-ms 100
	expect_usage "$IPCLAB" task spawn --sweep --budget-ms 5
	expect_usage "$IPCLAB" task spawn --mode thread
	expect_usage "$IPCLAB" task spawn --method vfork --child-trace self
	expect_usage "$IPCLAB" task spawn --child-trace bogus
}

# FD_LIMIT N CMD...: CMD with RLIMIT_NOFILE N and nothing open above fd 2 (so the
# outcome does not depend on what the test runner holds open)
# shellcheck disable=SC2016 # expanded by the inner bash
FD_LIMIT=(bash -c 'for f in /proc/$$/fd/*; do f=${f##*/}; [ "$f" -gt 2 ] && eval "exec $f>&-"; done
	ulimit -n "$0" && exec "$@"')

# issue 15 item 10: posix_spawn keeps its result pipe above fd 3; a low RLIMIT_NOFILE is a
# limit (exit 3, one line naming it), and 7 descriptors are enough to run
case_fd_limit() {
	run "${FD_LIMIT[@]}" 7 "$IPCLAB" task spawn --method posix_spawn --iterations 5 --warmup 0 --json --quiet
	expect_rc 0 "posix_spawn with RLIMIT_NOFILE 7" || return
	jcheck "$T/out" 'd["results"]["reaped"] == 5'
	run "${FD_LIMIT[@]}" 6 "$IPCLAB" task spawn --method posix_spawn --iterations 5 --warmup 0
	expect_rc 3 "posix_spawn with RLIMIT_NOFILE 6" || return
	[ "$(lines "$T/err")" -eq 1 ] || fail "not one line on stderr: $(paste -sd'|' "$T/err")"
	grep -q 'RLIMIT_NOFILE 6' "$T/err" || fail "the message does not name the limit: $(head -n 1 "$T/err")"
}

for m in fork vfork clone pthread pthread_detached; do
	run_case "task_spawn_$m" with_orphan_check case_method "$m"
done
run_case task_spawn_fork_child_trace_self with_orphan_check case_method fork --child-trace self
run_case task_spawn_posix_spawn_nop with_orphan_check case_posix_spawn nop
run_case task_spawn_posix_spawn_self with_orphan_check case_posix_spawn self
run_case task_spawn_nop with_orphan_check case_nop
run_case task_spawn_human case_human
run_case task_spawn_touch_mb with_orphan_check case_touch
run_case task_spawn_bad_options case_bad_options
run_case task_spawn_fd_limit with_orphan_check case_fd_limit
finish
