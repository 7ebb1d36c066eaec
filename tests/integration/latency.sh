#!/bin/bash
# latency.sh - "ipclab ipc latency" end to end: counts, percentile order, CPU placement,
# histogram files, and every transport in both modes.
# Usage: tests/integration/latency.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ITER=200
WARM=20
REP=2
# the CPUs this test may run on (affinity and cpuset allow them): normally 0 and 1
mapfile -t CPUS < <(awk '/^Cpus_allowed_list:/ { n = split($2, r, ","); for (i = 1; i <= n; i++) {
	m = split(r[i], ab, "-"); for (c = ab[1]; c <= (m > 1 ? ab[2] : ab[1]); c++) print c } }' /proc/self/status)

# summary_checks KEY COUNT: a latency summary with COUNT samples and ordered percentiles
summary_checks() {
	local k="d['results']['$1']"
	printf '%s\n' \
		"sorted(${k}) == sorted(['count', 'min', 'mean', 'stddev', 'p50', 'p90', 'p99', 'p999', 'max', 'overflow'])" \
		"${k}['count'] == $2" \
		"0 < ${k}['min'] <= ${k}['p50'] <= ${k}['p90'] <= ${k}['p99'] <= ${k}['p999'] <= ${k}['max']" \
		"${k}['min'] <= ${k}['mean'] <= ${k}['max']" \
		"${k}['stddev'] >= 0" \
		"${k}['overflow'] == 0"
}

