#!/bin/bash
# core_hardening.sh - issue 15, core's items: the guard also cleans up on fatal signals
# (15.5), object names nobody can guess (15.2), `ipclab clean` (15.3), --json/--hist
# checked before the run (15.7) and written atomically (15.6), one line per failure
# (15.12). Runs in the private IPC and mount namespaces tests/lib.sh gives every script;
# small tmpfs mounts and `setpriv` to nobody are made inside the cases.
# Usage: tests/integration/core_hardening.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

# record_of PID: the SysV record file PID keeps in /dev/shm while it runs ("" while none)
record_of() {
	local f
	for f in /dev/shm/ipclab-sysv-"$1"-*; do
		[ -e "$f" ] && echo "${f##*/}" && return 0
	done
	return 1
}

# sysv_sems: the SysV semaphore sets of this IPC namespace (the test's own)
sysv_sems() {
	tail -n +2 /proc/sysvipc/sem
}

# a run that keeps objects for as long as it measures: SysV semaphore sets (which have no
# name to remove early) and the record of them (cleanup.c)
HOLDER=(sync handoff --lock sysvsem --mode process --iterations 100000000 --timeout 120 --quiet)

# 15.5: a fatal signal (SIGBUS on a full /dev/shm, a crash) removes the registered objects,
# kills the peers, then the process dies of that same signal.
case_fatal_signal() {
	local sig=$1 pid num
	# an ASan build (make check SANITIZE=...): ASan's own handlers would turn the fatal
	# signal into its report and exit 66; the guard's handling is what is tested here
	bg_start pid "$T/out" "$T/err" env ${ASAN_RT:+"ASAN_OPTIONS=${ASAN_OPTIONS:-}:handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0"} \
		"$IPCLAB" "${HOLDER[@]}"
	# shellcheck disable=SC2016
	poll_until 60 eval '[ -n "$(sysv_sems)" ] && mid_run "$pid"' || {
		fail "no SysV semaphore set appeared"
		return
	}
	kill -"$sig" "$pid"
	wait_exit "$pid" 60
	num=$(kill -l "$sig")
	[ "$RC" -eq $((128 + num)) ] || fail "exit status $RC, want $((128 + num)) (died of SIG$sig)"
	[ -z "$(record_of "$pid")" ] || fail "the record was left: $(record_of "$pid")"
	[ -z "$(sysv_sems)" ] || fail "SysV semaphore sets were left: $(sysv_sems | wc -l)"
}

# 15.2: names of the old scheme ipclab-<tag>-<pid>-<n> are made in advance, by another
# user, for every pid a fresh PID namespace will hand out; runs still succeed, and the
# names they use carry 16 random hex digits after the pid.
case_names_unpredictable() {
	local pid
	# the build stays reachable under /mnt when the repository itself is under /tmp (CI
	# clones there): the tmpfs on /tmp would hide it. ipc shm with --lock mutex: the
	# names are the point here, not torn reads (--lock none may be inconclusive: exit 4)
	cat >"$T/ns.sh" <<-EOF
		{ mkdir -p /mnt && mount -t tmpfs -o mode=0755 tmpfs /mnt && mkdir /mnt/build &&
			mount --bind "$TL_BUILD" /mnt/build; } || exit 10
		mount -t tmpfs -o mode=1777 tmpfs /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /tmp || exit 10
		setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c '
			for p in \$(seq 1 400); do for n in 0 1 2 3; do
				: >/dev/shm/ipclab-shm-\$p-\$n; : >/tmp/ipclab-flock-\$p-\$n
			done; done' || exit 10
		/mnt/build/bin/ipclab ipc shm --named --lock mutex --iterations 1000 --json=/dev/null --quiet >/dev/null || exit 11
		/mnt/build/bin/ipclab sync race --sync flock --increments 1000 --json=/dev/null --quiet >/dev/null || exit 12
	EOF
	run unshare --pid --fork --mount-proc bash "$T/ns.sh"
	expect_rc 0 "runs beside pre-made names (10: mounts, 11: ipc shm, 12: sync race)" || return
	bg_start pid "$T/out" "$T/err" "$IPCLAB" "${HOLDER[@]}"
	poll_until 60 record_of "$pid" >/dev/null || fail "no SysV record appeared"
	record_of "$pid" | grep -q -E "^ipclab-sysv-$pid-[0-9a-f]{16}\$" ||
		fail "name '$(record_of "$pid")' is not ipclab-sysv-$pid-<16 hex digits>"
	kill -TERM "$pid"
	wait_exit "$pid" 60
}

