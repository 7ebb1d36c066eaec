#!/bin/bash
# sync_race_trace.sh - "ipclab sync race" traced with scripts/ipclab-trace (two small
# runs): exact event counts (5 per increment
# with a lock, 2 without; one run_begin/run_end), nothing discarded, and what the trace
# alone says agrees with the run's own numbers:
#   mutex, process mode: the reads are exactly 0..W*N-1 and the writes 1..W*N in time
#     order, each worker's events cycle request/acquire/read/write/release, hold
#     intervals never overlap, each worker process carries 5*N events;
#   none, thread mode: each increment is a read r then a write r+1 by the same worker;
#     the last write is the final counter, W*N - final = the reported lost updates.
# Without LTTng (ipclab-trace runs the command untraced) the cases are skipped.
# Usage: tests/integration/sync_race_trace.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRACE=$REPO/scripts/ipclab-trace
COUNT=$REPO/scripts/ipclab-trace-count
NTRACE=0

# traced OUTVAR CMD...: CMD under ipclab-trace (our build's provider) into a fresh
# directory; COMMAND's pid in $T/pid. Returns 2 (skip) when the run was not traced.
traced() {
	local _var=$1 _dir
	shift
	NTRACE=$((NTRACE + 1))
	_dir=$T/trace-$NTRACE
	printf -v "$_var" '%s' "$_dir"
	rm -f "$T/pid"
	# shellcheck disable=SC2016
	RUN_TIMEOUT=120 run "$TRACE" --out "$_dir" --name ipclabsync --provider "$TL_BUILD/lib/libipclab-tp.so" \
		--quiet -- bash -c 'echo $$ >"$1"; shift; exec "$@"' wrapper "$T/pid" "$@"
	if [ ! -s "$_dir/ipclab-trace.json" ]; then
		fail "ipclab-trace wrote no $_dir/ipclab-trace.json (exit $RC: $(head -n 2 "$T/err" | paste -sd'|' -))"
		return 1
	fi
	[ "$(jget "$_dir/ipclab-trace.json" 'd["traced"]')" = true ] || return 2
	if ! "$COUNT" "$_dir" --json >"$T/count.json" 2>"$T/count.err"; then
		fail "ipclab-trace-count failed: $(head -n 1 "$T/count.err")"
		return 1
	fi
}

