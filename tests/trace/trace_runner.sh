#!/bin/bash
# trace_runner.sh - scripts/ipclab-trace itself: every run has its own session daemon,
# so concurrent runs (of different users) never wait for each other and record exactly
# their own events; a SIGKILLed runner takes its command and daemons with it and its
# folder is removed by the next run; run state only in a private folder whose owner and
# mode are checked (an unprivileged "attacker" cannot redirect it, plant a PID to be
# signalled or block runs with a lock); zero events is a warning; buffers that do not fit
# in /dev/shm are exit 3 with the reason and a hint; runs of another PID namespace never
# judge this one's folder; a daemon the command leaves is stopped; the daemons' timers
# do not depend on the user's queued-signal quota where the runner may raise its limit.
# Security cases run the victim and the attacker as unprivileged users (setpriv);
# /run/lock and /dev/shm are private to the case (mount namespace). Needs root
# (setpriv, unshare) and LTTng.
# Usage: tests/trace/trace_runner.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRACE=$REPO/scripts/ipclab-trace
COUNT=$REPO/scripts/ipclab-trace-count
PROVIDER=$TL_BUILD/lib/libipclab-tp.so
VICTIM=65534   # nobody
ATTACKER=64999 # an unprivileged uid with no account
# this script's own state folders (XDG_RUNTIME_DIR for root, TMPDIR for the others)
export XDG_RUNTIME_DIR=$T/xdg
mkdir -m 0700 "$XDG_RUNTIME_DIR"
chmod 0711 "$T" # unprivileged users may reach the folders made for them below
TMPD=$T/tmp     # a /tmp of our own: sticky, world-writable
mkdir -m 1777 "$TMPD"

# "${AS_VICTIM[@]}" CMD...: CMD as the unprivileged victim (our TMPDIR, no XDG_RUNTIME_DIR);
# AS_ATTACKER the same for the attacker
AS_VICTIM=(setpriv --reuid "$VICTIM" --regid "$VICTIM" --clear-groups -- env -u XDG_RUNTIME_DIR HOME=/nonexistent TMPDIR="$TMPD")
AS_ATTACKER=(setpriv --reuid "$ATTACKER" --regid "$ATTACKER" --clear-groups -- env -u XDG_RUNTIME_DIR HOME=/nonexistent TMPDIR="$TMPD")

# msg_count DIR N: DIR's trace holds exactly the events of one `ipc latency -i N --warmup 0`
# (2N msg_send, 2N msg_recv, complete) and no event of another experiment
msg_count() {
	"$COUNT" "$1" --json >"$1.count" 2>"$1.count.err" || {
		fail "ipclab-trace-count $1: $(head -n 1 "$1.count.err")"
		return 1
	}
	jcheck "$1.count" 'd["complete"] is True' \
		"d['by_name'].get('ipclab_msg:msg_send') == 2 * $2 and d['by_name'].get('ipclab_msg:msg_recv') == 2 * $2" \
		'all(k.split(":")[0] in ("ipclab_msg", "ipclab_run") for k in d["by_name"])'
}

# "${LAT[@]}" N: the experiment the cases trace, N iterations
LAT=("$IPCLAB" ipc latency --warmup 0 --quiet --iterations)

case_usage() {
	local a
	for a in "--subbuf-size 3x" "--num-subbuf 0" "--num-subbuf 5000" "--bogus" "--out="; do
		# shellcheck disable=SC2086 # word splitting of a is wanted
		run "$TRACE" $a -- true
		expect_rc 2 "ipclab-trace $a"
		[ "$(lines "$T/err")" -eq 1 ] || fail "ipclab-trace $a: $(lines "$T/err") lines on stderr, want 1"
	done
}