# 15.3: a SIGKILLed run leaves SysV semaphore sets and their record, and a (simulated)
# dead run a named shm object; `clean --dry-run` lists them and removes nothing; `clean`
# removes them; a live run's objects, another user's and a name that is not ours stay.
case_clean() {
	local dead live gone
	bg_start dead "$T/a.out" "$T/a.err" "$IPCLAB" "${HOLDER[@]}"
	poll_until 60 record_of "$dead" >/dev/null || fail "no SysV record appeared"
	kill -KILL "$dead"
	wait_exit "$dead" 60
	# shellcheck disable=SC2016
	poll_until 60 eval '[ -z "$(children "$dead")" ]'
	true &
	gone=$!
	wait "$gone"
	: >"/dev/shm/ipclab-shm-$gone-0123456789abcdef"
	bg_start live "$T/l.out" "$T/l.err" "$IPCLAB" "${HOLDER[@]}"
	poll_until 60 record_of "$live" >/dev/null || fail "no SysV record of the live run"
	"${NOBODY[@]}" touch /dev/shm/ipclab-shm-999999-0123456789abcdef
	touch /dev/shm/ipclab-notours
	run "$IPCLAB" clean --dry-run --json
	expect_rc 0 "clean --dry-run --json" || return
	jcheck "$T/out" "d['experiment'] == 'clean' and d['params']['dry_run'] is True" \
		"set(o['kind'] for o in d['results']['objects'] if o['action'] == 'would remove') == {'posix-shm', 'record', 'sysv'}" \
		"set(o['creator_pid'] for o in d['results']['objects'] if o['action'] == 'kept') == {$live}"
	[ -n "$(record_of "$dead")" ] || fail "--dry-run removed something"
	run "$IPCLAB" clean
	expect_rc 0 "clean" || return
	grep -q "^removed .*ipclab-shm-$gone-" "$T/out" || fail "no 'removed' line for the shm object: $(head -n 3 "$T/out")"
	[ -z "$(record_of "$dead")" ] || fail "the dead run's record is still there"
	[ ! -e "/dev/shm/ipclab-shm-$gone-0123456789abcdef" ] || fail "the dead run's shm object is still there"
	[ -n "$(record_of "$live")" ] || fail "the live run's record was removed"
	[ -e /dev/shm/ipclab-shm-999999-0123456789abcdef ] || fail "another user's object was removed"
	[ -e /dev/shm/ipclab-notours ] || fail "a name that is not ours was removed"
	kill -TERM "$live"
	wait_exit "$live" 60
	[ -z "$(sysv_sems)" ] || fail "SysV semaphore sets are left: $(sysv_sems | wc -l)"
	run "${NOBODY[@]}" "$IPCLAB" clean --quiet
	[ ! -e /dev/shm/ipclab-shm-999999-0123456789abcdef ] || fail "its owner's clean kept it"
	rm -f /dev/shm/ipclab-notours
}