# analyse DIR RESULT_JSON KIND: what the trace alone says (bt2), checked against the result
analyse() {
	"$PY" - "$1" "$2" "$3" <<'EOF'
import json, sys
import bt2
trace_dir, res_file, kind = sys.argv[1:4]
d = json.load(open(res_file))
res, par = d["results"], d["params"]
W, N = par["workers"], par["increments"]
ev = []
for msg in bt2.TraceCollectionMessageIterator(trace_dir):
    if type(msg) is not bt2._EventMessageConst:
        continue
    e = msg.event
    prov, name = e.name.split(":")
    if prov != "ipclab_lock":
        continue
    f = {k: (str(v) if k == "kind" else int(v)) for k, v in e.payload_field.items()}
    ev.append((msg.default_clock_snapshot.ns_from_origin, name, int(e.common_context_field["vtid"]), f))
ev.sort(key=lambda x: x[0])
out = []
def bad(m):
    out.append(m)
reads = [x for x in ev if x[1] == "race_read"]
writes = [x for x in ev if x[1] == "race_write"]
# per worker: read r, then write r+1 by the same worker; one thread per worker
per = {}
for t, name, tid, f in ev:
    if name.startswith("race_"):
        per.setdefault(f["worker"], []).append((name, f["value"], tid))
if sorted(per) != list(range(W)):
    bad("workers in the trace %s, want 0..%d" % (sorted(per), W - 1))
for w, seq in per.items():
    if len({tid for _, _, tid in seq}) != 1:
        bad("worker %d ran on several threads" % w)
    if len(seq) != 2 * N:
        bad("worker %d: %d race events, want %d" % (w, len(seq), 2 * N))
    for i in range(0, len(seq) - 1, 2):
        (a, r, _), (b, v, _) = seq[i], seq[i + 1]
        if a != "race_read" or b != "race_write" or v != r + 1:
            bad("worker %d increment %d: %s %d then %s %d" % (w, i // 2, a, r, b, v))
            break
final = writes[-1][3]["value"] if writes else 0
if final != res["actual"]:
    bad("last write in the trace %d, counter %d" % (final, res["actual"]))
if W * N - final != res["lost_updates"]:
    bad("lost from the trace %d, reported %d" % (W * N - final, res["lost_updates"]))
if kind == "mutex":
    if [x[3]["value"] for x in reads] != list(range(W * N)):
        bad("reads are not 0..W*N-1 in time order")
    if [x[3]["value"] for x in writes] != list(range(1, W * N + 1)):
        bad("writes are not 1..W*N in time order")
    cyc = ["lock_request", "lock_acquire", "race_read", "race_write", "lock_release"]
    by_tid = {}
    for t, name, tid, f in ev:
        by_tid.setdefault(tid, []).append(name)
        if name.startswith("lock_") and (f["lock"] != 0 or f["kind"] != "mutex"):
            bad("lock event with lock %d kind %s" % (f["lock"], f["kind"]))
            break
    for tid, names in by_tid.items():
        if names != cyc * N:
            bad("thread %d does not cycle %s" % (tid, "/".join(cyc)))
    held = [x[1] for x in ev if x[1] in ("lock_acquire", "lock_release")]
    if held != ["lock_acquire", "lock_release"] * (W * N):
        bad("hold intervals overlap")
else:
    stale = sum(1 for a, b in zip(writes, writes[1:]) if b[3]["value"] <= a[3]["value"])
    if res["lost_updates"] and not stale:
        bad("lost updates reported but no write went backwards in the trace")
print("\n".join(out[:5]))
EOF
}

# case_mutex_process W N
case_mutex_process() {
	local w=$1 n=$2 dir main r
	traced dir "$IPCLAB" sync race --sync mutex --mode process --workers "$w" --increments "$n" \
		--json="$T/r.json" --quiet
	r=$?
	[ "$r" -eq 2 ] && { skip "not traced: $(grep -m1 'ipclab-trace' "$T/err")"; return; }
	[ "$r" -eq 0 ] || return
	expect_rc 0 "traced sync race mutex" || return
	main=$(cat "$T/pid")
	local per=$((5 * n))
	jcheck "$T/r.json" 'd["exit_code"] == 0' 'd["results"]["traced"] is True' \
		'd["results"]["trace"] == {"per_increment_events": True, "events_per_increment": 5}' \
		"d['results']['actual'] == $w * $n"
	jcheck "$T/count.json" 'd["complete"] is True' \
		"d['total'] == 5 * $w * $n + 2" \
		"all(d['by_name'].get('ipclab_lock:' + e) == $w * $n for e in ('lock_request', 'lock_acquire', 'lock_release', 'race_read', 'race_write'))" \
		"d['by_name'].get('ipclab_run:run_begin') == 1 and d['by_name'].get('ipclab_run:run_end') == 1" \
		"d['by_vpid'].get('$main') == 2" \
		"len(d['by_vpid']) == $w + 1" \
		"all(v == $per for p, v in d['by_vpid'].items() if p != '$main')"
	local msg
	msg=$(analyse "$dir" "$T/r.json" mutex 2>&1) || fail "analysis crashed: $(tail -n 1 <<<"$msg")"
	[ -z "$msg" ] || fail "$(paste -sd';' <<<"$msg")"
}

# case_none_thread W N
case_none_thread() {
	local w=$1 n=$2 dir main r
	traced dir "$IPCLAB" sync race --sync none --mode thread --workers "$w" --increments "$n" \
		--json="$T/r.json" --quiet
	r=$?
	[ "$r" -eq 2 ] && { skip "not traced: $(grep -m1 'ipclab-trace' "$T/err")"; return; }
	[ "$r" -eq 0 ] || return
	# lost updates (exit 0), or none and inconclusive (exit 4): the events are the same
	[ "$RC" -eq 0 ] || [ "$RC" -eq 4 ] || { fail "traced sync race none: exit $RC"; return; }
	main=$(cat "$T/pid")
	jcheck "$T/r.json" "d['exit_code'] == $RC" '(d["exit_code"] == 0) == (d["results"]["lost_updates"] > 0)' \
		'd["results"]["traced"] is True' \
		'd["results"]["trace"] == {"per_increment_events": True, "events_per_increment": 2}'
	jcheck "$T/count.json" 'd["complete"] is True' \
		"d['total'] == 2 * $w * $n + 2" \
		"d['by_name'].get('ipclab_lock:race_read') == $w * $n" \
		"d['by_name'].get('ipclab_lock:race_write') == $w * $n" \
		"not any(k.startswith('ipclab_lock:lock_') for k in d['by_name'])" \
		"list(d['by_vpid']) == ['$main']"
	local msg
	msg=$(analyse "$dir" "$T/r.json" none 2>&1) || fail "analysis crashed: $(tail -n 1 <<<"$msg")"
	[ -z "$msg" ] || fail "$(paste -sd';' <<<"$msg")"
}

# run_or_skip NAME FUNCTION ARGS...: run_case, or a SKIP when the scripts are missing
run_or_skip() {
	if [ ! -x "$TRACE" ] || [ ! -x "$COUNT" ]; then
		skip_case "$1" "scripts/ipclab-trace or ipclab-trace-count missing"
		return
	fi
	run_case "$@"
}

run_or_skip sync_race_trace_mutex_process case_mutex_process 2 500
run_or_skip sync_race_trace_none_thread case_none_thread 2 2000
finish
