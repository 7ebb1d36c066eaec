#!/bin/bash
# ipc_throughput.sh - "ipclab ipc throughput" end to end: every registered transport in
# both modes at 16 B, 4 KiB, 64 KiB and 1 MiB delivers every message verified (received
# == sent, nothing lost, duplicated, reordered or corrupted), or exits 3 naming the limit
# that forbids the size; the verifier itself catches each injected fault (exit 1, named);
# a SIGKILLed receiver is noticed (exit 1, one line) with nothing left behind; --sweep, --bytes,
# --repeat and the usage errors; traced, exactly one msg_send and one msg_recv per
# message.
# Usage: tests/integration/ipc_throughput.sh BUILD_DIR

# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SIZES=(16 4096 65536 1048576)
COUNT=1000
WARM=10

# every transport the binary registers and says is usable here
mapfile -t TRANSPORTS < <("$IPCLAB" ipc transports --json --quiet |
	"$PY" -c 'import json, sys
for t in json.load(sys.stdin)["results"]["transports"]:
    if t["supported"]:
        print(t["name"])')
[ "${#TRANSPORTS[@]}" -gt 0 ] || TRANSPORTS=(pipe)

# verified_checks N R: the expressions a clean run of N messages (+WARM) x R repeats meets
verified_checks() {
	local n=$1 r=$2 m=$(($1 + WARM))
	V=("d['exit_code'] == 0"
		"len(d['results']['points']) == 1"
		"d['results']['points'][0]['count'] == $n"
		"len(d['results']['points'][0]['repeats']) == $r"
		"all(x['sent'] == $m and x['received'] == $m and x['verified'] == $m for x in d['results']['points'][0]['repeats'])"
		"all(x['lost'] == 0 and x['duplicated'] == 0 and x['reordered'] == 0 and x['corrupted'] == 0 for x in d['results']['points'][0]['repeats'])"
		"d['results']['points'][0]['verification'] == {'sent': $m * $r, 'received': $m * $r, 'verified': $m * $r, 'lost': 0, 'duplicated': 0, 'reordered': 0, 'corrupted': 0}"
		"d['results']['points'][0]['msgs_per_s'] > 0"
		"abs(d['results']['points'][0]['mib_per_s'] * 1048576 - d['results']['points'][0]['msgs_per_s'] * d['results']['points'][0]['size']) <= 1e-6 * d['results']['points'][0]['bytes_per_s'] + 1")
}

# case_stream T MODE SIZE: COUNT messages, every one verified; or exit 3 naming a limit
case_stream() {
	local t=$1 m=$2 size=$3
	run "$IPCLAB" ipc throughput --transport "$t" --mode "$m" --size "$size" --count "$COUNT" \
		--warmup "$WARM" --json --quiet
	if [ "$RC" = 3 ] && grep -q -E 'limit|msgsize_max|msgmax|msgmnb|RLIMIT' "$T/err"; then
		echo "# $t $m $size: exit 3: $(head -n 1 "$T/err")"
		jcheck "$T/out" "d['exit_code'] == 3"
		return
	fi
	expect_rc 0 "--transport $t --mode $m --size $size" || return
	verified_checks "$COUNT" 1
	jcheck "$T/out" "${ENVELOPE[@]}" "${V[@]}" "d['params']['transport'] == '$t'" \
		"d['params']['size'] == $size" "d['results']['points'][0]['size'] == $size"
}

# case_table: the human table has the header and one row per size
case_table() {
	run "$IPCLAB" ipc throughput --transport pipe --count 200 --warmup 0
	expect_rc 0 "ipc throughput (table)" || return
	grep -q -E '^ +size B +messages +msgs/s +MiB/s' "$T/out" || fail "no table header: $(head -n 3 "$T/out")"
	grep -q -E '^ +64 +200 ' "$T/out" || fail "no row for 64 B x 200: $(cat "$T/out")"
}

# case_sweep T: one invocation, nine points 16 B..1 MiB (powers of 4), all verified
case_sweep() {
	run "$IPCLAB" ipc throughput --transport "$1" --sweep --count 200 --warmup "$WARM" --json --quiet
	expect_rc 0 "--transport $1 --sweep" || return
	jcheck "$T/out" "d['params']['sweep'] is True" \
		"[p['size'] for p in d['results']['points']] + d['results']['skipped_sizes'] == [16 * 4 ** k for k in range(9)] or sorted([p['size'] for p in d['results']['points']] + d['results']['skipped_sizes']) == [16 * 4 ** k for k in range(9)]" \
		"all(p['verification']['verified'] == p['verification']['sent'] == $((200 + WARM)) for p in d['results']['points'])" \
		"all(p['verification']['lost'] + p['verification']['duplicated'] + p['verification']['reordered'] + p['verification']['corrupted'] == 0 for p in d['results']['points'])"
}

# case_udp_window: UDP has no flow control of its own; the transport's window keeps the
# stream within the receive buffer, so the kernel drops nothing (SO_RXQ_OVFL), and the
# buffers and window are reported
case_udp_window() {
	run "$IPCLAB" ipc throughput --transport udp --mode process --size 16K --count 5000 --json --quiet
	expect_rc 0 "--transport udp --size 16K --count 5000" || return
	jcheck "$T/out" "d['results']['points'][0]['verification']['lost'] == 0" \
		"d['results']['points'][0]['transport_facts']['kernel_drops'] == 0" \
		"d['results']['points'][0]['transport_facts']['window'] >= 1" \
		"d['results']['points'][0]['transport_facts']['rcvbuf'] >= d['results']['points'][0]['transport_facts']['window'] * 16384"
}

# case_bytes_repeat: --bytes gives the message count, --repeat the repeats and their spread
case_bytes_repeat() {
	run "$IPCLAB" ipc throughput --transport shm-posix-sem --mode thread --size 4K --bytes 1M --repeat 3 \
		--warmup "$WARM" --json --quiet
	expect_rc 0 "--bytes 1M --repeat 3" || return
	verified_checks 256 3
	jcheck "$T/out" "${V[@]}" "d['params']['bytes'] == 1048576" \
		"d['results']['points'][0]['rel_stddev'] >= 0"
}

# case_inject T MODE FAULT WORD: the sender's injected fault fails the run, named
case_inject() {
	local t=$1 m=$2 f=$3 word=$4
	run "$IPCLAB" ipc throughput --transport "$t" --mode "$m" --count "$COUNT" --warmup "$WARM" \
		--inject "$f" --json --quiet
	expect_rc 1 "--inject $f" || return
	grep -q -E "FAIL: .*1 $word" "$T/err" || fail "no '1 $word' failure: $(head -n 2 "$T/err" | paste -sd' ' -)"
	jcheck "$T/out" "d['exit_code'] == 1" "d['results']['points'][0]['verification']['$word'] == 1"
}

# case_kill_receiver T: SIGKILL the receiver of a long process-mode run once it is busy
# receiving: exit 1 (PEER_GONE_BOUND bounds a hang; the time taken is printed, not judged), exactly one line saying where the sender saw it go and
# how it ended, nothing left behind
case_kill_receiver() {
	local t=$1 pid recv t0 ms left
	bg_start pid "$T/kout" "$T/kerr" "$IPCLAB" ipc throughput --transport "$t" --mode process --size 64 \
		--count 100000000 --warmup 0 --timeout 60 --quiet
	if ! poll_until 20 mid_run "$pid" || [ -z "$RESP" ]; then
		fail "the receiver of $pid never got going: $(head -n 2 "$T/kerr" | paste -sd' ' -)"
		return
	fi
	recv=$RESP
	t0=${EPOCHREALTIME/./}
	kill -KILL "$recv"
	wait_exit "$pid" "$PEER_GONE_BOUND" || fail "the sender did not notice its killed receiver within $PEER_GONE_BOUND s"
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	echo "# $t: the killed receiver was noticed after $ms ms"
	[ "$RC" = 1 ] || fail "exit $RC after the receiver was killed, want 1 ($(tail -n 2 "$T/kerr" | paste -sd' ' -))"
	grep -q -E 'FAIL: send of message [0-9]+: the receiver went away: it was killed by signal 9 \(SIGKILL\)$' "$T/kerr" ||
		fail "no dead-peer message: $(tail -n 2 "$T/kerr")"
	[ "$(lines "$T/kerr")" -eq 1 ] || fail "one failure, one line: $(paste -sd'|' "$T/kerr")"
	[ -z "$(proc_state "$recv")" ] || fail "receiver $recv still exists (state $(proc_state "$recv"))"
	left=$(compgen -G "/dev/shm/*-$pid-*") && fail "left in /dev/shm: $left"
	left=$(compgen -G "/tmp/ipclab-*-$pid-*") && fail "left in /tmp: $left"
	rm -f "$T/kout" "$T/kerr"
}

# case_usage WHAT ARGS...: a bad command line is exit 2 with one message
case_usage() {
	local what=$1
	shift
	run "$IPCLAB" ipc throughput "$@"
	expect_rc 2 "$what" || return
	[ "$(lines "$T/err")" -eq 1 ] || fail "$what: want one line on stderr, got: $(paste -sd'|' "$T/err")"
}

# case_traced MODE: under scripts/ipclab-trace, exactly (N+W)*R msg_send and msg_recv
# (sends from the main process, receives from the receivers in process mode), R run_begin
case_traced() {
	local mode=$1 n=300 w=20 r=2 dir=$T/trace-$1 msgs main
	msgs=$(((n + w) * r))
	if [ ! -x "$REPO/scripts/ipclab-trace" ] || [ ! -x "$REPO/scripts/ipclab-trace-count" ]; then
		fail "scripts/ipclab-trace or scripts/ipclab-trace-count missing"
		return
	fi
	# shellcheck disable=SC2016
	run "$REPO/scripts/ipclab-trace" --out "$dir" --name ipclabtput --provider "$TL_BUILD/lib/libipclab-tp.so" \
		--quiet -- bash -c 'echo $$ >"$1"; shift; exec "$@"' wrapper "$T/pid" \
		"$IPCLAB" ipc throughput --transport shm-spin --mode "$mode" --count "$n" --warmup "$w" --repeat "$r" \
		--json="$T/r.json" --quiet
	expect_rc 0 "traced ipc throughput" || return
	jcheck "$T/r.json" 'd["results"]["traced"] is True' || return
	if ! "$REPO/scripts/ipclab-trace-count" "$dir" --json >"$T/count.json" 2>"$T/count.err"; then
		fail "ipclab-trace-count failed: $(head -n 1 "$T/count.err")"
		return
	fi
	main=$(cat "$T/pid")
	jcheck "$T/count.json" 'd["complete"] is True' \
		'd["discarded_events"] == 0 and d["discarded_packets"] == 0' \
		"d['by_name'].get('ipclab_msg:msg_send') == $msgs" \
		"d['by_name'].get('ipclab_msg:msg_recv') == $msgs" \
		"d['by_name'].get('ipclab_run:run_begin') == $r" \
		"d['by_name'].get('ipclab_run:run_end') == $r" \
		"d['total'] == 2 * $msgs + 2 * $r" \
		"d['by_name_vpid']['ipclab_msg:msg_send'] == {'$main': $msgs}"
	if [ "$mode" = process ]; then
		jcheck "$T/count.json" "'$main' not in d['by_name_vpid']['ipclab_msg:msg_recv']" \
			"len(d['by_name_vpid']['ipclab_msg:msg_recv']) == $r" \
			"all(v == $((n + w)) for v in d['by_name_vpid']['ipclab_msg:msg_recv'].values())"
	else
		jcheck "$T/count.json" "d['by_name_vpid']['ipclab_msg:msg_recv'] == {'$main': $msgs}"
	fi
	rm -rf "$dir" "$T/r.json"
}

for t in "${TRANSPORTS[@]}"; do
	for m in process thread; do
		for s in "${SIZES[@]}"; do
			run_case "throughput_${t}_${m}_$s" case_stream "$t" "$m" "$s"
		done
	done
done
run_case throughput_table case_table
run_case throughput_sweep_pipe case_sweep pipe
run_case throughput_sweep_shm-spin case_sweep shm-spin
# queues refuse the larger sizes here (msgsize_max, msgmax): those are skipped sizes, not zero points
run_case throughput_sweep_posix-mq case_sweep posix-mq
run_case throughput_sweep_sysv-msg case_sweep sysv-msg
run_case throughput_sweep_udp case_sweep udp
run_case throughput_udp_window case_udp_window
run_case throughput_bytes_repeat case_bytes_repeat
for t in pipe udp shm-posix-sem shm-sysv-sem shm-condvar shm-spin; do
	for m in process thread; do
		run_case "throughput_inject_lose_${t}_$m" case_inject "$t" "$m" lose lost
		run_case "throughput_inject_dup_${t}_$m" case_inject "$t" "$m" dup duplicated
		run_case "throughput_inject_reorder_${t}_$m" case_inject "$t" "$m" reorder reordered
		run_case "throughput_inject_corrupt_${t}_$m" case_inject "$t" "$m" corrupt corrupted
	done
done
for t in "${TRANSPORTS[@]}"; do
	run_case "throughput_${t}_killed_receiver" case_kill_receiver "$t"
done
run_case throughput_usage_count_and_bytes case_usage "--count with --bytes" --count 10 --bytes 1M
run_case throughput_usage_sweep_and_size case_usage "--sweep with --size" --sweep --size 64
run_case throughput_usage_size_below_header case_usage "--size 8" --size 8
run_case throughput_usage_bad_inject case_usage "--inject bogus" --inject bogus
run_case throughput_usage_bad_transport case_usage "--transport bogus" --transport bogus
run_case throughput_traced_process case_traced process
run_case throughput_traced_thread case_traced thread
finish