# 15.7: a destination that can never work is a usage error (2), one without permission
# or space is 3, both before anything is measured: the run would last until its 2 s
# watchdog (exit 1) otherwise.
case_output_checked_first() {
	local long p want
	long=$T/$(printf 'n%.0s' $(seq 300))
	mkdir -p "$T/ro" "$T/locked"
	mount -t tmpfs -o ro,size=64k tmpfs "$T/ro"
	chmod 0700 "$T/locked"
	for p in "" "$T" "$T/missing/r.json" /proc/x/y "$long" /dev/full "$T/ro/r.json"; do
		want=2
		case $p in /dev/full | "$T/ro/r.json") want=3 ;; esac
		for opt in --json --hist; do
			run "$IPCLAB" ipc latency --iterations 100000000 --timeout 2 "$opt=$p"
			expect_rc "$want" "$opt='${p:0:40}'"
			[ "$(lines "$T/err")" -eq 1 ] || fail "$opt='${p:0:40}': $(lines "$T/err") lines on stderr, want 1"
		done
	done
	run "${NOBODY[@]}" "$IPCLAB" ipc latency --iterations 100000000 --timeout 2 --json="$T/locked/r.json"
	expect_rc 3 "--json in a folder nobody may not write"
	umount "$T/ro"
}

# 15.6: the result file is written whole or not at all: on a file system with room for
# the check but not for the result, exit 3 naming the path, the old file intact and no
# temporary file left.
case_output_atomic() {
	local m=$T/small
	mkdir -p "$m"
	mount -t tmpfs -o size=64k tmpfs "$m"
	echo old >"$m/r.json"                # one page
	head -c 57344 /dev/zero >"$m/fill"   # 14 pages: one is left, enough for the check only
	run "$IPCLAB" signal list --json="$m/r.json"
	expect_rc 3 "signal list --json on a nearly full file system"
	grep -q "cannot write '$m/r.json'" "$T/err" || fail "no line naming the file: $(head -n 2 "$T/err")"
	[ "$(cat "$m/r.json")" = old ] || fail "the old file was changed"
	# shellcheck disable=SC2012
	[ "$(ls -A "$m" | tr '\n' ' ')" = "fill r.json " ] || fail "left in the folder: $(ls -A "$m" | tr '\n' ' ')"
	# --hist: the disk fills up while the run measures (after its check passed)
	local pid
	rm -f "$m/fill"
	bg_start pid "$T/out" "$T/err" "$IPCLAB" ipc latency --iterations 300000 --warmup 0 --hist="$m/h.tsv" --quiet
	poll_until 60 mid_run "$pid" || fail "the run did not start"
	head -c 1M /dev/zero >"$m/fill" 2>/dev/null
	wait_exit "$pid" 120
	[ "$RC" -eq 3 ] || fail "ipc latency --hist on a file system that filled up: exit $RC, want 3"
	grep -q "cannot write '$m/h.tsv'" "$T/err" || fail "no line naming the file: $(head -n 2 "$T/err")"
	# shellcheck disable=SC2012
	[ "$(ls -A "$m" | tr '\n' ' ')" = "fill r.json " ] || fail "left in the folder: $(ls -A "$m" | tr '\n' ' ')"
	umount "$m"
	run "$IPCLAB" core sysinfo --json="$T/ok.json"
	expect_rc 0 "core sysinfo --json=FILE" && jcheck "$T/ok.json" "${ENVELOPE[@]}"
}

# 15.12: a value with a newline is quoted escaped: the message stays one line
case_one_line() {
	run "$IPCLAB" core overhead --iterations $'1\n2'
	expect_rc 2 "--iterations with a newline"
	[ "$(lines "$T/err")" -eq 1 ] || fail "$(lines "$T/err") lines on stderr, want 1"
	grep -q "'1\\\\n2'" "$T/err" || fail "the value is not shown escaped: $(head -c 200 "$T/err")"
}

for s in BUS SEGV FPE ILL ABRT; do
	run_case "core_guard_fatal_$s" case_fatal_signal "$s"
done
run_case core_names_unpredictable case_names_unpredictable
run_case core_clean case_clean
run_case core_output_checked_first case_output_checked_first
run_case core_output_atomic case_output_atomic
run_case core_one_line case_one_line
finish
