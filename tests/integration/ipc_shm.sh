#!/bin/bash
# ipc_shm.sh - "ipclab ipc shm": the Value and the Array are read back; with a mutex or a
# seqlock, in both modes, anonymous or named memory, torn reads are exactly 0; with
# --lock none the run succeeds and reports a count; the Value counter never goes back;
# --named leaves nothing in /dev/shm; bad options exit 2 with one line.
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
	if [ "$(nproc)" -ge 2 ]; then
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

# case_none MODE NAMED: torn reads counted, not a failure
case_none() {
	local mode=$1 named=$2 flag=() before
	[ "$named" = True ] && flag=(--named)
	before=$(our_shm)
	run "$IPCLAB" ipc shm --mode "$mode" --lock none "${flag[@]}" --json
	expect_rc 0 "ipc shm --mode $mode --lock none" || return
	common_checks "$mode" none 8 1000000 "$named"
	jcheck "$T/out" '"no_torn_reads" not in d["results"]["checks"]' \
		'(d["results"]["torn_reads"] == 0) == (d["results"]["first_torn"] is None)' \
		'd["results"]["first_torn"] is None or len(set(d["results"]["first_torn"])) > 1'
	echo "# torn reads, lock none, $mode mode${flag:+, named}: $(jget "$T/out" 'd["results"]["torn_reads"]') of 1000000"
	[ "$(our_shm)" = "$before" ] || fail "left in /dev/shm: $(our_shm)"
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
done
run_case ipc_shm_words_2 case_words 2
run_case ipc_shm_words_64 case_words 64
run_case ipc_shm_human case_human
run_case ipc_shm_usage case_usage
finish
