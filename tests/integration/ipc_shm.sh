#!/bin/bash
# ipc_shm.sh - "ipclab ipc shm": the Value and the Array are read back; with a mutex or a
# seqlock, in both modes, anonymous or named memory, torn reads are exactly 0; with
# --lock none a run either shows torn reads (exit 0) or says it is inconclusive (exit 4,
# one line, how long the loops overlapped), never "0 torn reads"; the Value counter never
# goes back; --named leaves nothing in /dev/shm, removes the name while the run goes on
# (a SIGKILLed run leaves nothing), and on a full /dev/shm exits 3 with one line instead
# of dying of SIGBUS; a SIGKILLed writer or reader (every lock) is exit 1 with one line
# naming it, the other side stopped, nothing left; bad options exit 2 with one line.
# Usage: tests/integration/ipc_shm.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# our_shm: our ipclab objects in /dev/shm (another live run's are not ours)
our_shm() {
	local f
	for f in /dev/shm/ipclab-*; do
		[ -e "$f" ] || continue
		foreign "${f##*/}" || echo "$f"
	done
}

# common_checks MODE LOCK W N NAMED: what every successful run satisfies
common_checks() {
	jcheck "$T/out" "${ENVELOPE[@]}" \
		'd["experiment"] == "ipc shm" and d["exit_code"] == 0' \
		"d['params']['mode'] == '$1' and d['params']['lock'] == '$2'" \
		"d['params']['record_words'] == $3 and d['params']['iterations'] == $4" \
		"d['params']['named'] is $5" \
		'd["results"]["value"]["ok"] is True and d["results"]["array"]["ok"] is True' \
		"d['results']['array']['words'] == $3" \
		"d['results']['reads'] == $4 and d['results']['writes'] > 0" \
		'isinstance(d["results"]["torn_reads"], int) and 0 <= d["results"]["torn_reads"] <= d["results"]["reads"]' \
		'd["results"]["counter_regressions"] == 0' \
		'd["results"]["reads_per_s"] > 0 and d["results"]["writes_per_s"] > 0' \
		'd["results"]["checks"]["value_read_back"] and d["results"]["checks"]["array_read_back"] and d["results"]["checks"]["counter_never_back"]' \
		"d['results']['memory']['kind'] == ('posix-shm' if $5 else 'anonymous')"
	if [ "$(nproc)" -ge 2 ] && [ -z "${SAME_CPU:-}" ]; then
		jcheck "$T/out" 'd["results"]["cpu_writer"] != d["results"]["cpu_reader"]'
	fi
}

# case_locked MODE LOCK NAMED: torn reads exactly 0
case_locked() {
	local mode=$1 lock=$2 named=$3 flag=() before
	[ "$named" = True ] && flag=(--named)
	before=$(our_shm)
	run "$IPCLAB" ipc shm --mode "$mode" --lock "$lock" "${flag[@]}" --json
	expect_rc 0 "ipc shm --mode $mode --lock $lock ${flag[*]}" || return
	common_checks "$mode" "$lock" 8 1000000 "$named"
	jcheck "$T/out" 'd["results"]["torn_reads"] == 0 and d["results"]["first_torn"] is None' \
		'd["results"]["checks"]["no_torn_reads"] is True'
	if [ "$lock" = seqlock ]; then
		jcheck "$T/out" 'isinstance(d["results"]["retries"], int) and d["results"]["retries"] >= 0'
	else
		jcheck "$T/out" 'd["results"]["retries"] is None'
	fi
	[ "$(our_shm)" = "$before" ] || fail "left in /dev/shm: $(our_shm)"
}

# case_none MODE NAMED [CPU]: torn reads shown (exit 0), or inconclusive (exit 4), never 0
case_none() {
	local mode=$1 named=$2 cpu=${3:-} flag=() before
	[ "$named" = True ] && flag=(--named)
	[ -n "$cpu" ] && flag+=(--cpu "$cpu")
	before=$(our_shm)
	run "$IPCLAB" ipc shm --mode "$mode" --lock none "${flag[@]}" --json
	if [ "$RC" = 4 ]; then
		if ! { [ "$(wc -l <"$T/err")" = 1 ] && grep -q '^ipclab: ipc shm: inconclusive: no torn read: ' "$T/err"; }; then
			fail "exit 4 without the one inconclusive line: $(paste -sd'|' "$T/err")"
		fi
		jcheck "$T/out" 'd["exit_code"] == 4 and d["results"]["torn_reads"] == 0' \
			'isinstance(d["results"]["inconclusive"], str)' \
			'd["results"]["effect"] == {"shown": False, "why": d["results"]["inconclusive"]}'
		echo "# lock none, $mode mode${flag:+ ${flag[*]}}: inconclusive: $(jget "$T/out" 'd["results"]["inconclusive"]')"
	else
		expect_rc 0 "ipc shm --mode $mode --lock none ${flag[*]}" || return
		SAME_CPU=$cpu common_checks "$mode" none 8 1000000 "$named"
		jcheck "$T/out" '"no_torn_reads" not in d["results"]["checks"]' \
			'd["results"]["torn_reads"] > 0 and d["results"]["effect"]["shown"] is True' \
			'len(set(d["results"]["first_torn"])) > 1' \
			'0 <= d["results"]["overlap_ns"] <= d["results"]["read_ns"]' \
			'0 <= d["results"]["overlap_fraction"] <= 1 and d["results"]["writes_during_reads"] >= 0'
		echo "# torn reads, lock none, $mode mode${flag:+ ${flag[*]}}: $(jget "$T/out" 'd["results"]["torn_reads"]') of 1000000"
	fi
	[ "$(our_shm)" = "$before" ] || fail "left in /dev/shm: $(our_shm)"
}

