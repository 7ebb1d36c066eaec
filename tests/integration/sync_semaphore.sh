#!/bin/bash
# sync_semaphore.sh - "ipclab sync semaphore": with the semaphore the most workers inside
# at once never exceeds the permits (both modes), every permit comes back, the wait
# histogram counts every acquire, the sem_getvalue series is bounded and within 0..K;
# without it the bound is broken and reported (exit 0); a worker killed inside the region
# is detected (exit 1, nothing left); bad options exit 2.
# Usage: tests/integration/sync_semaphore.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# case_sem MODE W K R U
case_sem() {
	local mode=$1 w=$2 k=$3 r=$4 u=$5
	run "$IPCLAB" sync semaphore --mode "$mode" --workers "$w" --permits "$k" --rounds "$r" --hold-us "$u" \
		--timeout 60 --json
	expect_rc 0 "sync semaphore --mode $mode" || return
	jcheck "$T/out" "${ENVELOPE[@]}" \
		'd["experiment"] == "sync semaphore" and d["exit_code"] == 0' \
		"d['params']['sync'] == 'sem' and d['params']['permits'] == $k and d['params']['workers'] == $w" \
		"1 <= d['results']['max_inside'] <= $k" \
		'd["results"]["bound_exceeded"] is False and d["results"]["exceeded_by"] == 0' \
		'd["results"]["checks"]["max_inside_le_permits"] is True' \
		'd["results"]["checks"]["all_permits_returned"] is True' \
		'd["results"]["checks"]["all_rounds_done"] is True' \
		"d['results']['acquires'] == $w * $r" \
		"d['results']['wait']['count'] == $w * $r" \
		"d['results']['sem_value_final'] == $k" \
		"0 <= d['results']['sem_value_min'] <= $k" \
		'1 <= len(d["results"]["series"]["points"]) <= 256' \
		"all(0 <= p[1] <= $k and 0 <= p[2] <= $k for p in d['results']['series']['points'])" \
		'all(a[0] <= b[0] for a, b in zip(d["results"]["series"]["points"], d["results"]["series"]["points"][1:]))' \
		'd["results"]["killed"] is None'
}

# more samples than the series holds (>= 60 ms of holds, one sample per >= 50 us):
# decimated to at most 256 points that still span the run
case_series_bounded() {
	run "$IPCLAB" sync semaphore --mode thread --workers 2 --permits 1 --rounds 300 --hold-us 100 --timeout 60 --json
	expect_rc 0 "sync semaphore (long)" || return
	jcheck "$T/out" '128 <= len(d["results"]["series"]["points"]) <= 256' \
		'd["results"]["series"]["samples"] > 256' \
		'd["results"]["series"]["kept_every"] >= 2' \
		'd["results"]["series"]["points"][-1][0] >= 0.5 * d["results"]["wall_ns"]' \
		'd["results"]["max_inside"] == 1'
}

# case_none MODE: no semaphore, K=1, workers sleep inside: more than one is seen inside
case_none() {
	local mode=$1
	run "$IPCLAB" sync semaphore --mode "$mode" --sync none --workers 4 --permits 1 --rounds 3 --hold-us 20000 \
		--timeout 60 --json
	expect_rc 0 "sync semaphore --sync none --mode $mode" || return
	jcheck "$T/out" 'd["exit_code"] == 0' \
		'1 < d["results"]["max_inside"] <= 4' \
		'd["results"]["bound_exceeded"] is True' \
		'd["results"]["exceeded_by"] == d["results"]["max_inside"] - 1' \
		'"max_inside_le_permits" not in d["results"]["checks"]' \
		'd["results"]["sem_value_final"] is None and d["results"]["sem_value_min"] is None' \
		'all(p[1] is None for p in d["results"]["series"]["points"])' \
		'd["results"]["acquires"] == 12' \
		'd["results"]["inconclusive"] is None and d["results"]["over_permits_running_ns"] > 0'
}

# no more workers than permits: the bound cannot be broken, the run says so (exit 4)
case_none_inconclusive() {
	run "$IPCLAB" sync semaphore --mode thread --sync none --workers 2 --permits 2 --rounds 2 --hold-us 100 --json
	expect_rc 4 "sync semaphore --sync none --workers 2 --permits 2" || return
	jcheck "$T/out" 'd["exit_code"] == 4 and d["results"]["max_inside"] <= 2' \
		'"can never be more than 2 permits" in d["results"]["inconclusive"]'
	if ! { [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^ipclab: sync semaphore: inconclusive: ' "$T/err"; }; then
		fail "exit 4 without one line saying why: $(paste -sd'|' "$T/err")"
	fi
}

case_kill_holder() {
	run "$IPCLAB" sync semaphore --mode process --workers 3 --permits 2 --rounds 20 --hold-us 500 --kill-holder \
		--timeout 60 --json
	expect_rc 1 "sync semaphore --kill-holder" || return
	jcheck "$T/out" 'd["exit_code"] == 1' \
		'd["results"]["killed"]["worker"] == 0 and d["results"]["killed"]["signal"] == "KILL"' \
		'd["results"]["checks"]["no_worker_killed"] is False' \
		'd["results"]["checks"]["max_inside_le_permits"] is True'
	grep -q 'FAIL: worker 0 (pid [0-9]*) was killed by SIGKILL inside the region' "$T/err" ||
		fail "no FAIL line: $(head -n 2 "$T/err")"
}

case_usage() {
	expect_usage "$IPCLAB" sync semaphore --sync mutex
	grep -q 'sem|none' "$T/err" || fail "--sync mutex: choices not listed: $(cat "$T/err")"
	expect_usage "$IPCLAB" sync semaphore --permits 0
	expect_usage "$IPCLAB" sync semaphore --permits 65
	expect_usage "$IPCLAB" sync semaphore --workers 0
	expect_usage "$IPCLAB" sync semaphore --workers 65
	expect_usage "$IPCLAB" sync semaphore --rounds 0
	expect_usage "$IPCLAB" sync semaphore --hold-us 1000001
	expect_usage "$IPCLAB" sync semaphore --kill-holder --mode thread
	run "$IPCLAB" sync semaphore --help
	expect_rc 0 "--help"
	grep -q -- '--permits' "$T/out" || fail "--help lacks --permits"
}

case_human() {
	run "$IPCLAB" sync semaphore --workers 3 --permits 2 --rounds 5 --hold-us 100 --mode thread
	expect_rc 0 "sync semaphore (human)" || return
	grep -q '^sync semaphore: counting semaphore, 2 permits, 3 workers x 5 rounds' "$T/out" ||
		fail "header: $(head -n 1 "$T/out")"
	grep -q 'max inside at once [12] (permits 2)$' "$T/out" || fail "no max line: $(paste -sd'|' "$T/out")"
}

for mode in thread process; do
	run_case "sync_semaphore_sem_${mode}" case_sem "$mode" 5 2 10 200
	run_case "sync_semaphore_sem_${mode}_k1" case_sem "$mode" 3 1 10 100
	run_case "sync_semaphore_none_${mode}" case_none "$mode"
done
run_case sync_semaphore_none_inconclusive case_none_inconclusive
run_case sync_semaphore_series_bounded case_series_bounded
run_case sync_semaphore_kill_holder case_kill_holder
run_case sync_semaphore_usage case_usage
run_case sync_semaphore_human case_human
finish
