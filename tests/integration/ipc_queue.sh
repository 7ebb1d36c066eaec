#!/bin/bash
# ipc_queue.sh - "ipclab ipc queue": every step of the POSIX and SysV transcripts passes,
# with the exact number of steps for each --kind/--capacity/--size (POSIX 2N+18, SysV 2N+9);
# the human transcript has one numbered line per step; queue limits exit 3 naming the
# sysctl (in a private IPC namespace, without CAP_SYS_RESOURCE); bad options exit 2 with
# one line; nothing is left in /dev/mqueue or ipcs -q.
# Usage: tests/integration/ipc_queue.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# our_mqueues: our ipclab queues (mounting the mqueue fs privately if /dev/mqueue is not)
our_mqueues() {
	local f dir=/dev/mqueue
	if ! mountpoint -q /dev/mqueue; then
		mkdir -p "$T/mq"
		# shellcheck disable=SC2016 # $1 is expanded by the inner sh
		unshare --mount sh -c 'mount -t mqueue mqueue "$1" && ls -1 "$1"' sh "$T/mq" >"$T/mq.list" 2>/dev/null ||
			{ echo "cannot-list-mqueue"; return; }
	else
		ls -1 "$dir" >"$T/mq.list"
	fi
	while read -r f; do
		case $f in ipclab-*) foreign "$f" || echo "$f" ;; esac
	done <"$T/mq.list"
}

# our_msgqs: SysV queues owned by us (ipcs -q ids)
our_msgqs() {
	ipcs -q | awk '$2 ~ /^[0-9]+$/ { print $2 }' | LC_ALL=C sort
}

# case_run KIND N S: exit 0, every step passed, exact counts
case_run() {
	local kind=$1 n=$2 s=$3 mq_before q_before np ns total
	mq_before=$(our_mqueues)
	q_before=$(our_msgqs)
	np=0 ns=0
	[ "$kind" = sysv ] || np=$((2 * n + 18))
	[ "$kind" = posix ] || ns=$((2 * n + 9))
	total=$((np + ns))
	local pre=()
	# a SysV queue of N*S bytes above kernel.msgmnb needs CAP_SYS_RESOURCE (often dropped in
	# containers): run in a private IPC namespace whose msgmnb is raised to N*S
	if [ "$kind" != posix ] && [ $((n * s)) -gt "$(cat /proc/sys/kernel/msgmnb)" ]; then
		pre=(unshare --ipc sh -c "echo $((n * s)) >/proc/sys/kernel/msgmnb && exec \"\$@\"" sh)
	fi
	run "${pre[@]}" "$IPCLAB" ipc queue --kind "$kind" --capacity "$n" --size "$s" --json
	expect_rc 0 "ipc queue --kind $kind --capacity $n --size $s" || return
	jcheck "$T/out" "${ENVELOPE[@]}" \
		'd["experiment"] == "ipc queue" and d["exit_code"] == 0' \
		"d['params'] == {'kind': '$kind', 'capacity': $n, 'size': $s, 'timeout_s': 300}" \
		"len(d['results']['steps']) == $total" \
		"d['results']['passed'] == $total and d['results']['failed'] == 0" \
		"[x['n'] for x in d['results']['steps']] == list(range(1, $total + 1))" \
		'all(x["pass"] is True and x["expected"] == x["actual"] or x["op"] == "put after IPC_RMID" for x in d["results"]["steps"])' \
		'all(set(x) == {"n", "kind", "op", "expected", "actual", "pass", "note"} for x in d["results"]["steps"])' \
		"sum(x['kind'] == 'posix' for x in d['results']['steps']) == $np" \
		"sum(x['kind'] == 'sysv' for x in d['results']['steps']) == $ns"
	[ "$np" -eq 0 ] || jcheck "$T/out" "d['results']['kinds']['posix'] == {'steps': $np, 'first_step': 1, 'passed': $np, 'failed': 0}" \
		"any(x['expected'] == 'maxmsg=$n msgsize=$s curmsgs=0' for x in d['results']['steps'])" \
		"[x['actual'] for x in d['results']['steps'] if x['op'].startswith('get (highest')] == ['seq=1 prio=5', 'seq=3 prio=5', 'seq=0 prio=1', 'seq=2 prio=1']"
	[ "$ns" -eq 0 ] || jcheck "$T/out" "d['results']['kinds']['sysv'] == {'steps': $ns, 'first_step': $np + 1, 'passed': $ns, 'failed': 0}" \
		"any(x['actual'] == 'qbytes=$((n * s)) qnum=0 cbytes=0' for x in d['results']['steps'])" \
		"any(x['actual'].startswith('asleep, get seq=0, then ok') for x in d['results']['steps'])"
	[ "$(our_mqueues)" = "$mq_before" ] || fail "POSIX queue left: $(our_mqueues)"
	[ "$(our_msgqs)" = "$q_before" ] || fail "SysV queue left: $(our_msgqs)"
}

