#!/bin/bash
# sync_race.sh - "ipclab sync race": with every lock kind, in both modes, the counter is
# exactly W*N (no lost update) and every worker did N; without a lock the lost updates are
# reported (expected - actual), or the run is inconclusive (exit 4, one line why); the
# placement (--cpu, spread) is recorded; a worker killed inside its critical
# section (--kill-holder) or from outside (SIGKILL of a child found in /proc) is detected,
# reported, exit 1, nothing left behind (the flock file never has a name: checked while a
# run goes and after its parent is SIGKILLed); bad options exit 2.
# Usage: tests/integration/sync_race.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

W=3
N=2000

# case_lock KIND MODE: exact count with a lock
case_lock() {
	local kind=$1 mode=$2
	run "$IPCLAB" sync race --sync "$kind" --mode "$mode" --workers "$W" --increments "$N" --timeout 60 --json
	expect_rc 0 "sync race --sync $kind --mode $mode" || return
	jcheck "$T/out" "${ENVELOPE[@]}" \
		'd["experiment"] == "sync race" and d["exit_code"] == 0' \
		"d['params']['sync'] == '$kind' and d['params']['mode'] == '$mode'" \
		"d['params']['workers'] == $W and d['params']['increments'] == $N" \
		"d['results']['expected'] == $W * $N" \
		"d['results']['actual'] == $W * $N" \
		"d['results']['completed'] == $W * $N" \
		'd["results"]["lost_updates"] == 0 and d["results"]["lost_fraction"] == 0' \
		'd["results"]["checks"] and all(d["results"]["checks"].values())' \
		"len(d['results']['per_worker']) == $W" \
		"all(w['increments'] == $N and w['finish_ns'] > 0 for w in d['results']['per_worker'])" \
		"1.0 / $W - 1e-9 <= d['results']['fairness']['jain'] <= 1 + 1e-9" \
		'0 <= d["results"]["fairness"]["min_over_max"] <= 1' \
		"0 <= d['results']['fairness']['first_finisher'] < $W" \
		"sum(w['at_first_finish'] for w in d['results']['per_worker']) >= $N" \
		'd["results"]["ops_per_s"] > 0 and d["results"]["wall_ns"] > 0' \
		"d['results']['lock']['kind'] == '$kind'" \
		'd["results"]["killed"] is None' \
		'd["results"]["traced"] is False'
}

