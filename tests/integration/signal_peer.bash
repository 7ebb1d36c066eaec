# shellcheck shell=bash
# signal_peer.bash - sourced by the signal tests (after tests/lib.sh): a peer of a
# background run stopped or killed mid-run (issue 15: one failure, one line).

# child_named PID COMM: true once PID has a child named COMM; sets CHILD
child_named() {
	local c
	for c in $(children "$1"); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$2" ] && CHILD=$c && return 0
	done
	return 1
}

# peer_ended SIG COMM WANT CMD...: starts CMD in the background; once it has a child
# named COMM, sends it SIG. The run must exit 1 with exactly one line on stderr, matching
# the ERE WANT ("@PID@" in it stands for the child's pid), and the child must be reaped.
peer_ended() {
	local sig=$1 comm=$2 want=$3 pid
	shift 3
	CHILD=
	bg_start pid "$T/bg.out" "$T/bg.err" "$@"
	if ! poll_until 20 child_named "$pid" "$comm"; then
		fail "no $comm child of $pid within 20 s"
		return
	fi
	kill -"$sig" "$CHILD"
	if ! wait_exit "$pid" 30; then
		fail "ipclab did not exit within 30 s of SIG$sig to its $comm child"
		return
	fi
	want=${want//@PID@/$CHILD}
	[ "$RC" -eq 1 ] || fail "exit $RC after SIG$sig to $comm, want 1 ($(paste -sd'|' "$T/bg.err"))"
	grep -q -E "$want" "$T/bg.err" || fail "no line says '$want': $(paste -sd'|' "$T/bg.err")"
	[ "$(lines "$T/bg.err")" -eq 1 ] || fail "one failure, one line: $(paste -sd'|' "$T/bg.err")"
	[ -z "$(proc_state "$CHILD")" ] || fail "$comm child $CHILD left (state $(proc_state "$CHILD"))"
}
