# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables here are used by the scripts that source it
# lib.sh - shared helpers for tests/integration/*.sh and tests/trace/*.sh.
#
# Source it with the build directory as $1. Then write each case as a function and run
# it with `run_case NAME FUNCTION [ARGS...]`: the case fails on any `fail MSG` call and on
# anything it leaves behind (IPC objects, zombies, ipclab processes, LTTng sessions).
# Output is TAP-ish, one line per case: "ok - NAME", "ok - NAME # SKIP REASON" (a case
# that could not run: `skip REASON` inside it, or `skip_case NAME REASON`) or
# "not ok - NAME: REASON". tests/run-all counts skipped cases apart from passed ones.
# The script ends with `finish`, which exits 1 if any case failed.
#
# Rules these helpers enforce: never sleep to synchronise (poll_until waits, with a
# deadline, for an observable condition); keep the PIDs we start (bg_start) and kill
# only those; clean up in the EXIT trap.

TL_BUILD=${1:?usage: $0 BUILD_DIR}

# Private IPC objects: as root, each test script re-runs itself (same PID) in its own IPC
# and mount namespaces with a fresh /dev/shm and /dev/mqueue, so its leftover checks see
# exactly the objects its own cases created, never those of other users' runs on a
# shared machine (a SysV semaphore nobody has operated on yet names no process: it
# cannot be told apart otherwise). Everything in them vanishes with the script.
# IPCLAB_TEST_SHARED_NS=1 keeps the machine's namespaces (then checks are best effort).
# A script that sets TL_PRIVATE_NET=1 before sourcing also gets its own network namespace
# with only the loopback up (fixed ports of its own, never another address).
TL_NS_OPTS=(--ipc --mount --propagation private)
[ "${TL_PRIVATE_NET:-0}" = 0 ] || TL_NS_OPTS+=(--net)
if [ -z "${TL_IN_NS:-}" ] && [ "${IPCLAB_TEST_SHARED_NS:-0}" = 0 ] && [ "$(id -u)" = 0 ] &&
	unshare "${TL_NS_OPTS[@]}" true 2>/dev/null; then
	export TL_IN_NS=1
	exec unshare "${TL_NS_OPTS[@]}" -- "$BASH" "$0" "$@"
fi
if [ "${TL_IN_NS:-}" = 1 ]; then
	TL_IN_NS=2 # our children are not re-isolated
	if [ "${TL_PRIVATE_NET:-0}" != 0 ] && ! ip link set lo up; then
		echo "# could not bring up the loopback of the private network namespace"
		TL_IN_NS=3
	fi
	TL_SHM_ERR=$(mount -t tmpfs -o mode=1777,nosuid,nodev ipclab-test-shm /dev/shm 2>&1) ||
		TL_SHM_ERR=${TL_SHM_ERR:-mount -t tmpfs failed}
	# the mqueue file system takes no mount option: "-o mode=1777" made every mount fail
	# with EINVAL (kernel 6.x), so leftover checks saw the machine's queues. /dev is
	# shared (devtmpfs): mkdir -p never fails because another script made it first. A
	# failure here is a harness failure, reported below as a failed case.
	TL_MQ_ERR=
	if grep -q -w mqueue /proc/filesystems 2>/dev/null; then
		TL_MQ_ERR=$({ mkdir -p /dev/mqueue && mount -t mqueue mqueue /dev/mqueue; } 2>&1) ||
			TL_MQ_ERR=${TL_MQ_ERR:-mount -t mqueue failed}
	fi
fi
TL_BUILD=$(cd "$TL_BUILD" && pwd -P) || exit 2
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
IPCLAB=$TL_BUILD/bin/ipclab
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
# default bound for one foreground command (seconds): a hang fails the case, not CI
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
# a sanitizer build (make check SANITIZE=...): ASAN_RT is the ASan runtime, which must
# come first in any LD_PRELOAD a test sets (else ASan refuses to start); empty otherwise.
# A test that cannot work under ASan (ulimit -v: its shadow memory reserves terabytes of
# address space) says so: [ -z "$ASAN_RT" ] || { skip "REASON"; return; }
ASAN_RT=$(ldd "$IPCLAB" 2>/dev/null | awk '$1 ~ /^libasan\.so/ && $3 ~ /^\// { print $3; exit }')