# a run of the victim user (blocked after its experiment, its session still open) and a
# root run at the same time, while a third, untraced process with the provider preloaded
# emits events: each trace holds exactly its own command's events. (One shared daemon
# would record the third process in both; a machine-wide lock would make root wait.)
case_concurrent() {
	local a b
	install -d -o "$VICTIM" -m 0700 "$T/v"
	mkfifo -m 0600 "$T/v/go" "$T/go" && chown "$VICTIM" "$T/v/go"
	# shellcheck disable=SC2016
	bg_start a "$T/a.out" "$T/a.err" "${AS_VICTIM[@]}" "$TRACE" --out "$T/v/a" --provider "$PROVIDER" --quiet -- \
		bash -c '"$@" && : >"$0.ready" && read -r _ <"$0"' "$T/v/go" "${LAT[@]}" 50
	# shellcheck disable=SC2016
	bg_start b "$T/b.out" "$T/b.err" "$TRACE" --out "$T/b" --provider "$PROVIDER" --quiet -- \
		bash -c '"$@" && : >"$0.ready" && read -r _ <"$0"' "$T/go" "${LAT[@]}" 70
	if ! poll_until 120 test -e "$T/v/go.ready" -a -e "$T/go.ready"; then
		fail "the two traced runs did not both reach their experiment's end (a: $(head -c 300 "$T/a.err"); b: $(head -c 300 "$T/b.err"))"
		return
	fi
	run env LD_PRELOAD="${ASAN_RT:+$ASAN_RT:}$PROVIDER" "${LAT[@]}" 30
	expect_rc 0 "the untraced run with the provider preloaded"
	release "$T/v/go"
	release "$T/go"
	wait_exit "$a" 60
	[ "$RC" = 0 ] || fail "victim's traced run: exit $RC: $(head -c 300 "$T/a.err")"
	wait_exit "$b" 60
	[ "$RC" = 0 ] || fail "root's traced run: exit $RC: $(head -c 300 "$T/b.err")"
	msg_count "$T/v/a" 50
	msg_count "$T/b" 70
	jcheck "$T/v/a/ipclab-trace.json" 'd["isolation"] == "lttng-home"' 'd["warnings"] == []'
	jcheck "$T/b/ipclab-trace.json" 'd["isolation"] == "mount-namespace"' 'd["warnings"] == []'
}

# daemons_of DIR: "PID" lines of the daemons a run recorded in its state folder DIR
daemons_of() { awk '{ print $1 }' "$1/daemons" 2>/dev/null; }

# killed_ready PID: true once runner PID has a running command and its two daemons
killed_ready() {
	local d
	d=$(compgen -G "$XDG_RUNTIME_DIR/ipclab-trace/run-*-$(printf %x "$1")-*") || return 1
	[ "$(daemons_of "$d" | wc -l)" -ge 2 ] && [ -s "$T/k.pid" ] && running "$(cat "$T/k.pid")"
}

gone() { ! running "$1"; }

# SIGKILL the runner mid-run: its command and its daemons die with it; the next run
# removes the dead run's folder and records only its own events
case_sigkill() {
	local k dir p pids=()
	# shellcheck disable=SC2016
	bg_start k "$T/k.out" "$T/k.err" "$TRACE" --out "$T/k" --provider "$PROVIDER" --quiet -- \
		bash -c 'echo $$ >"$0"; exec "$@"' "$T/k.pid" "$IPCLAB" ipc latency --iterations 100000000 --timeout 60 --quiet
	if ! poll_until 60 killed_ready "$k"; then
		fail "the traced run never got going: $(head -c 300 "$T/k.err")"
		return
	fi
	dir=$(compgen -G "$XDG_RUNTIME_DIR/ipclab-trace/run-*-$(printf %x "$k")-*")
	mapfile -t pids < <(daemons_of "$dir")
	pids+=("$(cat "$T/k.pid")")
	kill -KILL "$k"
	wait_exit "$k" 10
	for p in "${pids[@]}"; do
		poll_until 20 gone "$p" || fail "PID $p ($(cat "/proc/$p/comm" 2>/dev/null)) survived the runner's SIGKILL"
	done
	[ -d "$dir" ] || fail "the killed run's folder is already gone (expected: left for the next run)"
	run "$TRACE" --out "$T/k2" --provider "$PROVIDER" --quiet -- "${LAT[@]}" 40
	expect_rc 0 "the next traced run"
	[ -e "$dir" ] && fail "the next run did not remove the killed run's folder $dir"
	msg_count "$T/k2" 40
	for p in "${pids[@]}"; do running "$p" && kill -KILL "$p"; done
	return 0
}