# case_latency MODE [CPUS]: one JSON run with every structural check
case_latency() {
	local mode=$1 cpus=${2:-} placement=unpinned checks=()
	local args=(ipc latency --mode "$mode" --iterations "$ITER" --warmup "$WARM" --repeat "$REP" --json --quiet)
	[ -z "$cpus" ] || args+=(--cpu "$cpus")
	run "$IPCLAB" "${args[@]}"
	expect_rc 0 "${args[*]}" || return
	[ -s "$T/err" ] && fail "--quiet run wrote to stderr: $(head -n 1 "$T/err")"
	mapfile -t checks < <(summary_checks rtt $((ITER * REP)); summary_checks oneway_ab $((ITER * REP));
		summary_checks oneway_ba $((ITER * REP)))
	jcheck "$T/out" "${ENVELOPE[@]}" "${checks[@]}" \
		"d['exit_code'] == 0" \
		"d['experiment'] == 'ipc latency'" \
		"d['params']['mode'] == '$mode'" \
		"d['params']['iterations'] == $ITER and d['params']['warmup'] == $WARM and d['params']['repeat'] == $REP" \
		"d['results']['messages_per_repeat'] == 2 * ($ITER + $WARM)" \
		"len(d['results']['repeats']) == $REP" \
		"[r['repeat'] for r in d['results']['repeats']] == list(range($REP))" \
		"d['results']['traced'] is False" \
		"d['results']['clock_read_ns'] > 0"
	if [ -n "$cpus" ]; then
		local a=${cpus%,*} b=${cpus#*,}
		if [ "$a" = "$b" ]; then placement=same-cpu; else placement=cross-cpu; fi
		jcheck "$T/out" \
			"d['params']['cpu'] == [$a, $b]" \
			"all(r['cpu']['initiator'] == [$a, $a] for r in d['results']['repeats'])" \
			"all(r['cpu']['responder'] == [$b, $b] for r in d['results']['repeats'])"
	else
		jcheck "$T/out" "d['params']['cpu'] is None"
	fi
	jcheck "$T/out" "d['params']['placement'] == '$placement'"
}

# --hist=FILE: three gnuplot blocks (rtt, oneway_ab, oneway_ba) separated by two blank
# lines, '#' headers, "lower<TAB>count" rows summing to the JSON count minus overflow
case_hist_file() {
	run "$IPCLAB" ipc latency --iterations 300 --warmup 10 --repeat "$REP" --hist="$T/h.tsv" --json="$T/r.json" --quiet
	expect_rc 0 "--hist=FILE" || return
	[ -s "$T/h.tsv" ] || { fail "no histogram file"; return; }
	grep -q 'round trip' "$T/out" || fail "stdout lacks the human table with --json=FILE"
	"$PY" - "$T/h.tsv" "$T/r.json" >"$T/hist.check" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
res = json.load(open(sys.argv[2]))["results"]
blocks = [b for b in text.split("\n\n\n") if b.strip()]
if len(blocks) != 3:
    print("%d blocks separated by two blank lines, want 3" % len(blocks))
    sys.exit()
for name, block in zip(("rtt", "oneway_ab", "oneway_ba"), blocks):
    total, rows, prev = 0, 0, -1
    lines = block.strip("\n").split("\n")
    if not lines[0].startswith("#") or name not in lines[0]:
        print("block %s: first line %r is not its '#' header" % (name, lines[0]))
    for line in lines:
        if line.startswith("#"):
            if rows:
                print("block %s: header after data: %r" % (name, line))
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            print("block %s: bad row %r" % (name, line))
            continue
        lower, count = int(parts[0]), int(parts[1])
        if lower <= prev or count <= 0:
            print("block %s: row %r out of order or empty" % (name, line))
        prev = lower
        total += count
        rows += 1
    want = res[name]["count"] - res[name]["overflow"]
    if total != want or res[name]["count"] != 300 * 2:
        print("block %s: counts sum to %d, JSON count %d overflow %d" % (
            name, total, res[name]["count"], res[name]["overflow"]))
EOF
	[ -s "$T/hist.check" ] && fail "$(paste -sd';' "$T/hist.check")"
	rm -f "$T/h.tsv" "$T/r.json"
}

# --hist to stdout with --json=FILE: the blocks go to stdout after the table
case_hist_stdout() {
	run "$IPCLAB" ipc latency --iterations 100 --warmup 0 --hist --json="$T/r.json" --quiet
	expect_rc 0 "--hist (stdout)" || return
	local n
	n=$(grep -c '^# histogram' "$T/out")
	[ "$n" -eq 3 ] || fail "$n histogram blocks on stdout, want 3"
	jcheck "$T/r.json" "d['results']['rtt']['count'] == 100"
	rm -f "$T/r.json"
}

# case_transport NAME MODE: each registered transport works (or says why not, exit 4)
case_transport() {
	run "$IPCLAB" ipc latency --transport "$1" --mode "$2" --iterations 100 --warmup 5 --json --quiet
	if [ "$RC" -eq 4 ]; then
		jcheck "$T/out" "d['exit_code'] == 4" "isinstance(d['results']['unsupported'], str)"
		return
	fi
	expect_rc 0 "--transport $1 --mode $2" || return
	jcheck "$T/out" "d['params']['transport'] == '$1'" \
		"d['results']['rtt']['count'] == 100" "d['results']['oneway_ab']['count'] == 100"
}

# a larger message: --size is recorded and the run still checks every sequence number
case_size() {
	run "$IPCLAB" ipc latency --size 4K --iterations 100 --warmup 5 --json --quiet
	expect_rc 0 "--size 4K" || return
	jcheck "$T/out" "d['params']['size'] == 4096" "d['results']['rtt']['count'] == 100"
}

for mode in process thread; do
	run_case "latency_${mode}_unpinned" case_latency "$mode"
	run_case "latency_${mode}_cpu${CPUS[0]}" case_latency "$mode" "${CPUS[0]}"
	if [ "${#CPUS[@]}" -ge 2 ]; then
		run_case "latency_${mode}_cpu${CPUS[0]}_${CPUS[1]}" case_latency "$mode" "${CPUS[0]},${CPUS[1]}"
	else
		skip_case "latency_${mode}_cross_cpu" "only CPU ${CPUS[0]} allowed"
	fi
done
# case_rt_loop MODE T: --loop rt-tests (the tools' loop: the receiver sleeps --interval-us
# before it answers): every sample still counted, the params recorded, no harness row
case_rt_loop() {
	run "$IPCLAB" ipc latency --transport "$2" --mode "$1" --loop rt-tests --interval-us 0 --iterations 300 \
		--warmup 30 --json --quiet
	expect_rc 0 "--loop rt-tests --transport $2 --mode $1" || return
	jcheck "$T/out" "d['params']['loop'] == 'rt-tests' and d['params']['interval_us'] == 0" \
		"d['results']['oneway_ab']['count'] == 300 and d['results']['rtt']['count'] == 300" \
		"'harness_ns_per_rtt' not in d['results']"
}

# case_loop_usage: --interval-us belongs to --loop rt-tests; ipclab's loop reports its own work
case_loop_usage() {
	expect_usage "$IPCLAB" ipc latency --interval-us 10
	grep -q -- '--interval-us applies to --loop rt-tests' "$T/err" || fail "no reason: $(cat "$T/err")"
	expect_usage "$IPCLAB" ipc latency --loop bogus
	run "$IPCLAB" ipc latency --iterations 200 --json --quiet
	expect_rc 0 "default loop" || return
	jcheck "$T/out" "d['params']['loop'] == 'ipclab'" \
		"0 < d['results']['harness_ns_per_rtt']['responder_work'] < d['results']['rtt']['max']" \
		"d['results']['harness_ns_per_rtt']['total'] == d['results']['harness_ns_per_rtt']['responder_work'] + d['results']['harness_ns_per_rtt']['clock_read']"
}

run_case latency_rt_loop_thread_posix-mq case_rt_loop thread posix-mq
run_case latency_rt_loop_process_shm-sysv-sem case_rt_loop process shm-sysv-sem
run_case latency_loop_usage case_loop_usage
run_case latency_hist_file case_hist_file
run_case latency_hist_stdout case_hist_stdout
run_case latency_size case_size
mapfile -t transports < <("$IPCLAB" ipc transports --json 2>/dev/null |
	"$PY" -c 'import json, sys; print("\n".join(t["name"] for t in json.load(sys.stdin)["results"]["transports"]))')
[ "${#transports[@]}" -gt 0 ] || notok_case latency_transports "no transport listed by 'ipc transports --json'"
for t in "${transports[@]}"; do
	for mode in process thread; do
		run_case "latency_transport_${t}_$mode" case_transport "$t" "$mode"
	done
done
finish
