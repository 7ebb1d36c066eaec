#!/bin/bash
# harness.sh - tests/lib.sh itself: as root a test script runs with a private /dev/shm
# and /dev/mqueue (so its leftover checks see only its own objects; a mount that fails is
# a failed case, never a comment line), and a process a case leaves running outside the
# script's process tree (a daemon that forked away into its own session) is reported
# as left behind, whatever its name; processes are ours by the script's mark in their
# environment, not by process group (suites run side by side share one).
# Usage: tests/integration/harness.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# dev_of PATH: the device number of the file system mounted at PATH
dev_of() { stat -c %d -- "$1" 2>/dev/null; }

case_private_mounts() {
	if [ "$(id -u)" -ne 0 ] || [ "${IPCLAB_TEST_SHARED_NS:-0}" != 0 ] || [ "${TL_IN_NS:-}" != 2 ]; then
		skip "private namespaces need root (and no IPCLAB_TEST_SHARED_NS=1)"
		return
	fi
	{ [ "$(stat -f -c %T /dev/shm)" = tmpfs ] && mountpoint -q /dev/shm; } || fail "/dev/shm is not a tmpfs mount point"
	[ "$(dev_of /dev/shm)" != "$(dev_of /proc/1/root/dev/shm)" ] || fail "/dev/shm is the machine's, not a private one"
	if grep -q -w mqueue /proc/filesystems; then
		mountpoint -q /dev/mqueue || fail "/dev/mqueue is not a mount point"
		[ "$(stat -f -c %T /dev/mqueue)" = mqueue ] || fail "/dev/mqueue is $(stat -f -c %T /dev/mqueue), want mqueue"
		# an mqueue mount shows the queues of the IPC namespace that mounted it: ours
		# is not the machine's (whose may not be mounted anywhere: then nothing to compare)
		if mountpoint -q /proc/1/root/dev/mqueue 2>/dev/null; then
			[ "$(dev_of /dev/mqueue)" != "$(dev_of /proc/1/root/dev/mqueue)" ] || fail "/dev/mqueue is the machine's"
		fi
	fi
}

# a daemon started by the case (forked away, its own session): seen as a stray by the
# leftover and orphan checks; once it is stopped, nothing is reported
case_stray_seen() {
	local d left
	# shellcheck disable=SC2016
	setsid sh -c 'tail -f /dev/null </dev/null >/dev/null 2>&1 & echo $! >"$0"' "$T/d.pid"
	d=$(cat "$T/d.pid")
	running "$d" || {
		fail "the daemon did not start"
		return
	}
	ours_by_tree "$d" && fail "the daemon $d still descends from the test shell"
	left=$(stray_list)
	grep -q -x "stray:$d(tail)" <<<"$left" || fail "stray_list does not see the daemon $d: '$left'"
	# (no grace period: it is alive, not dying)
	TL_STRAY_GRACE=0 init_orphans | grep -q "$d(tail)" || fail "init_orphans does not see the daemon $d"
	kill -KILL "$d"
	poll_until 10 exited "$d" || fail "the daemon $d did not die"
	left=$(strays)
	[ -z "$left" ] || fail "strays after the daemon died: $left"
}

# an ipclab process in our process group that another test script started (two suites
# run side by side from one shell share the group) is not ours; the same program started
# by us is
case_ours_by_mark() {
	local theirs mine
	cp "$(command -v sleep)" "$T/ipclab-fake"
	bg_start theirs /dev/null /dev/null env "IPCLAB_TEST_RUN=another-script" "$T/ipclab-fake" 300
	bg_start mine /dev/null /dev/null "$T/ipclab-fake" 300
	# the environment checked is the program's once it has exec'd (its comm is then the
	# program's; before, it is the forked shell's, ours)
	tl_execd() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = ipclab-fake ]; }
	if ! poll_until 10 tl_execd "$theirs" || ! poll_until 10 tl_execd "$mine"; then
		fail "the fakes did not start"
		return
	fi
	ours_pid "$mine" || fail "our process $mine does not carry our mark"
	ours_pid "$theirs" && fail "another script's process $theirs counts as ours"
	procs_left | grep -q -x "process:$theirs(ipclab-fake)" && fail "procs_left lists another script's process"
	procs_left | grep -q -x "process:$mine(ipclab-fake)" || fail "procs_left misses our process $mine"
	pid_alive_elsewhere "$theirs" || fail "another script's process $theirs is not 'elsewhere'"
	pid_alive_elsewhere "$mine" && fail "our process $mine is 'elsewhere'"
	kill -KILL "$theirs" "$mine"
	wait_exit "$theirs" 10
	wait_exit "$mine" 10
	return 0
}

run_case harness_private_mounts case_private_mounts
run_case harness_ours_by_mark case_ours_by_mark
run_case harness_stray_seen case_stray_seen
finish