# case_none MODE W N: without a lock, either updates were lost (exit 0) or the run says
# why it could not show it (exit 4, one line, the JSON's "inconclusive"), never "0 lost"
case_none() {
	local mode=$1 w=$2 n=$3
	run "$IPCLAB" sync race --sync none --mode "$mode" --workers "$w" --increments "$n" --timeout 60 --json
	[ "$RC" -eq 0 ] || [ "$RC" -eq 4 ] || { fail "sync race --sync none --mode $mode: exit $RC"; return; }
	jcheck "$T/out" "${ENVELOPE[@]}" \
		"d['results']['expected'] == $w * $n and d['results']['completed'] == $w * $n" \
		"0 < d['results']['actual'] <= $w * $n" \
		"d['results']['lost_updates'] == $w * $n - d['results']['actual']" \
		'"no_lost_updates" not in d["results"]["checks"]' \
		"d['exit_code'] == $RC" \
		'(d["exit_code"] == 0) == (d["results"]["lost_updates"] > 0)' \
		'(d["exit_code"] == 4) == (d["results"]["inconclusive"] is not None)' \
		'd["results"]["lost_updates"] > 0 or d["results"]["inconclusive"]' \
		'0 <= d["results"]["overlap_fraction"] <= 1 and d["results"]["overlap_ns"] >= 0' \
		"len([w for w in d['results']['per_worker'] if w['start_ns'] is not None]) == $w"
	if [ "$RC" -eq 4 ]; then
		if ! { [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^ipclab: sync race: inconclusive: ' "$T/err"; }; then
			fail "exit 4 without one line saying why: $(paste -sd'|' "$T/err")"
		fi
	fi
	[ "$w" -gt 1 ] || jcheck "$T/out" 'd["exit_code"] == 4' '"one worker" in d["results"]["inconclusive"]' \
		'd["results"]["overlap_ns"] == 0'
	# on distinct CPUs, in lockstep, the race always shows
	if [ "$w" -gt 1 ] && [ "$(nproc)" -ge "$w" ]; then
		jcheck "$T/out" 'd["exit_code"] == 0 and d["results"]["lost_updates"] > 0' \
			'd["results"]["overlap_ns"] > 0 and d["results"]["lockstep"]["chunk"] > 0'
	fi
}

# workers on distinct CPUs: spread by default when they fit, where --cpu says otherwise
# (recorded per worker and in the params), lockstep only without a lock on distinct CPUs
case_placement() {
	local ncpu
	ncpu=$(nproc)
	run "$IPCLAB" sync race --sync mutex --mode thread --workers 2 --increments 1000 --cpu 0 --json
	expect_rc 0 "sync race --cpu 0" || return
	jcheck "$T/out" 'd["params"]["cpu"] == [0, 0] and d["params"]["placement"] == "same-cpu"' \
		'd["results"]["placement"]["policy"] == "option"' \
		'[w["pinned_cpu"] for w in d["results"]["per_worker"]] == [0, 0]' \
		'[w["cpu"] for w in d["results"]["per_worker"]] == [[0, 0], [0, 0]]' \
		'd["results"]["lockstep"]["chunk"] == 0'
	[ "$ncpu" -ge 2 ] || { skip "one CPU: no spread to check"; return; }
	run "$IPCLAB" sync race --sync none --mode process --workers 2 --increments 1000 --json
	[ "$RC" -eq 0 ] || [ "$RC" -eq 4 ] || { fail "sync race --sync none: exit $RC"; return; }
	jcheck "$T/out" 'd["params"]["cpu"] is None and d["results"]["placement"]["policy"] == "spread"' \
		'len({w["pinned_cpu"] for w in d["results"]["per_worker"]}) == 2' \
		'all(w["cpu"] == [w["pinned_cpu"]] * 2 for w in d["results"]["per_worker"])' \
		'd["results"]["lockstep"]["chunk"] > 0'
	run "$IPCLAB" sync race --sync none --mode thread --workers $((ncpu + 1)) --increments 1000 --json
	[ "$RC" -eq 0 ] || [ "$RC" -eq 4 ] || { fail "sync race --workers $((ncpu + 1)): exit $RC"; return; }
	jcheck "$T/out" 'd["results"]["placement"]["policy"] == "unpinned"' \
		'all(w["pinned_cpu"] is None for w in d["results"]["per_worker"])' \
		'd["results"]["lockstep"]["chunk"] == 0'
}

# case_kill_holder KIND: worker 0 dies holding the lock: detected, exit 1, nothing left
case_kill_holder() {
	local kind=$1
	run "$IPCLAB" sync race --sync "$kind" --mode process --workers "$W" --increments 20000 --kill-holder \
		--timeout 60 --json
	expect_rc 1 "sync race --sync $kind --kill-holder" || return
	jcheck "$T/out" "${ENVELOPE[@]}" 'd["exit_code"] == 1' \
		'd["results"]["killed"]["worker"] == 0 and d["results"]["killed"]["signal"] == "KILL"' \
		'd["results"]["checks"]["no_worker_killed"] is False' \
		"d['results']['completed'] < $W * 20000"
	case $kind in
	mutex) jcheck "$T/out" '"EOWNERDEAD" in d["results"]["killed"]["detected"]' ;;
	spin | sem) jcheck "$T/out" '"abort flag" in d["results"]["killed"]["detected"]' ;;
	flock) jcheck "$T/out" '"kernel released" in d["results"]["killed"]["detected"]' ;;
	esac
	case $kind in
	# every increment completed under the lock is in the counter
	mutex | spin | sem | flock) jcheck "$T/out" 'd["results"]["lost_updates"] == 0' ;;
	esac
	grep -q 'FAIL: worker 0 (pid [0-9]*) was killed by SIGKILL' "$T/err" || fail "no FAIL line: $(head -n 2 "$T/err")"
}

# a worker SIGKILLed from outside (found via /proc/PID/task/*/children) while the run goes
case_external_kill() {
	local pid kids victim
	bg_start pid "$T/ext.out" "$T/ext.err" "$IPCLAB" sync race --sync mutex --mode process --workers 2 \
		--increments 100000000 --delay 50 --timeout 60 --json="$T/ext.json" --quiet
	has_two() { [ "$(children "$pid" | wc -l)" -ge 2 ]; }
	poll_until 20 has_two || { fail "no worker processes appeared"; return; }
	kids=$(children "$pid")
	victim=$(head -n 1 <<<"$kids")
	kill -KILL "$victim"
	wait_exit "$pid" 30 || { fail "did not end after its worker was killed"; return; }
	[ "$RC" -eq 1 ] || fail "exit $RC after a worker was killed, want 1"
	jcheck "$T/ext.json" 'd["exit_code"] == 1' "d['results']['killed']['pid'] == $victim" \
		'd["results"]["killed"]["signal"] == "KILL"' \
		'd["results"]["lost_updates"] == 0'
	grep -q "was killed by SIGKILL" "$T/ext.err" || fail "no message: $(head -n 2 "$T/ext.err")"
}

# a worker process that ends before the start barrier (the testing aid makes every one
# do so): one line, exit 1, the JSON written, nothing left (no worker waits forever)
case_barrier_abort() {
	IPCLAB_TEST_PEER_EXIT_BEFORE_BARRIER=1 run "$IPCLAB" sync race --sync flock --mode process --workers 2 \
		--increments 1000 --timeout 120 --json="$T/r.json"
	expect_rc 1 "sync race with workers ending before the barrier" || return
	grep -q 'ended before the start barrier' "$T/err" || fail "no line says why: $(head -c 300 "$T/err")"
	grep -qi 'watchdog' "$T/err" && fail "the watchdog ended the run: $(grep -i -m1 watchdog "$T/err")"
	jcheck "$T/r.json" 'd["exit_code"] == 1' 'd["results"]["completed"] == 0'
}

