#!/bin/bash
# sync_handoff.sh - "ipclab sync handoff": every lock kind in both modes hands the two
# locks back and forth exactly warm-up + iterations times on each side, with one round
# trip and one one-way sample per measured round; --repeat reuses the locks for each
# repeat and reports the spread; pinned runs stay on their CPUs; a
# responder killed holding its lock is detected (exit 1) and no SysV set is left (the
# run_case leftover check); bad options exit 2.
# Usage: tests/integration/sync_handoff.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ITER=500
WARM=50

# case_lock KIND MODE [CPUS]
case_lock() {
	local kind=$1 mode=$2 cpus=${3:-} args=()
	args=(sync handoff --lock "$kind" --mode "$mode" --iterations "$ITER" --warmup "$WARM" --timeout 60 --json)
	[ -z "$cpus" ] || args+=(--cpu "$cpus")
	run "$IPCLAB" "${args[@]}"
	expect_rc 0 "${args[*]}" || return
	jcheck "$T/out" "${ENVELOPE[@]}" \
		'd["experiment"] == "sync handoff" and d["exit_code"] == 0' \
		"d['params']['lock'] == '$kind' and d['params']['mode'] == '$mode'" \
		"d['results']['round_trips'] == $ITER + $WARM and d['results']['peer_rounds'] == $ITER + $WARM" \
		'd["results"]["checks"] == {"counts_match": True}' \
		"d['results']['rtt']['count'] == $ITER and d['results']['oneway']['count'] == $ITER" \
		"0 < d['results']['rtt']['min'] <= d['results']['rtt']['p50'] <= d['results']['rtt']['p99'] <= d['results']['rtt']['max']" \
		"0 < d['results']['oneway']['min'] <= d['results']['oneway']['p50'] <= d['results']['oneway']['max']" \
		'd["results"]["events_per_round_trip"] == 6' \
		'd["results"]["killed"] is None'
	if [ -n "$cpus" ]; then
		local a=${cpus%,*} b=${cpus#*,}
		jcheck "$T/out" "[r['cpu'] for r in d['results']['repeats']] == [{'initiator': [$a, $a], 'responder': [$b, $b]}]"
	fi
}

# case_repeat KIND MODE: --repeat 3 runs three spawn/round-trips/join cycles with the same
# locks: every count triples, one entry per repeat, the spread of the per-repeat p50s
case_repeat() {
	local kind=$1 mode=$2 n=3
	run "$IPCLAB" sync handoff --lock "$kind" --mode "$mode" --iterations "$ITER" --warmup "$WARM" --repeat "$n" \
		--timeout 60 --json
	expect_rc 0 "sync handoff --lock $kind --mode $mode --repeat $n" || return
	jcheck "$T/out" "d['params']['repeat'] == $n" \
		"d['results']['round_trips'] == $n * ($ITER + $WARM) and d['results']['peer_rounds'] == $n * ($ITER + $WARM)" \
		"d['results']['rtt']['count'] == $n * $ITER and d['results']['oneway']['count'] == $n * $ITER" \
		"[r['repeat'] for r in d['results']['repeats']] == list(range($n))" \
		'all(0 < r["rtt_p50"] and 0 < r["oneway_p50"] and r["rtt_mean"] > 0 for r in d["results"]["repeats"])' \
		'd["results"]["repeat_rel_stddev_p50"] >= 0 and d["results"]["repeat_rel_stddev_mean"] >= 0' \
		'd["results"]["checks"] == {"counts_match": True}'
}

# case_kill KIND: the responder dies holding lock 1; the initiator stops waiting, exit 1
case_kill() {
	local kind=$1
	run "$IPCLAB" sync handoff --lock "$kind" --mode process --iterations 400 --warmup 0 --kill-holder --timeout 60 --json
	expect_rc 1 "sync handoff --lock $kind --kill-holder" || return
	jcheck "$T/out" 'd["exit_code"] == 1' \
		'd["results"]["checks"]["responder_alive"] is False' \
		'"killed by signal 9" in d["results"]["killed"]' \
		'd["results"]["peer_rounds"] == 201 and d["results"]["round_trips"] == 200'
}

# --interval-us N: the responder sleeps before each release (rt-tests' -i): recorded,
# every round still counted; without it no sleep (interval_us null)
case_interval() {
	run "$IPCLAB" sync handoff --lock sysvsem --mode process --iterations 50 --warmup 5 --interval-us 0 --json
	expect_rc 0 "sync handoff --interval-us 0" || return
	jcheck "$T/out" 'd["params"]["interval_us"] == 0' 'd["results"]["checks"] == {"counts_match": True}' \
		'd["results"]["oneway"]["count"] == 50'
	run "$IPCLAB" sync handoff --lock mutex --mode thread --iterations 50 --warmup 5 --json
	expect_rc 0 "sync handoff" || return
	jcheck "$T/out" 'd["params"]["interval_us"] is None'
}

case_usage() {
	expect_usage "$IPCLAB" sync handoff --lock flock
	grep -q 'mutex|spin|sem|sysvsem' "$T/err" || fail "--lock flock: choices not listed: $(cat "$T/err")"
	expect_usage "$IPCLAB" sync handoff --iterations 0
	expect_usage "$IPCLAB" sync handoff --kill-holder --mode thread
	expect_usage "$IPCLAB" sync handoff --cpu 99999
	expect_usage "$IPCLAB" sync handoff --repeat 0
	expect_usage "$IPCLAB" sync handoff --interval-us 1000001
}

NCPU=$(getconf _NPROCESSORS_ONLN)
for kind in mutex spin sem sysvsem; do
	for mode in thread process; do
		run_case "sync_handoff_${kind}_${mode}" case_lock "$kind" "$mode"
	done
	run_case "sync_handoff_kill_${kind}" case_kill "$kind"
done
if [ "$NCPU" -ge 2 ]; then
	run_case sync_handoff_sem_cross_cpu case_lock sem process 0,1
else
	ok_case "sync_handoff_sem_cross_cpu # SKIP one CPU"
fi
run_case sync_handoff_spin_same_cpu case_lock spin thread 0,0
run_case sync_handoff_repeat_mutex_process case_repeat mutex process
run_case sync_handoff_repeat_sysvsem_process case_repeat sysvsem process
run_case sync_handoff_repeat_spin_thread case_repeat spin thread
run_case sync_handoff_interval case_interval
run_case sync_handoff_usage case_usage
finish
