#!/bin/bash
# ipc_transports_b.sh - the shared-memory transports (shm-posix-sem, shm-sysv-sem,
# shm-condvar, shm-spin) and "ipc floor" end to end: listed; latency in every mode x size
# with exact counts; shm-spin pinned to one CPU yields instead of burning time slices;
# the floor runs; a SIGKILLed responder is noticed within 2 s with nothing left behind
# (the SysV set, /dev/shm, zombies); SIGTERM/SIGINT remove the SysV set.
# Usage: tests/integration/ipc_transports_b.sh BUILD_DIR

# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRANSPORTS=(shm-posix-sem shm-sysv-sem shm-condvar shm-spin)
SIZES=(16 4096 65536 1048576)
ITER=200
WARM=20
NCPU=$(nproc)

# transports --json lists T as supported, and the table prints it
case_listed() {
	run "$IPCLAB" ipc transports --json --quiet
	expect_rc 0 "ipc transports" || return
	jcheck "$T/out" "[x['supported'] for x in d['results']['transports'] if x['name'] == '$1'] == [True]"
	run "$IPCLAB" ipc transports
	grep -q -E "^  $1 " "$T/out" || fail "'ipc transports' does not print $1"
}

# case_latency T MODE SIZE [CPU]: a run with exact sample and message counts
case_latency() {
	local t=$1 m=$2 size=$3 cpu=${4:+--cpu=$4}
	# shellcheck disable=SC2086
	run "$IPCLAB" ipc latency --transport "$t" --mode "$m" --size "$size" --iterations "$ITER" \
		--warmup "$WARM" $cpu --json --quiet
	expect_rc 0 "--transport $t --mode $m --size $size $cpu" || return
	jcheck "$T/out" "${ENVELOPE[@]}" "d['exit_code'] == 0" "d['params']['transport'] == '$t'" \
		"d['params']['size'] == $size" "d['results']['rtt']['count'] == $ITER" \
		"d['results']['oneway_ab']['count'] == $ITER" "d['results']['oneway_ba']['count'] == $ITER" \
		"d['results']['messages_per_repeat'] == 2 * ($ITER + $WARM)"
}

# case_spin_same_cpu MODE: both peers pinned to CPU 0 busy-poll by yielding, so a round
# trip costs a pair of context switches, not a pair of time slices (milliseconds)
case_spin_same_cpu() {
	run "$IPCLAB" ipc latency --transport shm-spin --mode "$1" --size 16 --iterations 2000 --warmup 100 \
		--cpu 0 --json --quiet
	expect_rc 0 "shm-spin --cpu 0 --mode $1" || return
	jcheck "$T/out" "d['params']['placement'] == 'same-cpu'" "d['results']['rtt']['count'] == 2000"
}

# case_floor [CPU]: the floor experiment runs and reports an rtt summary
case_floor() {
	local cpu=${1:+--cpu=$1}
	# shellcheck disable=SC2086
	run "$IPCLAB" ipc floor --iterations 20000 --warmup 1000 --repeat 2 $cpu --json --quiet
	expect_rc 0 "ipc floor $cpu" || return
	jcheck "$T/out" "${ENVELOPE[@]}" "d['experiment'] == 'ipc floor'" "d['results']['rtt']['count'] == 40000" \
		"0 < d['results']['rtt']['min'] <= d['results']['rtt']['p50'] <= d['results']['rtt']['max']" \
		"len(d['results']['repeats']) == 2" "d['results']['rtt_untimed'] > 0" \
		"d['params']['transport'] is None" "'transport' not in d['results']"
	# shellcheck disable=SC2086
	run "$IPCLAB" ipc floor --iterations 1000 $cpu
	expect_rc 0 "ipc floor (table)" || return
	grep -q '^cache line ' "$T/out" || fail "no 'cache line' row in the table"
}

# case_floor_transport T [CPU]: the floor and T's send/recv interleaved in one run
case_floor_transport() {
	local t=$1 cpu=${2:+--cpu=$2}
	# shellcheck disable=SC2086
	run "$IPCLAB" ipc floor --transport "$t" --iterations 3000 --warmup 300 $cpu --json --quiet
	expect_rc 0 "ipc floor --transport $t $cpu" || return
	jcheck "$T/out" "d['params']['transport'] == '$t'" "d['results']['rtt']['count'] == 3000" \
		"d['results']['transport']['name'] == '$t'" "d['results']['transport']['rtt']['count'] == 3000" \
		"d['results']['ratio_p50'] > 0" "d['results']['ratio_untimed'] > 0"
}

# case_signal T MODE SIG WANT: SIG to a long run; it dies of SIG (exit WANT) and the
# guard removed the SysV semaphore set (run_case's snapshot checks ipcs -s)
case_signal() {
	local t=$1 m=$2 sig=$3 want=$4 pid
	bg_start pid "$T/kout" "$T/kerr" "$IPCLAB" ipc throughput --transport "$t" --mode "$m" --size 64 \
		--count 100000000 --timeout 60
	if ! poll_until 20 grep -s -q -E 'repeat 1/1' "$T/kerr"; then
		fail "the run never started: $(head -n 2 "$T/kerr" | paste -sd' ' -)"
		return
	fi
	kill "-$sig" "$pid"
	wait_exit "$pid" 5
	[ "$RC" = "$want" ] || fail "exit $RC after SIG$sig, want $want"
	rm -f "$T/kout" "$T/kerr"
}

for t in "${TRANSPORTS[@]}"; do
	run_case "transports_b_${t}_listed" case_listed "$t"
done
for t in "${TRANSPORTS[@]}"; do
	for m in process thread; do
		for s in "${SIZES[@]}"; do
			run_case "transports_b_${t}_${m}_$s" case_latency "$t" "$m" "$s"
		done
	done
done
for m in process thread; do
	run_case "transports_b_shm-spin_${m}_same_cpu_yields" case_spin_same_cpu "$m"
	if [ "$NCPU" -ge 2 ]; then
		for t in "${TRANSPORTS[@]}"; do
			run_case "transports_b_${t}_${m}_cross_cpu" case_latency "$t" "$m" 16 0,1
		done
	else
		ok_case "transports_b_${m}_cross_cpu # SKIP one CPU"
	fi
done
run_case transports_b_floor_unpinned case_floor
run_case transports_b_floor_same_cpu case_floor 0
if [ "$NCPU" -ge 2 ]; then
	run_case transports_b_floor_cross_cpu case_floor 0,1
else
	ok_case "transports_b_floor_cross_cpu # SKIP one CPU"
fi
run_case transports_b_floor_shm-spin case_floor_transport shm-spin
run_case transports_b_floor_pipe case_floor_transport pipe
if [ "$NCPU" -ge 2 ]; then
	run_case transports_b_floor_shm-spin_cross_cpu case_floor_transport shm-spin 0,1
fi
for t in "${TRANSPORTS[@]}"; do
	run_case "transports_b_${t}_killed_peer" case_kill_responder "$t"
done
run_case transports_b_shm-sysv-sem_thread_sigterm case_signal shm-sysv-sem thread TERM 143
run_case transports_b_shm-sysv-sem_process_sigint case_signal shm-sysv-sem process INT 130
finish