# unnamed_tmp_open PID: true if PID has a deleted (or never named) file of /tmp open
unnamed_tmp_open() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[[ "$(readlink "$fd" 2>/dev/null)" == /tmp/*" (deleted)" ]] && return 0
	done
	return 1
}

# issue 15.3: the flock file has no name, not even while the workers run, so a
# SIGKILLed parent leaves none behind (its workers die with it: PDEATHSIG)
case_flock_sigkill() {
	local pid kids k
	bg_start pid "$T/k.out" "$T/k.err" "$IPCLAB" sync race --sync flock --mode process --workers 2 \
		--increments 100000000 --delay 50 --timeout 60 --quiet
	has_two() { [ "$(children "$pid" | wc -l)" -ge 2 ]; }
	poll_until 20 has_two || { fail "no worker processes appeared"; return; }
	kids=$(children "$pid")
	[ -z "$(compgen -G "/tmp/ipclab-flock-*$pid-*")" ] || fail "a named flock file while the run goes: $(compgen -G "/tmp/ipclab-flock-*$pid-*")"
	for k in $kids; do # each worker holds the file open, unnamed
		unnamed_tmp_open "$k" || fail "worker $k has no unnamed /tmp file open"
	done
	kill -KILL "$pid"
	wait_exit "$pid" 30 || { fail "the parent did not die"; return; }
	gone() { for k in $kids; do running "$k" && return 1; done; return 0; }
	poll_until 20 gone || fail "workers outlived their parent: $kids"
	[ -z "$(compgen -G "/tmp/ipclab-flock-*$pid-*")" ] || fail "flock file left: $(compgen -G "/tmp/ipclab-flock-*$pid-*")"
}

case_usage() {
	expect_usage "$IPCLAB" sync race --sync bogus
	grep -q 'none|atomic|mutex|spin|sem|flock' "$T/err" || fail "--sync bogus: choices not listed: $(cat "$T/err")"
	local v
	for v in 0 65 -1 x ""; do
		expect_usage "$IPCLAB" sync race --workers "$v"
		grep -q -- '--workers' "$T/err" || fail "--workers '$v': option not named"
	done
	expect_usage "$IPCLAB" sync race --increments 0
	expect_usage "$IPCLAB" sync race --increments 100000001
	expect_usage "$IPCLAB" sync race --delay 1000001
	expect_usage "$IPCLAB" sync race --mode fiber
	expect_usage "$IPCLAB" sync race --kill-holder --mode thread --json
	expect_usage "$IPCLAB" sync race --iterations 5
	expect_usage "$IPCLAB" sync race --cpu 0,1,0
	run "$IPCLAB" sync race --help
	expect_rc 0 "--help"
	{ grep -q -- '--increments' "$T/out" && grep -q -- '--kill-holder' "$T/out"; } || fail "--help lacks options"
}

# above --trace-limit no per-increment event is promised (the JSON says so)
case_trace_limit() {
	run "$IPCLAB" sync race --sync mutex --mode thread --workers 2 --increments 100 --trace-limit 199 --json
	expect_rc 0 "sync race --trace-limit 199" || return
	jcheck "$T/out" 'd["results"]["trace"] == {"per_increment_events": False, "events_per_increment": 0}' \
		'd["params"]["trace_limit"] == 199'
	run "$IPCLAB" sync race --sync atomic --mode thread --workers 2 --increments 100 --trace-limit 200 --json
	expect_rc 0 "sync race --trace-limit 200" || return
	jcheck "$T/out" 'd["results"]["trace"] == {"per_increment_events": True, "events_per_increment": 2}'
}

case_human() {
	run "$IPCLAB" sync race --sync sem --workers 2 --increments 1000 --mode thread
	expect_rc 0 "sync race (human)" || return
	grep -q '^sync race: sem (.*), thread mode, 2 workers x 1000 increments' "$T/out" || fail "header: $(head -n 1 "$T/out")"
	grep -q 'expected 2000, completed 2000, counter 2000: lost updates 0' "$T/out" || fail "counts: $(paste -sd'|' "$T/out")"
}

for mode in thread process; do
	for kind in atomic mutex spin sem flock; do
		run_case "sync_race_${kind}_${mode}" case_lock "$kind" "$mode"
	done
	run_case "sync_race_none_${mode}_w1" case_none "$mode" 1 5000
	run_case "sync_race_none_${mode}_w2" case_none "$mode" 2 200000
	run_case "sync_race_none_${mode}_w4" case_none "$mode" 4 200000
done
for kind in none mutex spin sem flock; do
	run_case "sync_race_kill_holder_$kind" case_kill_holder "$kind"
done
run_case sync_race_external_kill case_external_kill
run_case sync_race_placement case_placement
run_case sync_race_barrier_abort case_barrier_abort
run_case sync_race_flock_sigkill case_flock_sigkill
run_case sync_race_usage case_usage
run_case sync_race_trace_limit case_trace_limit
run_case sync_race_human case_human
finish