T=$(mktemp -d "${TMPDIR:-/tmp}/ipclab-test.XXXXXX") || exit 2
TL_PIDS=()      # background processes this script started
TL_FG=          # the command `run` is waiting for
TL_PASS=0
TL_SKIP=0
TL_FAIL=0
TL_ERR=
TL_SKIPPED= # reason given by `skip` in the current case
TL_PGID=$(awk '{ sub(/.*\) /, ""); print $3 }' /proc/$$/stat)
# every process this script starts inherits this random mark in its environment: one
# that leaves our process tree (a daemon that forked away, an orphan reparented to init
# or a subreaper) is still found by it, whatever its name or process group
TL_MARK=IPCLAB_TEST_RUN=$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')
export "${TL_MARK?}"

# tl_cleanup: kill (by PID) what we started and is still running, remove our files
tl_cleanup() {
	local pid
	if [ -n "$TL_FG" ] && kill -0 "$TL_FG" 2>/dev/null; then
		# a `run` in progress: timeout forwards SIGTERM to the command (KILL 5 s later)
		kill -TERM "$TL_FG" 2>/dev/null
		wait "$TL_FG" 2>/dev/null
	fi
	for pid in "${TL_PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	rm -rf -- "$T"
}
trap tl_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- reporting

# fail MSG: record a failure of the current case (the first reasons are reported)
fail() {
	TL_ERR=${TL_ERR:+$TL_ERR; }$1
	return 1
}

# skip REASON: the current case cannot run here (no valgrind, no LTTng, one CPU): it is
# reported "ok - NAME # SKIP REASON", never as passed. Use as `skip "why"; return`.
skip() {
	TL_SKIPPED=${1:?skip needs a reason}
	return 0
}

# ok_case NAME / skip_case NAME REASON / notok_case NAME REASON: report one case outside
# run_case (a NAME ending in "# SKIP reason" counts as skipped)
ok_case() {
	echo "ok - $1"
	case $1 in
	*" # SKIP "*) TL_SKIP=$((TL_SKIP + 1)) ;;
	*) TL_PASS=$((TL_PASS + 1)) ;;
	esac
}
skip_case() {
	ok_case "$1 # SKIP ${2:?skip_case needs a reason}"
}
notok_case() {
	echo "not ok - $1: $2"
	TL_FAIL=$((TL_FAIL + 1))
}

# run_case NAME FUNCTION [ARGS...]: run one case with a leftover check around it
run_case() {
	local name=$1 left
	shift
	TL_ERR=
	TL_SKIPPED=
	snapshot >"$T/snap.before"
	"$@"
	reap_ours
	snapshot >"$T/snap.after"
	left=$(comm -13 "$T/snap.before" "$T/snap.after" | paste -sd, -)
	[ -z "$left" ] || fail "left behind: $left"
	if [ -z "$TL_ERR" ] && [ -n "$TL_SKIPPED" ]; then
		skip_case "$name" "$(printf '%s' "$TL_SKIPPED" | tr '\n' ' ' | cut -c1-300)"
	elif [ -z "$TL_ERR" ]; then
		ok_case "$name"
	else
		# one line: newlines in reasons become " | "
		notok_case "$name" "$(printf '%s' "$TL_ERR" | tr '\n' '|' | sed 's/|/ | /g' | cut -c1-1500)"
	fi
}

# finish: a count line, then the exit status of the script (1 if any case failed)
finish() {
	echo "# $TL_PASS ok, $TL_SKIP skipped, $TL_FAIL not ok"
	[ "$TL_FAIL" -eq 0 ] || exit 1
	exit 0
}