# decoy_up: true once the decoy runs tail (setpriv and env have exec'd it)
decoy_up() { [ "$(readlink "/proc/$DECOY/exe" 2>/dev/null)" = "$TAIL" ]; }
TAIL=$(realpath "$(command -v tail)")

# start_decoy: an unprivileged process whose PID is planted in records; must survive
start_decoy() {
	bg_start DECOY "$T/decoy.out" "$T/decoy.err" "${AS_VICTIM[@]}" tail -f /dev/null
	poll_until 10 decoy_up || fail "the decoy did not start"
}

# stop_decoy: it must still run (nobody signalled it); then we stop it
stop_decoy() {
	running "$DECOY" || fail "the decoy (PID $DECOY, planted in a record) was signalled"
	kill -KILL "$DECOY"
	wait_exit "$DECOY" 10
}

# the victim's usual state folder belongs to the attacker (or is the attacker's symlink),
# with a record naming the victim's decoy: the victim does not use it, is not blocked,
# signals nothing; the attacker's files are untouched
case_attacker_folder() {
	local kind=$1 st dstart
	rm -rf "${TMPD:?}/ipclab-trace-$VICTIM" # the victim's own, from an earlier case
	start_decoy
	dstart=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$DECOY/stat")
	install -d -o "$VICTIM" -m 0700 "$T/v$kind"
	if [ "$kind" = dir ]; then
		"${AS_ATTACKER[@]}" mkdir -m 0777 "$TMPD/ipclab-trace-$VICTIM" "$TMPD/ipclab-trace-$VICTIM/run-1-1"
		# shellcheck disable=SC2016
		"${AS_ATTACKER[@]}" sh -c 'echo "$1 $2 $3" >"$0"' "$TMPD/ipclab-trace-$VICTIM/run-1-1/daemons" \
			"$DECOY" "$dstart" "$TAIL"
	else
		install -d -o "$VICTIM" -m 0700 "$T/vsym/owned" "$T/vsym/owned/run-1-1"
		# shellcheck disable=SC2016
		"${AS_VICTIM[@]}" sh -c 'echo "$1 $2 $3" >"$0"' "$T/vsym/owned/run-1-1/daemons" \
			"$DECOY" "$dstart" "$TAIL"
		"${AS_ATTACKER[@]}" ln -s "$T/vsym/owned" "$TMPD/ipclab-trace-$VICTIM"
	fi
	run "${AS_VICTIM[@]}" "$TRACE" --out "$T/v$kind/t" --provider "$PROVIDER" --quiet -- "${LAT[@]}" 20
	expect_rc 0 "the victim's traced run"
	grep -q 'not a private folder' "$T/err" || fail "no warning about the foreign state folder: $(head -c 300 "$T/err")"
	msg_count "$T/v$kind/t" 20
	! compgen -G "$TMPD/ipclab-trace-$VICTIM.*" >/dev/null || fail "the one-off state folder was left: $(compgen -G "$TMPD/ipclab-trace-$VICTIM.*")"
	stop_decoy
	if [ "$kind" = dir ]; then
		[ -e "$TMPD/ipclab-trace-$VICTIM/run-1-1/daemons" ] || fail "the attacker's folder was modified"
	else
		[ -e "$T/vsym/owned/run-1-1/daemons" ] || fail "a folder was used through the attacker's symlink"
		st=$(stat -c %F "$TMPD/ipclab-trace-$VICTIM")
		[ "$st" = "symbolic link" ] || fail "the attacker's symlink became: $st"
	fi
	rm -rf "${TMPD:?}/ipclab-trace-$VICTIM"
	return 0
}

