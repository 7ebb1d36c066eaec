#!/bin/bash
# task_pool.sh - "ipclab task pool": every kind runs every task exactly once and each
# result is f(i) (sum checked); a corrupted result and a killed pool worker both exit 1;
# the sweep gives 4 task lengths x 3 kinds and a crossover; bad options exit 2; nothing
# is left behind, not even after a worker is killed.
# Usage: tests/integration/task_pool.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

NPROC=$(getconf _NPROCESSORS_ONLN)

# case_kind KIND WORKERS: 300 tasks of 20 us, all verified
case_kind() {
	local k=$1 w=$2 spawned
	if [ "$k" = spawn-per-task ]; then spawned=300; else spawned=$w; fi
	run "$IPCLAB" task pool --kind "$k" --tasks 300 --task-us 20 --workers "$w" --json --quiet
	expect_rc 0 "task pool --kind $k --workers $w" || return
	jcheck "$T/out" "${ENVELOPE[@]}" \
		"d['params']['kind'] == '$k' and d['params']['workers'] == $w and d['params']['tasks'] == 300" \
		"d['results']['kind'] == '$k' and d['results']['tasks'] == 300 and d['results']['task_us'] == 20" \
		'd["results"]["executed"] == d["results"]["exactly_once"] == d["results"]["verified"] == 300' \
		'd["results"]["mismatches"] == 0 and d["results"]["first_mismatch"] is None' \
		'd["results"]["sum"] == d["results"]["expected_sum"]' \
		"d['results']['tasks_spawned'] == d['results']['tasks_reaped'] == $spawned" \
		'd["results"]["tasks_per_s"] > 0 and d["results"]["wall_ns"] > 0' \
		'0 < d["results"]["efficiency"] <= 1.05' \
		'd["results"]["api"] == ["apply_async", "map", "close", "join"]' \
		'len(d["results"]["checks"]) == 4 and all(c["pass"] for c in d["results"]["checks"])'
	if [ "$k" != spawn-per-task ]; then
		jcheck "$T/out" "len(d['results']['per_worker']) == $w and sum(d['results']['per_worker']) == 300"
	fi
}

# one task returns a wrong value: the check catches exactly that one
case_corrupt() {
	run "$IPCLAB" task pool --kind "$1" --tasks 50 --task-us 0 --corrupt-task 5 --json
	expect_rc 1 "task pool --kind $1 --corrupt-task 5" || return
	grep -q 'FAIL' "$T/err" || fail "no FAIL message"
	jcheck "$T/out" 'd["exit_code"] == 1' \
		'd["results"]["verified"] == 49 and d["results"]["mismatches"] == 1 and d["results"]["first_mismatch"] == 4' \
		'd["results"]["sum"] != d["results"]["expected_sum"]' \
		'd["results"]["exactly_once"] == 50' \
		'sorted(c["name"] for c in d["results"]["checks"] if not c["pass"]) == ["every_result_is_f_of_i", "sum"]'
}

# a pool worker process killed mid-run: the run fails (exit 1) instead of hanging
case_worker_killed() {
	local wpid kids
	bg_start wpid "$T/kout" "$T/kerr" "$IPCLAB" task pool --kind process --tasks 100000 --task-us 100 --json --timeout 60
	# the workers exist once /proc lists two children
	# shellcheck disable=SC2317
	have_workers() { [ "$(children "$wpid" | wc -l)" -ge "$NPROC" ]; }
	if ! poll_until 20 have_workers; then
		fail "the pool workers did not appear"
		return
	fi
	kids=$(children "$wpid" | head -n 1)
	kill -KILL "$kids"
	wait_exit "$wpid" 30 || { fail "the pool did not end after a worker was killed"; return; }
	[ "$RC" -eq 1 ] || fail "exit $RC after a worker was killed, want 1"
	grep -q "pool worker .* killed by signal 9 (SIGKILL)" "$T/kerr" || fail "no message naming the dead worker: $(head -n 2 "$T/kerr" | paste -sd'|' -)"
	jcheck "$T/kout" 'd["exit_code"] == 1'
}

# the sweep: 0,10,100,1000 us x 3 kinds, every run verified, a crossover object
case_sweep() {
	run "$IPCLAB" task pool --sweep --tasks 100 --json --quiet
	expect_rc 0 "task pool --sweep" || return
	jcheck "$T/out" '[p["task_us"] for p in d["results"]["points"]] == [0, 10, 100, 1000]' \
		'all(sorted(p["kinds"]) == ["process", "spawn-per-task", "thread"] for p in d["results"]["points"])' \
		'all(k["verified"] == 100 and k["task_us"] == p["task_us"] for p in d["results"]["points"] for k in p["kinds"].values())' \
		'len(d["results"]["checks"]) == 4 * 3 * 4 and all(c["pass"] for c in d["results"]["checks"])' \
		'd["results"]["crossover"]["fraction"] == 0.9' \
		'all(set(d["results"]["crossover"][k]) == {"measured_task_us", "model_task_us", "overhead_us_pool", "overhead_us_spawn"} for k in ("vs_process_pool", "vs_thread_pool"))' \
		'all(d["results"]["crossover"][k]["measured_task_us"] in (None, 0, 10, 100, 1000) for k in ("vs_process_pool", "vs_thread_pool"))' \
		'all(d["results"]["crossover"][k]["model_task_us"] >= 0 for k in ("vs_process_pool", "vs_thread_pool"))'
}

case_human() {
	run "$IPCLAB" task pool --kind thread --tasks 100 --task-us 10
	expect_rc 0 "task pool (human)" || return
	grep -q '^task pool: 100 tasks' "$T/out" || fail "no header: $(head -n 1 "$T/out")"
	grep -q -E '^ +10 thread +[0-9]+' "$T/out" || fail "no thread row"
}

case_bad_options() {
	local v
	for v in 0 1000001 abc ""; do
		expect_usage "$IPCLAB" task pool --tasks "$v"
		grep -q -- '--tasks' "$T/err" || fail "--tasks '$v': message does not name the option"
	done
	for v in 1000001 -1 x; do
		expect_usage "$IPCLAB" task pool --task-us "$v"
		grep -q -- '--task-us' "$T/err" || fail "--task-us '$v': message does not name the option"
	done
	expect_usage "$IPCLAB" task pool --workers 0
	expect_usage "$IPCLAB" task pool --workers 1025
	expect_usage "$IPCLAB" task pool --kind bogus
	expect_usage "$IPCLAB" task pool --sweep --kind thread --json
	expect_usage "$IPCLAB" task pool --sweep --task-us 5
	expect_usage "$IPCLAB" task pool --tasks 10 --corrupt-task 11 --json
}

for k in process thread spawn-per-task; do
	run_case "task_pool_${k}" with_orphan_check case_kind "$k" "$NPROC"
done
run_case task_pool_process_3_workers with_orphan_check case_kind process 3
run_case task_pool_thread_corrupt with_orphan_check case_corrupt thread
run_case task_pool_process_corrupt with_orphan_check case_corrupt process
run_case task_pool_spawn_corrupt with_orphan_check case_corrupt spawn-per-task
run_case task_pool_worker_killed with_orphan_check case_worker_killed
run_case task_pool_sweep with_orphan_check case_sweep
run_case task_pool_human case_human
run_case task_pool_bad_options case_bad_options
finish
