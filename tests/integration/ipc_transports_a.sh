#!/bin/bash
# ipc_transports_a.sh - the fifo, unix-stream, unix-dgram, tcp, eventfd, posix-mq and
# sysv-msg transports end to end: listed; every mode x size runs with exact counts (or
# exits 3 naming the limit and its sysctl); larger queue sizes inside a private IPC
# namespace with raised limits; a SIGKILLed responder is noticed within 2 s with nothing
# left behind (/dev/shm, POSIX queues, SysV queues, FIFO directory, zombies); SIGINT
# removes the named objects.
# Usage: tests/integration/ipc_transports_a.sh BUILD_DIR

# POSIX queues are only visible through an mqueue mount. Without /dev/mqueue, as root,
# re-run in a private mount namespace and mount one there (gone with the namespace).
if [ ! -d /dev/mqueue/. ] && [ -z "${IPCLAB_TA_PRIVATE_MNT:-}" ] && [ "$(id -u)" = 0 ] &&
	unshare --mount --propagation private true 2>/dev/null; then
	IPCLAB_TA_PRIVATE_MNT=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRANSPORTS=(fifo unix-stream unix-dgram tcp udp eventfd posix-mq sysv-msg)
SIZES=(16 4096 65536 1048576)
ITER=200
WARM=20
CAP_SYS_RESOURCE=24

# MQDIR: where POSIX queues show up ("" if nowhere: those checks are skipped)
MQDIR=
if [ -d /dev/mqueue/. ] && mountpoint -q /dev/mqueue 2>/dev/null; then
	MQDIR=/dev/mqueue
elif [ -n "${IPCLAB_TA_PRIVATE_MNT:-}" ]; then
	# outside $T: lib.sh's rm -rf must never reach into a mounted queue file system
	MQDIR=$(mktemp -d "${TMPDIR:-/tmp}/mqueue-test.XXXXXX") && mount -t mqueue none "$MQDIR" || MQDIR=
	[ -z "$MQDIR" ] || trap 'umount "$MQDIR" && rmdir "$MQDIR"; tl_cleanup' EXIT
fi
[ -n "$MQDIR" ] || echo "# no mqueue file system mounted: POSIX queue leftover checks skipped"

# IPC namespaces (own SysV/POSIX queue limits) let large queue sizes be tested without
# touching the host's sysctls
NS_OK=0
[ "$(id -u)" = 0 ] && unshare --ipc true 2>/dev/null && NS_OK=1

has_cap() {
	local eff
	eff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
	(((16#$eff >> $1) & 1))
}

# expect TRANSPORT SIZE MSGSIZE_MAX MSGMAX MSGMNB: sets WANT (exit code) and WHY (what
# stderr must name when WANT is 3) from the limits that apply to TRANSPORT
expect() {
	local t=$1 size=$2 mq_max=$3 msgmax=$4 msgmnb=$5 rl
	WANT=0 WHY=
	case $t in
	posix-mq)
		has_cap "$CAP_SYS_RESOURCE" && mq_max=$((16 * 1024 * 1024)) # HARD_MSGSIZEMAX
		rl=$(ulimit -q)
		if [ "$size" -gt "$mq_max" ]; then
			WANT=3 WHY=/proc/sys/fs/mqueue/msgsize_max
		elif [ "$rl" != unlimited ] && [ $((2 * (size + 256))) -gt "$rl" ]; then
			WANT=3 WHY=RLIMIT_MSGQUEUE
		fi
		;;
	udp)
		# 65 535 minus the 20-byte IPv4 and 8-byte UDP headers
		[ "$size" -gt 65507 ] && WANT=3 WHY="udp limit of 65507 bytes"
		;;
	sysv-msg)
		if [ "$size" -gt "$msgmax" ]; then
			WANT=3 WHY=/proc/sys/kernel/msgmax
		elif [ "$size" -gt "$msgmnb" ] && ! has_cap "$CAP_SYS_RESOURCE"; then
			WANT=3 WHY=/proc/sys/kernel/msgmnb
		fi
		;;
	esac
}

host_limits() {
	echo "$(cat /proc/sys/fs/mqueue/msgsize_max) $(cat /proc/sys/kernel/msgmax) $(cat /proc/sys/kernel/msgmnb)"
}