# PIDNS: our PID namespace's inode, in hex, as run folders are named (run-PIDNS-PID-START)
PIDNS=$(printf %x "$(readlink /proc/self/ns/pid | tr -cd 0-9)")

# a record in root's own state folder naming a live process whose start time or
# executable differ (PID reuse) is never acted on, and the dead run's folder is removed
# (PIDs 1 and 2 of our namespace with start time 1: dead runs)
case_identity() {
	local dstart sd=$XDG_RUNTIME_DIR/ipclab-trace
	start_decoy
	dstart=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$DECOY/stat")
	[ -d "$sd" ] || mkdir -m 0700 "$sd"
	mkdir -m 0700 "$sd/run-$PIDNS-1-1" "$sd/run-$PIDNS-2-1"
	echo "$DECOY $((dstart + 1)) $TAIL" >"$sd/run-$PIDNS-1-1/daemons"
	echo "$DECOY $dstart $(realpath "$(command -v lttng-sessiond)")" >"$sd/run-$PIDNS-2-1/daemons"
	run "$TRACE" --out "$T/id" --provider "$PROVIDER" --quiet -- "${LAT[@]}" 10
	expect_rc 0 "traced run"
	msg_count "$T/id" 10
	stop_decoy
	if [ -e "$sd/run-$PIDNS-1-1" ] || [ -e "$sd/run-$PIDNS-2-1" ]; then fail "dead runs' folders were not removed"; fi
	[ "$(stat -c '%u %a' "$sd")" = "0 700" ] || fail "root's state folder is $(stat -c '%u %a' "$sd"), want 0 700"
}

# a run's folder is judged only by runs that see its PID namespace: while a run is
# blocked mid-way (its folder holds its log), runs in another PID namespace (with their
# own /proc, and without: /proc then shows the parent's PIDs) leave its folder and a
# folder named the old way (no namespace, naming a PID that is alive here) alone, and
# the blocked run ends with an exact trace. (Judged from there, the live run's PID did
# not exist: its folder was removed, its log vanished mid-run.)
case_other_pidns() {
	local a dir sd=$XDG_RUNTIME_DIR/ipclab-trace legacy
	[ -d "$sd" ] || mkdir -m 0700 "$sd"
	mkfifo -m 0600 "$T/pn.go"
	# shellcheck disable=SC2016
	bg_start a "$T/pa.out" "$T/pa.err" "$TRACE" --out "$T/pa" --provider "$PROVIDER" --quiet -- \
		bash -c '"$@" && : >"$0.ready" && read -r _ <"$0"' "$T/pn.go" "${LAT[@]}" 30
	if ! poll_until 120 test -e "$T/pn.go.ready"; then
		fail "the traced run did not reach its experiment's end: $(head -c 300 "$T/pa.err")"
		return
	fi
	dir=$(compgen -G "$sd/run-$PIDNS-$(printf %x "$a")-*") || fail "no state folder for run $a"
	legacy=$sd/run-$$-$(awk '{ sub(/.*\) /, ""); print $20 }' /proc/$$/stat)
	mkdir -m 0700 "$legacy"
	run unshare --pid --fork --mount-proc -- "$TRACE" --out "$T/pb" --provider "$PROVIDER" --quiet -- "${LAT[@]}" 10
	expect_rc 0 "a traced run in another PID namespace (own /proc)"
	msg_count "$T/pb" 10
	run unshare --pid --fork -- "$TRACE" --out "$T/pc" --provider "$PROVIDER" --quiet -- "${LAT[@]}" 10
	expect_rc 0 "a traced run in another PID namespace (the parent's /proc)"
	msg_count "$T/pc" 10
	[ -d "$dir" ] || fail "the live run's folder $dir was removed by a run of another PID namespace"
	[ -d "$legacy" ] || fail "a folder named without its PID namespace was judged and removed"
	release "$T/pn.go"
	wait_exit "$a" 60
	[ "$RC" = 0 ] || fail "the blocked run: exit $RC: $(head -c 300 "$T/pa.err")"
	msg_count "$T/pa" 30
	rmdir "$legacy"
}