# the human transcript: a numbered line per step ending in ok, the per-kind totals
case_human() {
	run "$IPCLAB" ipc queue --capacity 2
	expect_rc 0 "ipc queue (human)" || return
	grep -q '^ipc queue: both, capacity 2 messages of 64 bytes$' "$T/out" || fail "header: $(head -n 1 "$T/out")"
	[ "$(grep -c -E '^ *[0-9]+ (posix|sysv) .* ok( |$)' "$T/out")" -eq 35 ] || fail "want 35 ok step lines: $(paste -sd'|' "$T/out" | cut -c1-300)"
	grep -q 'FAIL' "$T/out" && fail "a FAIL line: $(grep FAIL "$T/out")"
	grep -q '^posix: 22/22 steps passed$' "$T/out" || fail "no posix total"
	grep -q '^sysv: 13/13 steps passed$' "$T/out" || fail "no sysv total"
	grep -q -E '^ *5 posix get on empty, mq_timedreceive +ETIMEDOUT +ETIMEDOUT +ok +\(blocked' "$T/out" || fail "step 5: $(sed -n 7p "$T/out")"
}

# limits: in a private IPC namespace with lowered sysctls and no CAP_SYS_RESOURCE
case_limits() {
	if ! command -v unshare >/dev/null || ! command -v setpriv >/dev/null; then
		fail "unshare/setpriv missing"
		return
	fi
	local drop=(setpriv --bounding-set=-sys_resource --inh-caps=-sys_resource)
	run unshare --ipc sh -c 'echo 2 >/proc/sys/fs/mqueue/msg_max && exec "$@"' sh "${drop[@]}" "$IPCLAB" ipc queue --kind posix --capacity 4
	expect_rc 3 "posix capacity 4 over fs.mqueue.msg_max=2"
	grep -q '/proc/sys/fs/mqueue/msg_max' "$T/err" || fail "msg_max not named: $(cat "$T/err")"
	[ "$(lines "$T/err")" -eq 1 ] || fail "want one line: $(cat "$T/err")"
	run unshare --ipc sh -c 'echo 64 >/proc/sys/kernel/msgmnb && exec "$@"' sh "${drop[@]}" "$IPCLAB" ipc queue --kind sysv --capacity 4 --json
	expect_rc 3 "sysv 4*64 over kernel.msgmnb=64"
	grep -q 'kernel.msgmnb' "$T/err" || fail "msgmnb not named: $(cat "$T/err")"
	jcheck "$T/out" 'd["exit_code"] == 3'
	# with the limit met, it runs
	run unshare --ipc sh -c 'echo 2 >/proc/sys/fs/mqueue/msg_max && exec "$@"' sh "${drop[@]}" "$IPCLAB" ipc queue --kind sysv --capacity 2
	expect_rc 0 "sysv unaffected by msg_max"
}

case_usage() {
	local v
	for v in 0 11 -1 x ""; do
		expect_usage "$IPCLAB" ipc queue --capacity "$v"
		grep -q -- '--capacity' "$T/err" || fail "--capacity '$v': option not named"
	done
	for v in 15 8193 1x; do
		expect_usage "$IPCLAB" ipc queue --size "$v"
	done
	expect_usage "$IPCLAB" ipc queue --kind bogus
	grep -q 'posix|sysv|both' "$T/err" || fail "--kind choices not listed"
	expect_usage "$IPCLAB" ipc queue --iterations 5
	expect_usage "$IPCLAB" ipc queue --mode thread
	expect_usage "$IPCLAB" ipc queue extra
	run "$IPCLAB" ipc queue --help
	expect_rc 0 "--help"
	grep -q -- '--capacity' "$T/out" || fail "--help lacks --capacity"
}

for kind in posix sysv both; do
	run_case "ipc_queue_${kind}_1_16" case_run "$kind" 1 16
	run_case "ipc_queue_${kind}_4_64" case_run "$kind" 4 64
	run_case "ipc_queue_${kind}_10_8192" case_run "$kind" 10 8192
done
run_case ipc_queue_both_3_1000 case_run both 3 1000
run_case ipc_queue_human case_human
run_case ipc_queue_limits case_limits
run_case ipc_queue_usage case_usage
finish