# no_leftovers: named objects of ipclab runs that are gone (dead PID in the name):
# POSIX queues and FIFO directories (lib.sh's snapshot covers /dev/shm, SysV, zombies).
# /tmp is shared with concurrent runs: an object listed while its creator lived may be
# removed by that creator as it exits, so it is a leftover only if it is still there
# once its creator is known to be gone.
no_leftovers() {
	local f name
	if [ -n "$MQDIR" ]; then
		for f in "$MQDIR"/ipclab-*; do
			[ -e "$f" ] || continue
			name=${f##*/}
			foreign "$name" || [ ! -e "$f" ] || fail "left behind: mq:$name"
		done
	fi
	for f in /tmp/ipclab-fifo-*; do
		[ -e "$f" ] || continue
		name=${f##*/}
		foreign "$name" || [ ! -e "$f" ] || fail "left behind: fifo directory $f"
	done
}

# check_result T M SIZE: the JSON on $T/out for an expected outcome WANT/WHY
check_result() {
	local t=$1 m=$2 size=$3
	expect_rc "$WANT" "--transport $t --mode $m --size $size" || return
	if [ "$WANT" = 0 ]; then
		jcheck "$T/out" "d['exit_code'] == 0" "d['params']['transport'] == '$t'" \
			"d['params']['size'] == $size" "d['results']['rtt']['count'] == $ITER" \
			"d['results']['oneway_ab']['count'] == $ITER" "d['results']['oneway_ba']['count'] == $ITER" \
			"d['results']['messages_per_repeat'] == 2 * ($ITER + $WARM)"
	else
		jcheck "$T/out" "d['exit_code'] == $WANT"
		grep -q -F -- "$WHY" "$T/err" || fail "exit $WANT without naming $WHY: $(head -n 2 "$T/err" | paste -sd' ' -)"
	fi
	no_leftovers
}

# transports --json lists T as supported
case_listed() {
	run "$IPCLAB" ipc transports --json --quiet
	expect_rc 0 "ipc transports" || return
	jcheck "$T/out" "[x['supported'] for x in d['results']['transports'] if x['name'] == '$1'] == [True]"
	run "$IPCLAB" ipc transports
	grep -q -E "^  $1 " "$T/out" || fail "'ipc transports' does not print $1"
}

# case_run T MODE SIZE: one run under the host's limits
case_run() {
	local t=$1 m=$2 size=$3
	# shellcheck disable=SC2046
	expect "$t" "$size" $(host_limits)
	run "$IPCLAB" ipc latency --transport "$t" --mode "$m" --size "$size" --iterations "$ITER" \
		--warmup "$WARM" --json --quiet
	check_result "$t" "$m" "$size"
}

# case_ns_run T MODE SIZE: one run in a private IPC namespace whose queue limits are
# raised to 2 MiB; the namespace must hold no queue afterwards
case_ns_run() {
	local t=$1 m=$2 size=$3 big=2097152
	expect "$t" "$size" "$big" "$big" $((2 * big))
	# shellcheck disable=SC2016
	run unshare --ipc sh -c '
		echo "$1" >/proc/sys/fs/mqueue/msgsize_max && echo "$1" >/proc/sys/kernel/msgmax &&
			echo "$2" >/proc/sys/kernel/msgmnb || exit 99
		shift 2
		"$@"
		rc=$?
		n=$(ipcs -q | awk "\$2 ~ /^[0-9]+\$/" | wc -l)
		[ "$n" -eq 0 ] || echo "LEFTOVER: $n SysV queue(s) in the namespace" >&2
		exit $rc' sh "$big" $((2 * big)) "$IPCLAB" ipc latency --transport "$t" --mode "$m" --size "$size" \
		--iterations "$ITER" --warmup "$WARM" --json --quiet
	check_result "$t" "$m" "$size"
	! grep -q LEFTOVER "$T/err" || fail "$(grep LEFTOVER "$T/err")"
}

# case_limit_message T SIZE WHY [WRAPPER...]: a size above a queue limit is exit 3 naming WHY
case_limit_message() {
	local t=$1 size=$2 why=$3
	shift 3
	run "$@" "$IPCLAB" ipc latency --transport "$t" --size "$size" --iterations 10 --json --quiet
	expect_rc 3 "--transport $t --size $size" || return
	jcheck "$T/out" "d['exit_code'] == 3"
	grep -q -F -- "$why" "$T/err" || fail "message does not name $why: $(head -n 2 "$T/err" | paste -sd' ' -)"
	no_leftovers
}

# case_sigint T: SIGINT mid-run removes the named objects and the process dies of SIGINT
case_sigint() {
	local t=$1 pid
	RESP=
	bg_start pid "$T/kout" "$T/kerr" "$IPCLAB" ipc latency --transport "$t" --mode process --size 64 \
		--iterations 100000000 --warmup 0 --timeout 60 --quiet
	if ! poll_until 20 mid_run "$pid" || [ -z "$RESP" ]; then
		fail "the responder of $pid never got going: $(head -n 2 "$T/kerr" | paste -sd' ' -)"
		return
	fi
	kill -INT "$pid"
	wait_exit "$pid" 5
	[ "$RC" = 130 ] || fail "exit $RC after SIGINT, want 130 (died of SIGINT)"
	[ -z "$(proc_state "$RESP")" ] || fail "responder $RESP still exists"
	no_leftovers
	rm -f "$T/kout" "$T/kerr"
}

# case_kill_peer T: the shared killed-responder case (tests/lib.sh), then no named
# object of a dead ipclab run left anywhere
case_kill_peer() {
	case_kill_responder "$1" "$MQDIR"
	no_leftovers
}

for t in "${TRANSPORTS[@]}"; do
	run_case "transports_a_${t}_listed" case_listed "$t"
done
for t in "${TRANSPORTS[@]}"; do
	for m in process thread; do
		for s in "${SIZES[@]}"; do
			run_case "transports_a_${t}_${m}_$s" case_run "$t" "$m" "$s"
		done
	done
done
for t in posix-mq sysv-msg; do
	for m in process thread; do
		for s in 65536 1048576; do
			if [ "$NS_OK" = 1 ]; then
				run_case "transports_a_${t}_${m}_${s}_raised_limits" case_ns_run "$t" "$m" "$s"
			else
				ok_case "transports_a_${t}_${m}_${s}_raised_limits # SKIP needs root and unshare --ipc"
			fi
		done
	done
done
run_case transports_a_udp_largest_datagram case_limit_message udp 65508 "udp limit of 65507 bytes"
run_case transports_a_udp_65507 case_run udp process 65507
run_case transports_a_sysv-msg_above_msgmax case_limit_message sysv-msg \
	$(($(cat /proc/sys/kernel/msgmax) + 16)) /proc/sys/kernel/msgmax
if ! has_cap "$CAP_SYS_RESOURCE"; then
	run_case transports_a_posix-mq_above_msgsize_max case_limit_message posix-mq \
		$(($(cat /proc/sys/fs/mqueue/msgsize_max) + 16)) /proc/sys/fs/mqueue/msgsize_max
elif setpriv --bounding-set=-sys_resource true 2>/dev/null; then
	run_case transports_a_posix-mq_above_msgsize_max case_limit_message posix-mq \
		$(($(cat /proc/sys/fs/mqueue/msgsize_max) + 16)) /proc/sys/fs/mqueue/msgsize_max \
		setpriv --bounding-set=-sys_resource
else
	ok_case "transports_a_posix-mq_above_msgsize_max # SKIP CAP_SYS_RESOURCE cannot be dropped"
fi
# 4 KiB messages against a 4 KiB RLIMIT_MSGQUEUE (a queue also counts its bookkeeping)
# shellcheck disable=SC2016
run_case transports_a_posix-mq_above_rlimit case_limit_message posix-mq 4096 RLIMIT_MSGQUEUE \
	bash -c 'ulimit -q 4096 && exec "$@"' bash
for t in "${TRANSPORTS[@]}"; do
	run_case "transports_a_${t}_killed_peer" case_kill_peer "$t"
done
for t in fifo posix-mq sysv-msg; do
	run_case "transports_a_${t}_sigint" case_sigint "$t"
done
finish