# the run's named object, while it exists
shm_name_of() { compgen -G "/dev/shm/ipclab-shm-$1-*"; }
# sides_up PID MODE: the writer and the reader exist (they are started after the object
# is created): two child processes, or two threads beside the main and watchdog threads
sides_up() {
	if [ "$2" = process ]; then
		[ "$(children "$1" | wc -l)" -ge 2 ]
	else
		local tasks=(/proc/"$1"/task/*)
		[ "${#tasks[@]}" -ge 4 ]
	fi
}
name_gone() { sides_up "$1" "$2" && ! shm_name_of "$1" >/dev/null && running "$1"; }

# case_named_unlinked MODE: the name goes as soon as both sides have mapped it, while the
# run goes on; a SIGKILLed parent then leaves nothing behind (its sides die with it)
case_named_unlinked() {
	local pid kids
	bg_start pid "$T/kout" "$T/kerr" "$IPCLAB" ipc shm --mode "$1" --named --lock seqlock \
		--iterations 100000000 --timeout 60 --quiet
	poll_until 20 name_gone "$pid" "$1" || { fail "the name of $pid was not removed while it ran"; return; }
	[ "$1" = process ] && kids=$(children "$pid")
	kill -KILL "$pid"
	wait_exit "$pid" 5
	[ -z "$(shm_name_of "$pid")" ] || fail "left in /dev/shm: $(shm_name_of "$pid")"
	for k in $kids; do
		poll_until 10 exited "$k" || fail "side $k survived its parent"
	done
	rm -f "$T/kout" "$T/kerr"
}

# side_busy PID COMM: PID's child named COMM has run >= 2 clock ticks (past the start
# barrier, which polls for 1 ms only, then sleeps): its pid in KID
side_busy() {
	local c comm st
	KID=
	for c in $(children "$1"); do
		{ read -r comm <"/proc/$c/comm" && read -r st <"/proc/$c/stat"; } 2>/dev/null || continue
		[ "$comm" = "$2" ] || continue
		st=${st##*) }
		[ "$(awk '{ print $12 + $13 }' <<<"$st")" -ge 2 ] && KID=$c
	done
	[ -n "$KID" ]
}

# case_killed_side LOCK WHO: SIGKILL the writer or the reader of a long process-mode run.
# The reader is stopped first (SIGSTOP), so the run cannot end before the kill whatever
# the machine's speed; the writer is killed while the stopped reader still reads (then
# SIGCONT: it must notice the dead writer, even in a seqlock read the writer left odd).
# Exit 1, exactly one line naming the dead side, no child and nothing in /dev/shm left.
case_killed_side() {
	local lock=$1 who=$2 pid reader writer before
	before=$(our_shm)
	bg_start pid "$T/kout" "$T/kerr" "$IPCLAB" ipc shm --mode process --lock "$lock" --named \
		--iterations 100000000 --timeout 60 --quiet
	if ! poll_until 20 side_busy "$pid" ipclab-shm-r; then
		fail "the reader of $pid never got going: $(paste -sd'|' "$T/kerr")"
		return
	fi
	reader=$KID
	if ! poll_until 20 side_busy "$pid" ipclab-shm-w; then
		fail "the writer of $pid never got going: $(paste -sd'|' "$T/kerr")"
		return
	fi
	writer=$KID
	kill -STOP "$reader"
	running "$reader" || { fail "the reader ended before it was stopped (--iterations too small?)"; return; }
	if [ "$who" = writer ]; then
		kill -KILL "$writer"
		poll_until 10 exited "$writer" || fail "the writer survived SIGKILL"
		kill -CONT "$reader"
	else
		kill -KILL "$reader"
	fi
	wait_exit "$pid" 30
	[ "$RC" = 1 ] || fail "exit $RC after the $who was killed, want 1 ($(paste -sd'|' "$T/kerr"))"
	if ! { [ "$(lines "$T/kerr")" -eq 1 ] &&
		grep -q "FAIL: the $who (ipclab-shm-${who:0:1}) was killed by signal 9 (SIGKILL)" "$T/kerr"; }; then
		fail "want one line naming the killed $who: $(paste -sd'|' "$T/kerr")"
	fi
	for k in $reader $writer; do
		exited "$k" || fail "side $k still exists (state $(proc_state "$k"))"
	done
	[ "$(our_shm)" = "$before" ] || fail "left in /dev/shm: $(our_shm)"
	rm -f "$T/kout" "$T/kerr"
}

# case_named_full: --named on a full /dev/shm (a 1-page tmpfs, filled, in a private mount
# namespace): exit 3 and one line naming it, nothing left; not SIGBUS (exit 135)
case_named_full() {
	command -v unshare >/dev/null || { skip "no unshare(1)"; return; }
	if ! unshare -m true 2>/dev/null; then
		skip "cannot create a mount namespace here (needs root)"
		return
	fi
	# shellcheck disable=SC2016
	run unshare -m sh -c 'mount -t tmpfs -o size=4k ipclab-test /dev/shm &&
		dd if=/dev/zero of=/dev/shm/fill bs=4k count=1 2>/dev/null; "$0" ipc shm --named --lock mutex --json; rc=$?;
		rm -f /dev/shm/fill; echo "left: $(ls -A /dev/shm)"; exit $rc' "$IPCLAB"
	expect_rc 3 "ipc shm --named on a full /dev/shm" || return
	if ! { [ "$(wc -l <"$T/err")" = 1 ] && grep -q '/dev/shm is full' "$T/err"; }; then
		fail "want one line naming the full /dev/shm: $(paste -sd'|' "$T/err")"
	fi
	grep -q '^left: $' "$T/out" || fail "left in the full /dev/shm: $(grep '^left:' "$T/out")"
	sed -i '/^left:/d' "$T/out"
	jcheck "$T/out" 'd["exit_code"] == 3'
}

# case_words W: the smallest and largest records
case_words() {
	run "$IPCLAB" ipc shm --record-words "$1" --lock seqlock --iterations 20000 --json
	expect_rc 0 "ipc shm --record-words $1" || return
	common_checks process seqlock "$1" 20000 False
	jcheck "$T/out" 'd["results"]["torn_reads"] == 0'
}

case_human() {
	run "$IPCLAB" ipc shm --mode thread --lock mutex --iterations 10000 --named
	expect_rc 0 "ipc shm (human)" || return
	grep -q '^ipc shm: thread mode, lock mutex, 8-word record, 10000 reads, named POSIX shm object /ipclab-shm-' "$T/out" ||
		fail "header: $(head -n 1 "$T/out")"
	grep -q '^(a) Value 0xa11ce5eed: read back ok; Array of 8 words: read back ok$' "$T/out" || fail "no (a) line"
	grep -q -E '^\(b\) record: 10000 reads \([0-9]+/s\), [0-9]+ writes \([0-9]+/s\), torn reads 0 \(0.0000%\) ok$' "$T/out" ||
		fail "no (b) line: $(paste -sd'|' "$T/out")"
}

case_usage() {
	local v
	for v in 1 65 x ""; do
		expect_usage "$IPCLAB" ipc shm --record-words "$v"
		grep -q -- '--record-words' "$T/err" || fail "--record-words '$v': option not named"
	done
	expect_usage "$IPCLAB" ipc shm --lock spin
	grep -q 'none|mutex|seqlock' "$T/err" || fail "--lock choices not listed"
	expect_usage "$IPCLAB" ipc shm --mode fiber
	expect_usage "$IPCLAB" ipc shm --iterations 0
	expect_usage "$IPCLAB" ipc shm --named=yes
	expect_usage "$IPCLAB" ipc shm --warmup 3
	run "$IPCLAB" ipc shm --help
	expect_rc 0 "--help"
	grep -q -- '--named' "$T/out" || fail "--help lacks --named"
}

for mode in process thread; do
	for lock in mutex seqlock; do
		run_case "ipc_shm_${lock}_${mode}" case_locked "$mode" "$lock" False
		run_case "ipc_shm_${lock}_${mode}_named" case_locked "$mode" "$lock" True
	done
	run_case "ipc_shm_none_${mode}" case_none "$mode" False
	run_case "ipc_shm_none_${mode}_named" case_none "$mode" True
	run_case "ipc_shm_none_${mode}_one_cpu" case_none "$mode" False 0
	run_case "ipc_shm_named_unlinked_${mode}" case_named_unlinked "$mode"
done
for lock in none mutex seqlock; do
	for who in writer reader; do
		run_case "ipc_shm_${lock}_killed_$who" case_killed_side "$lock" "$who"
	done
done
run_case ipc_shm_named_full case_named_full
run_case ipc_shm_words_2 case_words 2
run_case ipc_shm_words_64 case_words 64
run_case ipc_shm_human case_human
run_case ipc_shm_usage case_usage
finish
