#!/bin/bash
# task_isolation.sh - "ipclab task isolation": every outcome is a check with expected,
# actual and pass, and all pass: a crashing worker process dies of SIGSEGV alone, a
# crashing thread takes its whole (sacrificial) process with it, a PDEATHSIG child dies
# with its parent, a detached thread dies with its process, an orphan survives its
# parent and is reaped by us (the subreaper). Several runs; after each, no ipclab
# orphan under PID 1, no zombie, no core file.
# Usage: tests/integration/task_isolation.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

CHECKS='["process_crash_child_killed_by_sigsegv", "process_crash_parent_survives",
 "thread_crash_process_killed_by_sigsegv", "thread_crash_thread_ran", "thread_crash_main_thread_continued",
 "pdeathsig_parent_exited_0", "pdeathsig_child_killed_with_parent", "pdeathsig_child_reaped_by_subreaper",
 "detached_thread_process_exited_0", "detached_thread_was_running", "detached_thread_never_finished",
 "detached_thread_gone_with_process", "orphan_parent_exited_0", "orphan_alive_after_parent_exit",
 "orphan_reparented_to_subreaper", "orphan_reaped_exit_0", "no_child_left"]'

case_checks() {
	# in a scratch directory, with core files allowed: the crashing tasks must still not
	# drop one (core_pattern may be a plain file name in the working directory)
	local core
	core=$(ulimit -S -c)
	mkdir -p "$T/cwd"
	cd "$T/cwd" || return
	ulimit -S -c unlimited 2>/dev/null
	run "$IPCLAB" task isolation --json --timeout 60
	ulimit -S -c "$core" 2>/dev/null
	cd "$REPO" || return
	expect_rc 0 "task isolation" || return
	jcheck "$T/out" "${ENVELOPE[@]}" \
		"[c['name'] for c in d['results']['checks']] == $CHECKS" \
		'all(set(c) == {"name", "expected", "actual", "pass"} for c in d["results"]["checks"])' \
		'all(c["pass"] is True and c["expected"] == c["actual"] for c in d["results"]["checks"])' \
		'd["results"]["checks_passed"] == 17 and d["results"]["checks_failed"] == 0' \
		'd["results"]["outcomes"]["process_crash"]["worker"] == "killed by signal 11 (SIGSEGV)"' \
		'd["results"]["outcomes"]["thread_crash"]["process"] == "killed by signal 11 (SIGSEGV)"' \
		'd["results"]["outcomes"]["thread_crash"]["main_thread_continued"] is False' \
		'd["results"]["outcomes"]["pdeathsig"]["child"] == "killed by signal 9 (SIGKILL)"' \
		'd["results"]["outcomes"]["detached_thread"]["thread_gone"] is True' \
		'd["results"]["outcomes"]["orphan"]["survived_parent"] is True' \
		'd["results"]["outcomes"]["orphan"]["reaped"] == "exited with status 0"'
	local left
	left=$(find "$T/cwd" -mindepth 1 -printf '%f\n' | paste -sd, -)
	[ -z "$left" ] || fail "files left in the working directory: $left"
	rm -rf "$T/cwd"
}

case_human() {
	run "$IPCLAB" task isolation
	expect_rc 0 "task isolation (human)" || return
	grep -q '^task isolation: 17 of 17 checks passed' "$T/out" || fail "no header: $(head -n 1 "$T/out")"
	[ "$(grep -c '^  ok ' "$T/out")" -eq 17 ] || fail "not 17 'ok' lines"
}

case_bad_options() {
	expect_usage "$IPCLAB" task isolation --iterations 3
	expect_usage "$IPCLAB" task isolation extra
}

for i in 1 2 3; do
	run_case "task_isolation_checks_$i" with_orphan_check case_checks
done
run_case task_isolation_human with_orphan_check case_human
run_case task_isolation_bad_options case_bad_options
finish
