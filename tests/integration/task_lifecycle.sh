#!/bin/bash
# task_lifecycle.sh - "ipclab task lifecycle": the transcript of a process object and a
# thread object is 20 numbered steps (10 each), every step with expected, actual and pass,
# all as expected: created not started, start() under its name (/proc comm), alive while
# running, join(timeout) expiring while it runs, exit status 7 collected, not alive after,
# and the daemon rule (daemon child killed by SIGTERM with its parent, non-daemon child
# reparented to us; daemon thread gone with its process, non-daemon thread joined before
# the process exits). --kind selects one object; several runs leave no orphan or zombie.
# Usage: tests/integration/task_lifecycle.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

OPS_P='["Process(name) created, not started", "start()", "name in /proc/PID/comm", "is_alive() while it runs",
 "join(timeout=50 ms) while it runs", "released; join(): its exit status", "is_alive() after join",
 "daemon child: its parent exits", "non-daemon child: its parent exits",
 "the orphan, released, is reaped by its new parent"]'
OPS_T='["Thread(name) created, not started", "start()", "name in /proc/self/task/TID/comm",
 "is_alive() while it runs", "join(timeout=50 ms) while it runs", "released; join(): its exit status",
 "is_alive() after join", "daemon thread: its process exits while it runs",
 "non-daemon thread: main() is done, it joins the thread",
 "released: the thread finishes, then the process exits"]'

case_both() {
	run "$IPCLAB" task lifecycle --json --quiet
	expect_rc 0 "task lifecycle --json" || return
	jcheck "$T/out" "${ENVELOPE[@]}" 'd["experiment"] == "task lifecycle"' \
		'd["params"]["kind"] == "both" and d["params"]["join_timeout_ms"] == 50' \
		"[s['op'] for s in d['results']['steps']] == $OPS_P + $OPS_T" \
		'[s["n"] for s in d["results"]["steps"]] == list(range(1, 21))' \
		'[s["kind"] for s in d["results"]["steps"]] == ["process"] * 10 + ["thread"] * 10' \
		'all(set(s) == {"n", "kind", "op", "expected", "actual", "pass", "note"} for s in d["results"]["steps"])' \
		'all(s["pass"] is True for s in d["results"]["steps"])' \
		'd["results"]["passed"] == 20 and d["results"]["failed"] == 0' \
		'd["results"]["steps"][2]["actual"] == "ipclab-life-p" and d["results"]["steps"][12]["actual"] == "ipclab-life-t"' \
		'd["results"]["steps"][5]["actual"] == "exited with status 7" and d["results"]["steps"][15]["actual"] == "returned 7"' \
		'd["results"]["steps"][7]["actual"] == "killed by signal 15 (SIGTERM)"' \
		'd["results"]["objects"]["process"]["exitcode"] == 7 and d["results"]["objects"]["thread"]["exitcode"] == 7' \
		'd["results"]["objects"]["process"]["pid"] > 0 and d["results"]["objects"]["thread"]["pid"] != d["results"]["objects"]["process"]["pid"]' \
		'd["results"]["objects"]["thread"]["tid"] != d["results"]["objects"]["thread"]["pid"]' \
		'"PR_SET_PDEATHSIG(SIGTERM)" in d["results"]["daemon"]["process"]' \
		'd["results"]["traced"] is False'
}

# KIND: one object only, its 10 steps
case_kind() {
	run "$IPCLAB" task lifecycle --kind "$1" --join-timeout-ms 20 --json --quiet
	expect_rc 0 "task lifecycle --kind $1" || return
	local ops=$OPS_P
	[ "$1" = thread ] && ops=$OPS_T
	jcheck "$T/out" "[s['op'] for s in d['results']['steps']] == [o.replace('50 ms', '20 ms') for o in $ops]" \
		"all(s['pass'] and s['kind'] == '$1' for s in d['results']['steps'])" \
		"list(d['results']['objects']) == ['$1']"
}

# the human transcript: a header and 20 numbered "ok" rows
case_human() {
	run "$IPCLAB" task lifecycle
	expect_rc 0 "task lifecycle (human)" || return
	grep -q '^task lifecycle: 20 of 20 steps as expected' "$T/out" || fail "no header: $(head -n 1 "$T/out")"
	[ "$(grep -c -E '^ *[0-9]+ (process|thread) .* ok( |$)' "$T/out")" -eq 20 ] || fail "not 20 ok rows"
}

case_bad_options() {
	local v
	for v in 0 10001 -1 abc ""; do
		expect_usage "$IPCLAB" task lifecycle --join-timeout-ms "$v"
		grep -q -- '--join-timeout-ms' "$T/err" || fail "--join-timeout-ms '$v': message does not name the option"
	done
	expect_usage "$IPCLAB" task lifecycle --kind bogus
	expect_usage "$IPCLAB" task lifecycle --iterations 5
	expect_usage "$IPCLAB" task lifecycle extra
}

run_case task_lifecycle_both with_orphan_check case_both
run_case task_lifecycle_again with_orphan_check case_both
run_case task_lifecycle_process with_orphan_check case_kind process
run_case task_lifecycle_thread with_orphan_check case_kind thread
run_case task_lifecycle_human with_orphan_check case_human
run_case task_lifecycle_bad_options case_bad_options
finish