# a traced command that leaves a daemon behind (forked away, its own session: out of
# its process group and tree): the daemon is stopped at the end of the run, with a
# warning on stderr and in the JSON; the command's exit status is kept
case_stray() {
	# shellcheck disable=SC2016
	run "$TRACE" --out "$T/st" --provider "$PROVIDER" --quiet -- bash -c \
		'setsid sh -c "tail -f /dev/null </dev/null >/dev/null 2>&1 & echo \$! >\"\$0\"" "$0" && "$@"' \
		"$T/st.pid" "${LAT[@]}" 10
	expect_rc 0 "a traced command that leaves a daemon"
	[ -s "$T/st.pid" ] || { fail "the daemon did not start"; return; }
	running "$(cat "$T/st.pid")" && { fail "the command's daemon $(cat "$T/st.pid") survived the run"; kill -KILL "$(cat "$T/st.pid")"; }
	# named as it is when stopped: "tail", or "sh" if it had not finished its execve yet
	grep -q -E "WARNING: COMMAND left processes running: (tail|sh) $(cat "$T/st.pid");" "$T/err" ||
		fail "no warning naming the daemon: $(head -c 300 "$T/err")"
	jcheck "$T/st/ipclab-trace.json" 'any("left processes running" in w for w in d["warnings"])'
	msg_count "$T/st" 10
}

# RLIMIT_SIGPENDING: COMMAND runs with the limits it was given (the runner raises its
# own for its daemons' timers); with the quota used up (limit 0 here) a run that may
# raise its limit (CAP_SYS_RESOURCE) records exactly, one that may not says why in one
# line (the daemon could not arm a timer), never "buffers could not be created" for
# /dev/shm
case_sigpending() {
	local hard
	hard=$(ulimit -H -i)
	[ "$hard" != unlimited ] || hard=$(($(ulimit -S -i) + 1))
	# shellcheck disable=SC2016 # expanded by the traced bash
	run prlimit --sigpending=$((hard - 1)):"$hard" -- "$TRACE" --out "$T/sp" --provider "$PROVIDER" --quiet -- \
		bash -c 'echo "$(ulimit -S -i) $(ulimit -H -i)"'
	expect_rc 0 "traced ulimit -i"
	[ "$(cat "$T/out")" = "$((hard - 1)) $hard" ] || fail "COMMAND's RLIMIT_SIGPENDING: $(cat "$T/out"), want $((hard - 1)) $hard"
	run prlimit --sigpending=0 -- "$TRACE" --out "$T/sq" --provider "$PROVIDER" --quiet -- "${LAT[@]}" 10
	if prlimit --sigpending=0 -- bash -c 'ulimit -H -i unlimited' 2>/dev/null; then
		expect_rc 0 "a traced run with the queued-signal quota used up" || return
		msg_count "$T/sq" 10
	else
		expect_rc 3 "a traced run with the queued-signal quota used up (no CAP_SYS_RESOURCE)"
		grep -q 'could not arm a timer.*RLIMIT_SIGPENDING' "$T/err" || fail "the reason is not named: $(head -c 400 "$T/err")"
	fi
}

