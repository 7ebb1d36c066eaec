#!/bin/bash
# sync_gil.sh - "ipclab sync gil": each model on each workload produces one point per
# worker count 1..W with wall time, speed-up (1 for one worker) and the ideal, and the
# computed shape; only the GIL model counts GIL switches. The speed-ups themselves are
# timing and are NOT asserted. Worker counts outside 1..2*nproc exit 2.
# Usage: tests/integration/sync_gil.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

NCPU=$(getconf _NPROCESSORS_ONLN)
W=$((2 * NCPU < 3 ? 2 * NCPU : 3))

# case_model WORKLOAD MODEL
case_model() {
	local wl=$1 model=$2
	run "$IPCLAB" sync gil --workload "$wl" --model "$model" --workers "$W" --work-ms 30 --timeout 60 --json
	if [ "$wl" = cpu ] && [ "$NCPU" -lt 2 ]; then # nothing can compute in parallel: said so
		expect_rc 4 "sync gil --workload cpu on one CPU" || return
		jcheck "$T/out" '"one CPU" in d["results"]["inconclusive"]'
		return
	fi
	expect_rc 0 "sync gil --workload $wl --model $model" || return
	jcheck "$T/out" "${ENVELOPE[@]}" \
		'd["experiment"] == "sync gil" and d["exit_code"] == 0' \
		"d['params']['workload'] == '$wl' and d['params']['model'] == '$model' and d['params']['workers'] == $W" \
		"[p['workers'] for p in d['results']['points']] == list(range(1, $W + 1))" \
		'all(p["wall_ns"] > 0 and p["speedup"] > 0 and p["cpu_ns"] >= 0 for p in d["results"]["points"])' \
		'd["results"]["points"][0]["speedup"] == 1.0' \
		'all(abs(p["speedup"] - d["results"]["points"][0]["wall_ns"] / p["wall_ns"]) < 1e-6 for p in d["results"]["points"])' \
		'all(abs(p["efficiency"] - p["speedup"] / p["workers"]) < 1e-9 for p in d["results"]["points"])' \
		'sorted(d["results"]["shape"]) == ["expected", "fraction_of_ideal", "ideal_at_max", "speedup_at_max"]' \
		'd["results"]["shape"]["speedup_at_max"] == d["results"]["points"][-1]["speedup"]' \
		'd["results"]["calibration"]["chunk_iterations"] > 0' \
		'd["results"]["inconclusive"] is None and d["results"]["points"][0]["overlap_ns"] == 0' \
		'any(p["overlap_ns"] > 0 for p in d["results"]["points"][1:])'
	case $wl/$model in
	io/*) jcheck "$T/out" "[p['ideal_speedup'] for p in d['results']['points']] == list(range(1, $W + 1))" ;;
	cpu/gil) jcheck "$T/out" 'all(p["ideal_speedup"] == 1 for p in d["results"]["points"])' ;;
	cpu/*) jcheck "$T/out" "[p['ideal_speedup'] for p in d['results']['points']] == [min(n, $NCPU) for n in range(1, $W + 1)]" ;;
	esac
	if [ "$model" = gil ]; then
		jcheck "$T/out" 'all(p["gil_switches"] >= 1 for p in d["results"]["points"])'
	else
		jcheck "$T/out" 'all(p["gil_switches"] == 0 and p["gil_drop_requests"] == 0 for p in d["results"]["points"])'
	fi
}

case_human() {
	run "$IPCLAB" sync gil --workload cpu --model gil --workers 2 --work-ms 20 --timeout 60
	expect_rc 0 "sync gil (human)" || return
	grep -q '^sync gil: cpu workload, gil, 20 ms of work per point, switch interval 5 ms' "$T/out" ||
		fail "header: $(head -n 1 "$T/out")"
	grep -q '^  expected: flat, about 1' "$T/out" || fail "no expected line: $(paste -sd'|' "$T/out")"
	[ "$(grep -c -E '^ +[12] ' "$T/out")" -eq 2 ] || fail "want 2 point rows: $(paste -sd'|' "$T/out")"
}

# what cannot show a speed-up says so (exit 4, one line): one worker; one CPU (cpu work)
case_inconclusive() {
	run "$IPCLAB" sync gil --workload io --model threads --workers 1 --work-ms 5 --json
	expect_rc 4 "sync gil --workers 1" || return
	jcheck "$T/out" 'd["exit_code"] == 4' '"one worker" in d["results"]["inconclusive"]' \
		'len(d["results"]["points"]) == 1'
	if ! { [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^ipclab: sync gil: inconclusive: ' "$T/err"; }; then
		fail "exit 4 without one line saying why: $(paste -sd'|' "$T/err")"
	fi
	command -v taskset >/dev/null || { skip "no taskset to confine the run to one CPU"; return; }
	run taskset -c "$(awk '/^Cpus_allowed_list/ { split($2, a, /[-,]/); print a[1] }' /proc/self/status)" \
		"$IPCLAB" sync gil --workload cpu --model threads --workers 2 --work-ms 5 --json
	expect_rc 4 "sync gil on one CPU" || return
	jcheck "$T/out" '"one CPU" in d["results"]["inconclusive"] and d["results"]["allowed_cpus"] == 1'
}

case_usage() {
	expect_usage "$IPCLAB" sync gil --workers 0
	expect_usage "$IPCLAB" sync gil --workers $((2 * NCPU + 1))
	grep -q "1\.\.$((2 * NCPU))" "$T/err" || fail "range not 1..2*nproc: $(cat "$T/err")"
	expect_usage "$IPCLAB" sync gil --model fibers
	grep -q 'threads|gil|processes' "$T/err" || fail "--model: choices not listed"
	expect_usage "$IPCLAB" sync gil --workload disk
	expect_usage "$IPCLAB" sync gil --switch-ms 0
	expect_usage "$IPCLAB" sync gil --work-ms 0
	expect_usage "$IPCLAB" sync gil --mode thread
}

for wl in cpu io; do
	for model in threads gil processes; do
		run_case "sync_gil_${wl}_${model}" case_model "$wl" "$model"
	done
done
run_case sync_gil_human case_human
run_case sync_gil_inconclusive case_inconclusive
run_case sync_gil_usage case_usage
finish
