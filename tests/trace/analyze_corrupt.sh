#!/bin/bash
# analyze_corrupt.sh - the trace analysis on a real LTTng trace, whole and damaged: the
# whole trace (ipc latency, process mode, 2 repeats: two processes per repeat) pairs
# every message; copies with one stream file truncated at 1/4, 1/2 and 3/4, or the
# metadata file truncated at 0, 1/4, 1/2 and 3/4, make scripts/ipclab-analyze print one
# line and exit 1, and scripts/ipclab-lami print an error object and exit non-zero:
# never a crash, a core file or a hang (babeltrace2 2.0 itself spins forever on a
# metadata packet cut short; the wrapper refuses those before starting it). The plugin
# run directly by babeltrace2 on a cut stream fails without writing a result.
# LTTng is required: if no session daemon can be started the cases FAIL.
# Usage: tests/trace/analyze_corrupt.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRACE=$REPO/scripts/ipclab-trace
ANALYZE=$REPO/scripts/ipclab-analyze
LAMI=$REPO/scripts/ipclab-lami
PLUGIN_DIR=$TL_BUILD/lib/babeltrace2/plugins
PROVIDER=$TL_BUILD/lib/libipclab-tp.so
TRACE_TIMEOUT=${TRACE_TIMEOUT:-300}
export IPCLAB_BT2_PLUGIN_PATH=$PLUGIN_DIR
N=500
W=50
R=2

record() {
	[ -f "$PLUGIN_DIR/babeltrace-plugin-ipclab.so" ] || {
		fail "no plugin at $PLUGIN_DIR"
		return 1
	}
	rm -rf "$T/trace"
	RUN_TIMEOUT=$TRACE_TIMEOUT run "$TRACE" --out "$T/trace" --name ipclabtest --provider "$PROVIDER" --quiet -- \
		"$IPCLAB" ipc latency --mode process --iterations "$N" --warmup "$W" --repeat "$R" --quiet
	expect_rc 0 "traced ipc latency" || return 1
	jcheck "$T/trace/ipclab-trace.json" 'd["traced"] is True' 'd["events"]["complete"] is True'
}

case_whole() {
	run "$ANALYZE" "$T/trace" --json "$T/ana.json" --quiet
	expect_rc 0 "ipclab-analyze on the whole trace" || return
	local msgs=$((2 * (N + W) * R))
	jcheck "$T/ana.json" 'd["complete"] is True' \
		"d['messages']['sends'] == d['messages']['recvs'] == d['messages']['matched'] == $msgs" \
		'd["messages"]["unmatched_sends"] == 0 and d["messages"]["unmatched_recvs"] == 0' \
		"len(d['messages']['channels']) == 2 * $R" \
		"all(c['matched'] == $N + $W and c['warmup'] == $W for c in d['messages']['channels'])" \
		"len({r['vpid'] for r in d['runs']}) == 1 and len(d['runs']) == $R"
}

# damaged FILE FRACTION: copy the trace, cut FILE (relative) to FRACTION of its size
damaged() {
	local size n
	rm -rf "$T/cut"
	cp -r "$T/trace" "$T/cut"
	size=$(stat -c %s "$T/cut/$1")
	n=$(awk "BEGIN { printf \"%d\", $size * $2 }")
	truncate -s "$n" "$T/cut/$1"
	CUT_WHAT="$1 cut at $2 ($n of $size bytes)"
}

# expect_refused: the wrapper and LAMI on $T/cut fail cleanly
expect_refused() {
	RUN_TIMEOUT=60 run "$ANALYZE" "$T/cut"
	if [ "$RC" -ne 1 ] || [ "$(lines "$T/err")" -ne 1 ] || ! grep -q '^ipclab-analyze: .*truncated or corrupt' "$T/err"; then
		fail "$CUT_WHAT: ipclab-analyze exit $RC, stderr '$(paste -sd'|' "$T/err" | cut -c1-200)'"
	fi
	RUN_TIMEOUT=60 run "$LAMI" "$T/cut"
	if [ "$RC" -eq 0 ] || [ "$RC" -ge 124 ]; then
		fail "$CUT_WHAT: ipclab-lami exit $RC"
	else
		jcheck "$T/out" '"error-message" in d'
	fi
}

case_streams() {
	local f frac found=0
	while read -r f; do
		found=1
		for frac in 0.25 0.5 0.75; do
			damaged "$f" "$frac"
			expect_refused
		done
	done < <(cd "$T/trace" && find . -type f -path '*/ust/*' ! -name metadata ! -path '*/index/*' | sort)
	[ "$found" = 1 ] || fail "no stream file in the trace"
	rm -rf "$T/cut"
}

case_metadata() {
	local m frac
	m=$(cd "$T/trace" && find . -type f -name metadata | head -n 1)
	[ -n "$m" ] || {
		fail "no metadata file"
		return
	}
	for frac in 0 0.25 0.5 0.75; do
		damaged "$m" "$frac"
		expect_refused
	done
	rm -rf "$T/cut"
}

# babeltrace2 + the plugin, no wrapper, on a cut stream: a clean failure, no result
case_plugin_direct() {
	local f
	f=$(cd "$T/trace" && find . -type f -path '*/ust/*' ! -name metadata ! -path '*/index/*' -size +0 | head -n 1)
	damaged "$f" 0.5
	RUN_TIMEOUT=60 run babeltrace2 --plugin-path="$PLUGIN_DIR" "$T/cut" -c sink.ipclab.analyze -p "output=\"$T/cut.json\""
	if [ "$RC" -eq 0 ] || [ "$RC" -ge 124 ]; then
		fail "babeltrace2 exit $RC on $CUT_WHAT, want 1..123"
	fi
	[ -e "$T/cut.json" ] && fail "a result was written for $CUT_WHAT"
	rm -rf "$T/cut"
}

if run_case analyze_corrupt_record record && [ "$TL_FAIL" -eq 0 ]; then
	run_case analyze_corrupt_whole case_whole
	run_case analyze_corrupt_streams case_streams
	run_case analyze_corrupt_metadata case_metadata
	run_case analyze_corrupt_plugin_direct case_plugin_direct
else
	for c in whole streams metadata plugin_direct; do
		notok_case "analyze_corrupt_$c" "no trace recorded"
	done
fi
[ -z "$(find "$T" "$PWD" -mindepth 1 -maxdepth 1 -name 'core*' -newer "$REPO/scripts/ipclab-analyze" -print -quit 2>/dev/null)" ] ||
	notok_case analyze_corrupt_no_core "a core file was left"
finish
