#!/bin/bash
# sync_event.sh - "ipclab sync event": each implementation (condvar, eventfd, futex, pipe)
# in both modes passes the Event checks (clear at first, set/is_set/clear, a wait on a set
# event returns at once, timed waits on a clear event time out and are never early, the
# waiter sees is_set after waking), measures one set->wake latency per round and one
# lateness per timed wait; --cpu pins setter and waiter; --repeat runs successive
# waiters; --hist writes two gnuplot blocks; bad options exit 2.
# Usage: tests/integration/sync_event.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ITER=200
WARM=20
M=5

# summary KEY COUNT: a latency summary with COUNT samples and ordered percentiles
summary() {
	local k=$1
	printf '%s\n' \
		"${k}['count'] == $2" \
		"0 < ${k}['min'] <= ${k}['p50'] <= ${k}['p90'] <= ${k}['p99'] <= ${k}['p999'] <= ${k}['max']" \
		"${k}['overflow'] == 0"
}

# case_impl IMPL MODE
case_impl() {
	local impl=$1 mode=$2 checks=()
	run "$IPCLAB" sync event --impl "$impl" --mode "$mode" --iterations "$ITER" --warmup "$WARM" \
		--timed-waits "$M" --wait-us 500 --timeout 60 --json
	expect_rc 0 "sync event --impl $impl --mode $mode" || return
	mapfile -t checks < <(summary "d['results']['wake_latency']" "$ITER"; summary "d['results']['timed_wait']['lateness']" "$M")
	jcheck "$T/out" "${ENVELOPE[@]}" "${checks[@]}" \
		'd["experiment"] == "sync event" and d["exit_code"] == 0' \
		"d['params']['impl'] == '$impl' and d['params']['mode'] == '$mode'" \
		"d['params']['iterations'] == $ITER and d['params']['warmup'] == $WARM" \
		"sorted(d['results']['checks']) == sorted(['initially_clear', 'is_set_after_set', 'wait_on_set_returns_at_once', 'still_set_after_wait', 'is_clear_after_clear', 'cleared_wait_times_out', 'timed_wait_never_early', 'waiter_saw_is_set'])" \
		'all(d["results"]["checks"].values())' \
		"d['results']['rounds'] == $ITER + $WARM" \
		"d['results']['waiter_asleep']['asleep_before_set'] + d['results']['waiter_asleep']['not_asleep'] == $ITER + $WARM" \
		"d['results']['timed_wait']['timed_out'] == $M and d['results']['timed_wait']['early'] == 0" \
		'd["results"]["timed_wait"]["timeout_ns"] == 500000' \
		'd["results"]["immediate_wait_ns"] >= 0' \
		"d['results']['impl']['name'] == '$impl'"
}

# --hist=FILE: wake latency and lateness blocks, '#' headers, counts add up
case_hist() {
	run "$IPCLAB" sync event --impl futex --mode thread --iterations 100 --warmup 0 --timed-waits 3 \
		--hist="$T/h.tsv" --json="$T/r.json" --quiet
	expect_rc 0 "--hist=FILE" || return
	grep -q '^sync event: futex' "$T/out" || fail "no human table with --json=FILE"
	"$PY" - "$T/h.tsv" >"$T/h.check" <<'PYEOF'
import sys
blocks = [b for b in open(sys.argv[1]).read().split("\n\n\n") if b.strip()]
want = [("wake_latency", 100), ("timed_wait_lateness", 3)]
if len(blocks) != 2:
    print("%d blocks, want 2" % len(blocks))
    sys.exit()
for (name, n), b in zip(want, blocks):
    lines = b.strip("\n").split("\n")
    if not lines[0].startswith("#") or name not in lines[0]:
        print("block %s: header %r" % (name, lines[0]))
    total = sum(int(l.split("\t")[1]) for l in lines if l and not l.startswith("#"))
    if total != n:
        print("block %s: %d samples, want %d" % (name, total, n))
PYEOF
	[ -s "$T/h.check" ] && fail "$(paste -sd';' "$T/h.check")"
	return 0
}

# case_pinned MODE A,B: the setter runs on CPU A, the waiter on CPU B, start to end
case_pinned() {
	local mode=$1 cpus=$2 a=${2%,*} b=${2#*,}
	run "$IPCLAB" sync event --impl eventfd --mode "$mode" --cpu "$cpus" --iterations "$ITER" --warmup "$WARM" \
		--timed-waits "$M" --wait-us 500 --timeout 60 --json
	expect_rc 0 "sync event --mode $mode --cpu $cpus" || return
	jcheck "$T/out" "d['params']['cpu'] == [$a, $b]" 'all(d["results"]["checks"].values())' \
		"[r['cpu'] for r in d['results']['repeats']] == [{'setter': [$a, $a], 'waiter': [$b, $b]}]" \
		"d['results']['wake_latency']['count'] == $ITER"
}

# --repeat 3: three waiters in turn; every count triples, one entry per repeat
case_repeat() {
	local mode=$1 n=3
	run "$IPCLAB" sync event --impl condvar --mode "$mode" --repeat "$n" --iterations "$ITER" --warmup "$WARM" \
		--timed-waits "$M" --wait-us 500 --timeout 60 --json
	expect_rc 0 "sync event --mode $mode --repeat $n" || return
	jcheck "$T/out" "d['params']['repeat'] == $n" 'all(d["results"]["checks"].values())' \
		"d['results']['rounds'] == $n * ($ITER + $WARM)" \
		"d['results']['wake_latency']['count'] == $n * $ITER" \
		"[r['repeat'] for r in d['results']['repeats']] == list(range($n))" \
		'all(r["wake_p50"] > 0 and r["wake_mean"] > 0 for r in d["results"]["repeats"])' \
		'd["results"]["repeat_rel_stddev_p50"] >= 0' \
		"d['results']['waiter_asleep']['asleep_before_set'] + d['results']['waiter_asleep']['not_asleep'] == $n * ($ITER + $WARM)"
}

case_usage() {
	expect_usage "$IPCLAB" sync event --repeat 0
	expect_usage "$IPCLAB" sync event --cpu 99999
	expect_usage "$IPCLAB" sync event --impl semaphore
	grep -q 'condvar|eventfd|futex|pipe' "$T/err" || fail "--impl: choices not listed: $(cat "$T/err")"
	expect_usage "$IPCLAB" sync event --wait-us 0
	expect_usage "$IPCLAB" sync event --wait-us 1000001
	expect_usage "$IPCLAB" sync event --timed-waits 0
	expect_usage "$IPCLAB" sync event --iterations 0
	run "$IPCLAB" sync event --help
	expect_rc 0 "--help"
	grep -q -- '--impl' "$T/out" || fail "--help lacks --impl"
}

for impl in condvar eventfd futex pipe; do
	for mode in thread process; do
		run_case "sync_event_${impl}_${mode}" case_impl "$impl" "$mode"
	done
done
run_case sync_event_hist case_hist
run_case sync_event_pinned_same_thread case_pinned thread 0,0
if [ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ]; then
	run_case sync_event_pinned_cross_process case_pinned process 0,1
else
	ok_case "sync_event_pinned_cross_process # SKIP one CPU"
fi
run_case sync_event_repeat_thread case_repeat thread
run_case sync_event_repeat_process case_repeat process
run_case sync_event_usage case_usage
finish
