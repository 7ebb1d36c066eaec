#!/bin/bash
# task_trace.sh - "ipclab task spawn" under scripts/ipclab-trace: exactly N task_spawn,
# task_start, task_exit and task_reaped events for N tasks (warm-up included), nothing
# discarded; the start/exit of a forked child (forked without the tracer's fork hooks) and
# of an exec'd helper are emitted for them by the creator (proxy), while with
# --child-trace self each forked child emits its own (one vpid each). "ipclab task
# lifecycle": one of each event per object, each object's task_start in its own vtid and
# under the name it gave itself (the procname context); "task pool --kind spawn-per-task":
# one of each per task, all from our vpid. Skipped (ok # SKIP) when LTTng cannot trace here.
# Usage: tests/integration/task_trace.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRACE=$REPO/scripts/ipclab-trace
COUNT=$REPO/scripts/ipclab-trace-count
PROVIDER=$TL_BUILD/lib/libipclab-tp.so
NTRACE=0
SKIP=
TRACE_OPTS=()

# traced OUTVAR CMD...: run CMD under ipclab-trace; its pid (written before exec) in
# $T/pid. Returns 1 on failure, 2 (the case skipped, saying why) when the run was not traced.
traced() {
	local _var=$1 _dir
	shift
	NTRACE=$((NTRACE + 1))
	_dir=$T/trace-$NTRACE
	printf -v "$_var" '%s' "$_dir"
	rm -f "$T/pid"
	# shellcheck disable=SC2016
	RUN_TIMEOUT=120 run "$TRACE" --out "$_dir" --name tasktest --provider "$PROVIDER" --quiet "${TRACE_OPTS[@]}" -- \
		bash -c 'echo $$ >"$1"; shift; exec "$@"' wrapper "$T/pid" "$@"
	if [ ! -s "$_dir/ipclab-trace.json" ]; then
		fail "ipclab-trace wrote no ipclab-trace.json (exit $RC: $(head -n 2 "$T/err" | paste -sd'|' -))"
		return 1
	fi
	if [ "$(jget "$_dir/ipclab-trace.json" 'd["traced"]')" != true ]; then
		skip "LTTng cannot trace here: $(grep -m1 'ipclab-trace' "$T/err")"
		return 2
	fi
	if ! "$COUNT" "$_dir" --json >"$T/count.json" 2>"$T/count.err"; then
		fail "ipclab-trace-count failed: $(head -n 1 "$T/count.err")"
		return 1
	fi
}