# a private namespace whose /dev/shm or /dev/mqueue could not be mounted: its leftover
# checks would see (and blame this script for) other runs' objects, so say so as a
# failed case of its own rather than a comment line
[ -z "${TL_SHM_ERR:-}" ] ||
	notok_case harness_private_shm "could not mount a private /dev/shm: $(tr '\n' ' ' <<<"$TL_SHM_ERR")"
[ -z "${TL_MQ_ERR:-}" ] ||
	notok_case harness_private_mqueue "could not mount a private /dev/mqueue: $(tr '\n' ' ' <<<"$TL_MQ_ERR")"

# ---------------------------------------------------------------- leftovers

# Which processes are ours: those that carry this script's mark (TL_MARK) in their
# environment. Process groups cannot tell: scripts started from one shell (two suites run
# side by side, a CI step) share theirs, and a finished command's group number is reused.

# marked_pids: the PIDs of the processes that carry our mark, one per line
marked_pids() {
	# grep exits 2 for the processes that ended while it read: not an error here
	grep -l -s -z -x -F -- "$TL_MARK" /proc/[0-9]*/environ 2>/dev/null | sed 's|^/proc/||; s|/.*||'
}

# ours_pid PID: true if PID carries our mark (a zombie has no environment left: false)
ours_pid() {
	grep -q -s -z -x -F -- "$TL_MARK" "/proc/$1/environ" 2>/dev/null
}

# pid_alive_elsewhere PID: true if PID runs and is not one of ours (no mark)
pid_alive_elsewhere() {
	local st
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
	st=${st##*) } # fields after "comm)": state ppid pgrp ...
	[ "${st%% *}" != Z ] && ! ours_pid "$1"
}

# foreign NAME: true if NAME embeds "-PID-" of a live process outside this test (another
# user's run in progress, e.g. /ipclab-shm-1234-0 or an ipclab-trace session)
foreign() {
	local pid
	for pid in $(grep -o -E -- '-[0-9]+-' <<<"$1" | tr -d -); do
		pid_alive_elsewhere "$pid" && return 0
	done
	return 1
}

# snapshot: one sorted line per object or process a test could leave behind
snapshot() {
	{
		local f name
		for f in /dev/shm/*; do
			[ -e "$f" ] || continue
			name=${f##*/}
			case $name in lttng*) continue ;; esac
			foreign "$name" || echo "shm:$name"
		done
		if [ -d /dev/mqueue ]; then
			for f in /dev/mqueue/*; do
				[ -e "$f" ] || continue
				name=${f##*/}
				foreign "$name" || echo "mq:$name"
			done
		fi
		sysv_objects
		procs_left
		strays
		lttng_sessions
		# a writer that renames a temporary file over its destination must not turn a
		# device given as that destination into a regular file
		for f in /dev/null /dev/zero /dev/full; do
			[ -c "$f" ] || echo "device-replaced:$f"
		done
	} | LC_ALL=C sort -u
}