# another user holding a lock where the old runner kept one (/run/lock, here a private
# tmpfs) does not block a traced run
case_foreign_lock() {
	local h
	# held_by_attacker: the attacker's tail holds the lock (it has exec'd tail)
	held_by_attacker() { [ "$(readlink "/proc/$h/exe")" = "$(readlink -f "$(command -v tail)")" ]; }
	unshare_lock() {
		mount -t tmpfs -o mode=1777 lock /run/lock || return 1
		# shellcheck disable=SC2016
		# the lock is held by the open file that tail inherits: killing h releases it
		# (flock -c would leave its command running)
		"${AS_ATTACKER[@]}" sh -c 'exec 9>>/run/lock/ipclab-trace.lock && flock -s 9 && exec tail -f /dev/null' &
		h=$!
		poll_until 10 held_by_attacker || return 1
		timeout -k 5 60 "$TRACE" --out "$T/lk" --provider "$PROVIDER" --quiet -- "${LAT[@]}" 10 >/dev/null
		local rc=$?
		kill -KILL "$h"
		wait "$h" 2>/dev/null
		return "$rc"
	}
	run unshare --mount --propagation private -- bash -c "$(declare -f poll_until held_by_attacker unshare_lock; declare -p LAT AS_ATTACKER); T=$T TRACE=$TRACE PROVIDER=$PROVIDER unshare_lock"
	expect_rc 0 "a traced run while another user holds /run/lock/ipclab-trace.lock" || return
	msg_count "$T/lk" 10
}

# a command that reaches no tracepoint: exit 0, a warning on stderr and in the JSON
case_zero_events() {
	run "$TRACE" --out "$T/z" --provider "$PROVIDER" --quiet -- true
	expect_rc 0 "traced true"
	grep -q 'WARNING: no event was recorded' "$T/err" || fail "no warning on stderr: $(head -c 200 "$T/err")"
	jcheck "$T/z/ipclab-trace.json" 'd["traced"] is True and d["events"]["total"] == 0' \
		'len(d["warnings"]) == 1 and d["warnings"][0].startswith("no event recorded")'
}

# buffers that do not fit in /dev/shm (a 1 MiB tmpfs here): exit 3, one line with the
# reason and the options that fix it; smaller buffers then record exactly
case_small_shm() {
	# shellcheck disable=SC2016
	run unshare --mount --propagation private -- bash -c 'mount -t tmpfs -o size=1m,mode=1777 shm /dev/shm && exec "$@"' \
		_ "$TRACE" --out "$T/s" --provider "$PROVIDER" --quiet -- "${LAT[@]}" 10
	expect_rc 3 "traced run with a 1 MiB /dev/shm"
	[ "$(lines "$T/err")" -eq 1 ] || fail "$(lines "$T/err") lines on stderr, want 1: $(head -c 400 "$T/err")"
	grep -q -- 'could not be created.*--subbuf-size' "$T/err" || fail "no reason and hint: $(head -c 300 "$T/err")"
	jcheck "$T/s/ipclab-trace.json" 'any("could not be created" in w for w in d["warnings"])'
	# shellcheck disable=SC2016
	run unshare --mount --propagation private -- bash -c 'mount -t tmpfs -o size=1m,mode=1777 shm /dev/shm && exec "$@"' \
		_ "$TRACE" --out "$T/s2" --provider "$PROVIDER" --subbuf-size 16k --num-subbuf 2 --quiet -- "${LAT[@]}" 10
	expect_rc 0 "traced run with 16k x 2 buffers in a 1 MiB /dev/shm" || return
	msg_count "$T/s2" 10
	jcheck "$T/s2/ipclab-trace.json" 'd["buffers"]["subbuf_size"] == "16k" and d["buffers"]["num_subbuf"] == 2'
}

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null 2>&1 || ! command -v unshare >/dev/null 2>&1; then
	for c in usage concurrent sigkill attacker_dir attacker_symlink identity other_pidns stray sigpending foreign_lock zero_events small_shm; do
		skip_case "trace_runner_$c" "needs root, setpriv and unshare"
	done
	finish
fi
run_case trace_runner_usage case_usage
run_case trace_runner_concurrent case_concurrent
run_case trace_runner_sigkill case_sigkill
run_case trace_runner_attacker_dir case_attacker_folder dir
run_case trace_runner_attacker_symlink case_attacker_folder symlink
run_case trace_runner_identity case_identity
run_case trace_runner_other_pidns case_other_pidns
run_case trace_runner_stray case_stray
run_case trace_runner_sigpending case_sigpending
run_case trace_runner_foreign_lock case_foreign_lock
run_case trace_runner_zero_events case_zero_events
run_case trace_runner_small_shm case_small_shm
finish