# case_spawn METHOD N W PROXY [EXTRA...]
case_spawn() {
	# shellcheck disable=SC2034 # dir is set by traced
	local m=$1 n=$2 w=$3 proxy=$4 dir r main
	shift 4
	traced dir "$IPCLAB" task spawn --method "$m" "$@" --iterations "$n" --warmup "$w" --json="$T/r.json" --quiet
	r=$?
	[ "$r" -eq 0 ] || return "$r"
	expect_rc 0 "traced task spawn --method $m" || return 1
	local t=$((n + w))
	main=$(cat "$T/pid")
	jcheck "$T/r.json" 'd["results"]["traced"] is True' "d['results']['reaped'] == $t"
	jcheck "$T/count.json" \
		'd["complete"] is True' \
		"all(d['by_name'].get('ipclab_task:' + e) == $t for e in ('task_spawn', 'task_start', 'task_exit', 'task_reaped'))" \
		"d['total'] == 4 * $t" \
		"list(d['by_name_vpid']['ipclab_task:task_spawn']) == ['$main']" \
		"list(d['by_name_vpid']['ipclab_task:task_reaped']) == ['$main']"
	if [ "$proxy" = yes ]; then
		# the creator emitted start/exit for its children, each carrying the child's own
		# start stamp: after its task_spawn, before its task_reaped (the trace clock is
		# CLOCK_MONOTONIC, the stamp's clock)
		jcheck "$T/count.json" \
			"list(d['by_name_vpid']['ipclab_task:task_start']) == ['$main']" \
			"list(d['by_name_vpid']['ipclab_task:task_exit']) == ['$main']"
		local inside
		inside=$(babeltrace2 --clock-cycles "$dir" 2>/dev/null | awk '
			match($0, /task_(spawn|start|reaped):/) {
				ts = substr($1, 2) + 0; match($0, /seq = [0-9]+/); seq = substr($0, RSTART + 6, RLENGTH - 6)
				if ($0 ~ /task_spawn:/) sp[seq] = ts
				else if ($0 ~ /task_reaped:/) re[seq] = ts
				else { match($0, /t_start = [0-9]+/); st[seq] = substr($0, RSTART + 10, RLENGTH - 10) + 0 }
			}
			END { n = 0; for (k in st) if (sp[k] <= st[k] && st[k] <= re[k]) n++; print n }')
		[ "$inside" = "$t" ] || fail "$inside of $t proxied task_start stamps lie between their task_spawn and task_reaped"
	else
		# each forked child emitted its own start and exit: N+W children, one of each
		jcheck "$T/count.json" \
			"len(d['by_name_vpid']['ipclab_task:task_start']) == $t and '$main' not in d['by_name_vpid']['ipclab_task:task_start']" \
			"all(v == 1 for v in d['by_name_vpid']['ipclab_task:task_start'].values())" \
			"d['by_name_vpid']['ipclab_task:task_start'] == d['by_name_vpid']['ipclab_task:task_exit']"
	fi
}

# task lifecycle: 2 objects, one of each event for each; the process object's start and
# exit come from its own vpid, the thread's from its own vtid in ours; both task_start
# events carry the name the task gave itself as procname
case_lifecycle() {
	# shellcheck disable=SC2034 # dir is set by traced
	local dir r main
	TRACE_OPTS=(--procname)
	traced dir "$IPCLAB" task lifecycle --json="$T/r.json" --quiet
	r=$?
	TRACE_OPTS=()
	[ "$r" -eq 0 ] || return "$r"
	expect_rc 0 "traced task lifecycle" || return 1
	main=$(cat "$T/pid")
	local ppid ttid
	ppid=$(jget "$T/r.json" 'd["results"]["objects"]["process"]["pid"]')
	ttid=$(jget "$T/r.json" 'd["results"]["objects"]["thread"]["tid"]')
	jcheck "$T/r.json" 'd["results"]["traced"] is True' 'd["results"]["failed"] == 0'
	jcheck "$T/count.json" 'd["complete"] is True' \
		"all(d['by_name'].get('ipclab_task:' + e) == 2 for e in ('task_spawn', 'task_start', 'task_exit', 'task_reaped'))" \
		"d['by_name_vpid']['ipclab_task:task_start'] == {'$ppid': 1, '$main': 1}" \
		"d['by_name_vpid']['ipclab_task:task_exit'] == {'$ppid': 1, '$main': 1}" \
		"list(d['by_name_vpid']['ipclab_task:task_reaped']) == ['$main']"
	# the procname context of each task_start: the task's own name
	babeltrace2 "$dir" 2>"$T/bt.err" | grep 'ipclab_task:task_start' >"$T/starts"
	grep -q "procname = \"ipclab-life-p\".*pid = $ppid, tid = $ppid," "$T/starts" ||
		fail "no task_start under procname ipclab-life-p for pid $ppid: $(head -n 2 "$T/starts")"
	grep -q "procname = \"ipclab-life-t\".*pid = $main, tid = $ttid," "$T/starts" ||
		fail "no task_start under procname ipclab-life-t for tid $ttid: $(head -n 2 "$T/starts")"
}

# task pool --kind spawn-per-task: one task process per task, forked without the tracer's
# fork hooks; the pool emits every task's start/exit for it (proxy), exactly one each
case_pool() {
	# shellcheck disable=SC2034 # dir is set by traced
	local dir r main n=24
	traced dir "$IPCLAB" task pool --kind spawn-per-task --tasks "$n" --task-us 0 --workers 2 --json="$T/r.json" --quiet
	r=$?
	[ "$r" -eq 0 ] || return "$r"
	expect_rc 0 "traced task pool" || return 1
	main=$(cat "$T/pid")
	jcheck "$T/r.json" 'd["results"]["traced"] is True' "d['results']['verified'] == $n"
	jcheck "$T/count.json" 'd["complete"] is True' \
		"all(d['by_name'].get('ipclab_task:' + e) == $n for e in ('task_spawn', 'task_start', 'task_exit', 'task_reaped'))" \
		"all(list(v) == ['$main'] for v in d['by_name_vpid'].values())"
}

if [ ! -x "$TRACE" ] || [ ! -x "$COUNT" ] || [ ! -f "$PROVIDER" ]; then
	SKIP="scripts/ipclab-trace, scripts/ipclab-trace-count or $PROVIDER missing"
fi
for c in "task_trace_fork fork 5 1 yes" "task_trace_fork_self fork 4 0 no --child-trace self" \
	"task_trace_posix_spawn posix_spawn 4 1 yes --exec nop"; do
	read -r name m n w proxy extra <<<"$c"
	if [ -n "$SKIP" ]; then
		skip_case "$name" "$SKIP"
		continue
	fi
	# shellcheck disable=SC2086
	run_case "$name" case_spawn "$m" "$n" "$w" "$proxy" $extra
done
for c in "task_trace_lifecycle case_lifecycle" "task_trace_pool case_pool"; do
	read -r name fn <<<"$c"
	if [ -n "$SKIP" ]; then
		skip_case "$name" "$SKIP"
	else
		run_case "$name" "$fn"
	fi
done
finish