# sysv_objects: SysV message queues, semaphore sets and shm segments, except those whose
# last users (lspid/lrpid, sempid, cpid/lpid) include a live process outside this test
sysv_objects() {
	local id rest pids
	# /proc/sysvipc/msg: key msqid perms cbytes qnum lspid lrpid ...
	while read -r _ id _ _ _ rest; do
		[[ $id =~ ^[0-9]+$ ]] || continue
		sysv_foreign "${rest%% *}" "$(awk '{ print $2 }' <<<"$rest")" || echo "sysv-msg:$id"
	done < <(tail -n +2 /proc/sysvipc/msg 2>/dev/null)
	# /proc/sysvipc/shm: key shmid perms size cpid lpid ...
	while read -r _ id _ _ rest; do
		[[ $id =~ ^[0-9]+$ ]] || continue
		sysv_foreign "${rest%% *}" "$(awk '{ print $2 }' <<<"$rest")" || echo "sysv-shm:$id"
	done < <(tail -n +2 /proc/sysvipc/shm 2>/dev/null)
	# semaphores: the pid of the last operation on each semaphore (ipcs -s -i)
	while read -r _ id _; do
		[[ $id =~ ^[0-9]+$ ]] || continue
		pids=$(ipcs -s -i "$id" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && NF >= 5 { print $NF }')
		# shellcheck disable=SC2086
		sysv_foreign $pids || echo "sysv-sem:$id"
	done < <(tail -n +2 /proc/sysvipc/sem 2>/dev/null)
}

# sysv_foreign PID...: true if one of the PIDs is a live process outside this test
sysv_foreign() {
	local p
	for p in "$@"; do
		[ "$p" != 0 ] && pid_alive_elsewhere "$p" && return 0
	done
	return 1
}

# ours_by_tree PID: true if PID descends from this shell (its parent chain reaches $$)
ours_by_tree() {
	local p=$1 st i
	for ((i = 0; i < 64 && p > 1; i++)); do
		[ "$p" = $$ ] && return 0
		{ read -r st <"/proc/$p/stat"; } 2>/dev/null || return 1
		read -r _ p _ <<<"${st##*) }"
	done
	return 1
}

# stray_list: "stray:PID(comm)" for each live process that carries this script's mark
# (TL_MARK) but no longer descends from it: started by a case, then left running
# outside our tree (a daemonised child, an orphan)
stray_list() {
	local f pid comm
	marked_pids | while read -r pid; do
		[ "$(proc_state "$pid")" != Z ] || continue
		ours_by_tree "$pid" && continue
		comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
		echo "stray:$pid($comm)"
	done
}

# strays: stray_list once the processes that are only dying (killed, reparented, not
# yet gone) had up to TL_STRAY_GRACE (10) s to go: what remains was left behind
strays() {
	local left
	left=$(stray_list)
	[ -n "$left" ] || return 0
	tl_no_strays() { left=$(stray_list) && [ -z "$left" ]; }
	poll_until "${TL_STRAY_GRACE:-10}" tl_no_strays || printf '%s\n' "$left"
}

# procs_left: zombies whose parent is this shell or one of our ipclab processes, and any
# ipclab process or LTTng daemon (a trace runner's private one) of ours still running.
# (An orphan zombie, reparented to init, is dead and only waits for init to reap it: not
# counted.)
procs_left() {
	local f st pid comm ppid state pst pcomm
	local -A mine=()
	for pid in $(marked_pids); do mine[$pid]=1; done
	for f in /proc/[0-9]*/stat; do
		{ read -r st <"$f"; } 2>/dev/null || continue
		pid=${st%% *}
		[ "$pid" = $$ ] && continue
		comm=${st#*(}
		comm=${comm%)*}
		st=${st##*) }
		read -r state ppid _ <<<"$st"
		if [ "$state" = Z ]; then
			if [ "$ppid" = $$ ]; then
				echo "zombie:$pid($comm)"
			elif [ -n "${mine[$ppid]:-}" ] && { read -r pst <"/proc/$ppid/stat"; } 2>/dev/null; then
				pcomm=${pst#*(}
				pcomm=${pcomm%)*}
				[[ $pcomm != ipclab* ]] || echo "zombie:$pid($comm)"
			fi
		elif [[ $comm == ipclab* || $comm == lttng-* ]] && [ -n "${mine[$pid]:-}" ]; then
			echo "process:$pid($comm)"
		fi
	done
}

# lttng_sessions: the recording sessions of the machine's session daemon that write
# under our $T (never starts a daemon). Only those can be attributed to this test: other
# users' sessions come and go on a shared machine, and scripts/ipclab-trace's sessions
# live in private daemons that vanish with the run (a leftover there is a daemon process,
# which procs_left reports).
lttng_sessions() {
	command -v lttng >/dev/null 2>&1 || return 0
	local name path
	timeout 20 lttng --no-sessiond --mi xml list 2>/dev/null |
		"$PY" -c '
import sys, xml.etree.ElementTree as ET
NS = "{https://lttng.org/xml/ns/lttng-mi}"
data = sys.stdin.read()
if data.strip():
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        sys.exit(0)
    for s in root.iter(NS + "session"):
        n, p = s.find(NS + "name"), s.find(NS + "path")
        if n is not None and n.text:
            print(n.text, p.text if p is not None and p.text else "-")
' | while read -r name path; do
		case $path in
		"$T"/* | *"$T"/*) echo "lttng-session:$name" ;;
		esac
	done
}

# reap_ours: collect background processes of the case that already ended (no zombies)
reap_ours() {
	local pid
	for pid in "${TL_PIDS[@]}"; do
		if [ "$(proc_state "$pid")" = Z ]; then
			wait "$pid" 2>/dev/null
		fi
	done
}

# ---------------------------------------------------------------- processes

# proc_state PID: the state letter of PID ("" if gone)
proc_state() {
	local st
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 0
	st=${st##*) }
	echo "${st%% *}"
}

# running PID: true while PID exists and is not a zombie
running() {
	local s
	s=$(proc_state "$1")
	[ -n "$s" ] && [ "$s" != Z ]
}

# poll_until SECONDS CMD...: run CMD until it succeeds or the deadline passes (then 1).
# Only for waiting on an observable condition, never as a synchronisation delay.
poll_until() {
	local limit=$1 end
	shift
	end=$((SECONDS + limit))
	while ! "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.01
	done
}

# bg_start VAR OUT ERR CMD...: start CMD in the background (stdout OUT, stderr ERR),
# remember its PID (killed in the EXIT trap if still running) and store it in VAR
bg_start() {
	local var=$1 out=$2 err=$3
	shift 3
	"$@" >"$out" 2>"$err" </dev/null &
	TL_PIDS+=("$!")
	printf -v "$var" '%s' "$!"
}

# children PID: the PIDs of PID's children (from /proc/PID/task/*/children)
children() {
	cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+$'
}

# release FIFO: let the process waiting to read FIFO go on (bounded: a reader that died
# must not hang the test; the timeout is a hang bound, not a synchronisation)
release() {
	# shellcheck disable=SC2016 # expanded by sh
	timeout 30 sh -c 'echo go >"$1"' _ "$1" || fail "nobody read $1 within 30 s"
}

# exited PID: true once PID is a zombie or gone
exited() { ! running "$1"; }

# wait_exit PID SECONDS: wait (bounded) for our background PID to end; its status in RC.
# RC=255 and the process killed if it did not end in time.
# A killed peer must be noticed, however loaded the machine: this bounds a hang only (the
# time it took is printed, never judged; the dead-peer check itself runs every 50 ms or so).
PEER_GONE_BOUND=30

wait_exit() {
	RC=0
	if ! poll_until "$2" exited "$1"; then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		RC=255
		return 1
	fi
	{ wait "$1"; } 2>/dev/null || RC=$? # 2>/dev/null: no "Killed" job notice
	return 0
}

# ---------------------------------------------------------------- running ipclab

# run CMD...: run CMD in the foreground, bounded by RUN_TIMEOUT; stdout in $T/out, stderr
# in $T/err, exit status in RC
run() {
	RC=0
	# started asynchronously and waited for, so a signal to this script runs the EXIT trap
	# at once (which stops it) instead of after the command
	timeout -k 5 "$RUN_TIMEOUT" "$@" >"$T/out" 2>"$T/err" </dev/null &
	TL_FG=$!
	wait "$TL_FG" || RC=$?
	TL_FG=
	[ "$RC" -ne 124 ] || fail "'$*' timed out after ${RUN_TIMEOUT}s"
}

# expect_rc WANT WHAT: fail unless RC is WANT (with the first stderr line as a hint)
expect_rc() {
	[ "$RC" -eq "$1" ] && return 0
	fail "$2: exit $RC, want $1 (stderr: $(head -n 3 "$T/err" | paste -sd' ' -))"
}

# lines FILE: number of lines (a last line without newline counts)
lines() {
	awk 'END { print NR }' "$1"
}

# ---------------------------------------------------------------- JSON

# jcheck FILE EXPR...: each Python expression over d (the parsed file) must be true;
# failing expressions become the case's failure reasons. Returns 1 if any failed.
jcheck() {
	local file=$1 out
	shift
	out=$("$PY" - "$file" "$@" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
except Exception as e:  # noqa
    print("%s is not JSON: %s" % (sys.argv[1], e))
    sys.exit(0)
for expr in sys.argv[2:]:
    try:
        ok = eval(expr, {"d": d, "json": json})
    except Exception as e:  # noqa
        print("%s: %s: %s" % (expr, type(e).__name__, e))
        continue
    if not ok:
        print("false: %s" % expr)
EOF
)
	[ -z "$out" ] && return 0
	fail "$(paste -sd';' - <<<"$out")"
}

# jget FILE EXPR: print the value of a Python expression over d (strings raw, else JSON)
jget() {
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    d = json.load(f)
v = eval(sys.argv[2], {"d": d, "json": json})
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

# ENVELOPE: the jcheck expressions every result envelope satisfies
ENVELOPE=(
	'd["schema"] == "ipclab-result/1"'
	'isinstance(d["experiment"], str) and d["experiment"]'
	'isinstance(d["cmdline"], list) and d["cmdline"][0] == "ipclab" and all(isinstance(a, str) for a in d["cmdline"])'
	'isinstance(d["start_time"], str) and d["start_time"].endswith("Z") and d["start_time"][10] == "T"'
	'isinstance(d["end_time"], str) and d["end_time"] >= d["start_time"]'
	'isinstance(d["sysinfo"], dict) and all(k in d["sysinfo"] for k in ("kernel", "cpu_model", "nproc_online", "clocksource"))'
	'isinstance(d["params"], dict)'
	'isinstance(d["results"], dict)'
	'isinstance(d["warnings"], list)'
	'isinstance(d["exit_code"], int)'
)

# expect_usage CMD...: CMD exits 2 with exactly one line on stderr and nothing on stdout
expect_usage() {
	run "$@"
	local what="${*#"$IPCLAB" }"
	expect_rc 2 "$what"
	[ -s "$T/out" ] && fail "'$what' wrote to stdout: $(head -c 200 "$T/out")"
	[ "$(lines "$T/err")" -eq 1 ] || fail "'$what': $(lines "$T/err") lines on stderr, want 1"
	return 0
}

# init_orphans: ipclab zombies whose parent is ours, and any process of this test that
# left its tree (strays: an orphan reparented to init or a subreaper, a daemon a traced
# command started, whatever its name), one per line. Other users' runs on the machine
# are not ours.
init_orphans() {
	local f st opid comm state ppid
	local -A mine=()
	for opid in $(marked_pids); do mine[$opid]=1; done
	for f in /proc/[0-9]*/stat; do
		{ read -r st <"$f"; } 2>/dev/null || continue
		opid=${st%% *}
		comm=${st#*(}
		comm=${comm%)*}
		[[ $comm == ipclab* ]] || continue
		read -r state ppid _ <<<"${st##*) }"
		if [ "$state" = Z ] && { [ "$ppid" = $$ ] || [ -n "${mine[$ppid]:-}" ]; }; then
			echo "$opid($comm,$state,ppid=$ppid)"
		fi
	done | sort
	strays
}

# with_orphan_check FUNCTION ARGS...: FUNCTION must leave no new ipclab orphan or zombie
with_orphan_check() {
	local new
	init_orphans >"$T/orphans.before"
	"$@"
	init_orphans >"$T/orphans.after"
	new=$(comm -13 "$T/orphans.before" "$T/orphans.after" | paste -sd, -)
	[ -z "$new" ] || fail "ipclab orphans/zombies left: $new"
}

# mid_run PID: true once PID's forked responder (RESP) is ping-ponging (blocked 100 times,
# or 2 ticks of CPU for a busy-polling one); also true, with RESP empty, if PID ended first
mid_run() {
	local c st v ticks
	RESP=
	running "$1" || return 0
	c=$(children "$1" | head -n 1)
	[ -n "$c" ] || return 1
	v=$(awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$c/status" 2>/dev/null)
	{ read -r st <"/proc/$c/stat"; } 2>/dev/null || return 1
	# utime and stime: fields 14 and 15, i.e. 12 and 13 after "comm)"
	ticks=$(awk '{ print $12 + $13 }' <<<"${st##*) }")
	[ "${v:-0}" -ge 100 ] || [ "${ticks:-0}" -ge 2 ] || return 1
	RESP=$c
}

# case_kill_responder T [MQDIR]: SIGKILL the responder of a long process-mode latency run
# over transport T: exit 1 (noticed at all: PEER_GONE_BOUND is a hang bound, not a timing
# target; how long it took is printed as a TAP comment), the failure reported in exactly one line (where the
# initiator saw it go and how it ended), nothing left (objects named
# after the PID in /dev/shm and MQDIR, a FIFO directory, SysV queues it used, a zombie)
case_kill_responder() {
	local t=$1 mqdir=${2:-} pid t0 ms left
	RESP=
	bg_start pid "$T/kout" "$T/kerr" "$IPCLAB" ipc latency --transport "$t" --mode process --size 64 \
		--iterations 100000000 --warmup 0 --timeout 60 --quiet
	if ! poll_until 20 mid_run "$pid" || [ -z "$RESP" ]; then
		fail "the responder of $pid never got going: $(head -n 2 "$T/kerr" | paste -sd' ' -)"
		return
	fi
	t0=${EPOCHREALTIME/./}
	kill -KILL "$RESP"
	wait_exit "$pid" "$PEER_GONE_BOUND" || fail "the initiator did not notice its killed responder within $PEER_GONE_BOUND s"
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	echo "# $t: the killed responder was noticed after $ms ms"
	[ "$RC" = 1 ] || fail "exit $RC after the responder was killed, want 1 ($(head -n 2 "$T/kerr" | paste -sd' ' -))"
	grep -q -E 'FAIL: (send|receive) [0-9]+: the responder went away: it was killed by signal 9 \(SIGKILL\)$' "$T/kerr" ||
		fail "no dead-peer message: $(head -n 2 "$T/kerr")"
	[ "$(lines "$T/kerr")" -eq 1 ] || fail "one failure, one line: $(paste -sd'|' "$T/kerr")"
	[ -z "$(proc_state "$RESP")" ] || fail "responder $RESP still exists (state $(proc_state "$RESP"))"
	left=$(compgen -G "/dev/shm/*-$pid-*") && fail "left in /dev/shm: $left"
	[ -n "$mqdir" ] && left=$(compgen -G "$mqdir/*-$pid-*") && fail "left in $mqdir: $left"
	left=$(compgen -G "/tmp/ipclab-fifo-$pid-*") && fail "FIFO directory left: $left"
	# SysV queues this run used: last sender or receiver is the initiator or the responder
	ipcs -q -p 2>/dev/null | awk -v a="$pid" -v b="$RESP" '$2 ~ /^[0-9]+$/ && ($4 == a || $4 == b || $5 == a || $5 == b) { f = 1 } END { exit !f }' &&
		fail "SysV queue left: $(ipcs -q -p | awk -v a="$pid" -v b="$RESP" '$4 == a || $4 == b || $5 == a || $5 == b' | paste -sd' ' -)"
	rm -f "$T/kout" "$T/kerr"
	return 0
}
