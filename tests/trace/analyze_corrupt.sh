#!/bin/bash
# analyze_corrupt.sh - the trace analysis on a real LTTng trace, whole and damaged: the
# whole trace (ipc latency, process mode, 2 repeats: two processes per repeat) pairs
# every message; copies with one stream file truncated at 1/4, 1/2 and 3/4, or the
# metadata file truncated at 0, 1/4, 1/2 and 3/4, make scripts/ipclab-analyze print one
# line and exit 1, and scripts/ipclab-lami print an error object and exit non-zero:
# never a crash, a core file or a hang (babeltrace2 2.0 itself spins forever on a
# metadata packet cut short; the wrapper refuses those before starting it). The plugin
# run directly by babeltrace2 on a cut stream fails without writing a result.
# Damage that source.ctf.fs itself lets through is refused by the sink, whose own merge
# (what scripts/ipclab-analyze runs) enforces what filter.utils.muxer does and checks the
# LTTng index: one flipped bit in an event timestamp (time goes backwards in its stream),
# in a packet's timestamp_end, sequence number or size (the packet disagrees with its
# index entry) make ipclab-analyze exit 1 saying "damaged trace". A stream file emptied,
# or cut at a packet boundary of a second, multi-packet recording (ipc latency --mode
# thread --cpu 0 --iterations 60000: over two 4 MiB packets in one stream), gives a
# result that says "complete": false and names the file in "incomplete_streams", through
# the wrapper and through babeltrace2's own CLI (muxer) alike; whole, or a time range of
# it (babeltrace2's trimmer moves the cut packets' boundaries), that trace is complete.
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

# the biggest (smallest with --small) stream file of trace folder $1 (relative to it)
big_stream() {
	(cd "$1" && find . -type f -path '*/ust/*' ! -name metadata ! -path '*/index/*' -printf '%s %p\n' | sort -n |
		if [ "${2-}" = --small ]; then head -n 1; else tail -n 1; fi | cut -d' ' -f2-)
}

# flip FILE OFFSET BIT: flips one bit of $T/cut/FILE
flip() {
	"$PY" -c 'import sys
p, off, bit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1)[0]; f.seek(off); f.write(bytes([b ^ (1 << bit)]))' "$T/cut/$1" "$2" "$3"
}

# expect_damaged WHAT PATTERN: ipclab-analyze refuses $T/cut as damaged, the reason matching PATTERN
expect_damaged() {
	RUN_TIMEOUT=60 run "$ANALYZE" "$T/cut" --json "$T/cut.json"
	if [ "$RC" -ne 1 ] || ! grep -q "damaged trace: .*$2" "$T/err" || [ -e "$T/cut.json" ]; then
		fail "$1: ipclab-analyze exit $RC, stderr '$(paste -sd'|' "$T/err" | cut -c1-300)'"
	fi
}

# An LTTng-UST packet: header (magic, uuid, stream_id, stream_instance_id) then context
# (timestamp_begin @32, timestamp_end @40, content_size @48, packet_size @56,
# packet_seq_num @64, events_discarded @72, cpu_id @80), then the first event header
# @84: id 0xffff (extended: u32 id, u64 timestamp @90), little endian on this machine.
case_flipped() {
	local f
	f=$(big_stream "$T/trace")
	damaged "$f" 1
	if [ "$(od -A n -t x1 -j 84 -N 2 "$T/cut/$f" | tr -d ' ')" != ffff ]; then
		fail "$f: the first event has no extended header at byte 84: unexpected packet layout"
		return
	fi
	flip "$f" 94 0 # timestamp bit 32: the event 4.29 s later than the rest of its stream
	expect_damaged "event timestamp bit 32" "time goes backwards"
	rm -f "$T/cut.json"
	RUN_TIMEOUT=60 run babeltrace2 --plugin-path="$PLUGIN_DIR" "$T/cut" -c sink.ipclab.analyze -p "output=\"$T/cut.json\""
	if [ "$RC" -eq 0 ] || [ -e "$T/cut.json" ]; then
		fail "babeltrace2's muxer path: exit $RC on a flipped timestamp"
	fi
	damaged "$f" 1
	flip "$f" 45 7 # timestamp_end bit 47
	expect_damaged "timestamp_end bit 47" "timestamp_end .* in the index"
	damaged "$f" 1
	flip "$f" 64 0 # packet_seq_num bit 0
	expect_damaged "packet_seq_num bit 0" "packet_seq_num .* in the index"
	damaged "$f" 1
	flip "$f" 59 7 # packet_size bit 31 (larger)
	expect_damaged "packet_size bit 31" "packet_size .* in the index"
	rm -rf "$T/cut"
}

# expect_incomplete FILE: both paths give a result that says complete false, naming FILE
expect_incomplete() {
	local p
	p=$(cd "$T/cut" && realpath "$1")
	RUN_TIMEOUT=60 run "$ANALYZE" "$T/cut" --json "$T/cut.json" --quiet
	expect_rc 0 "ipclab-analyze on $CUT_WHAT" || return
	grep -q "WARNING: .*stream files not read whole" "$T/err" || fail "$CUT_WHAT: no warning on stderr"
	jcheck "$T/cut.json" 'd["complete"] is False' "[s['stream'] for s in d['incomplete_streams']] == ['$p']"
	rm -f "$T/cut.json"
	RUN_TIMEOUT=60 run babeltrace2 --plugin-path="$PLUGIN_DIR" "$T/cut" -c sink.ipclab.analyze -p "output=\"$T/cut.json\""
	expect_rc 0 "babeltrace2 (muxer) on $CUT_WHAT" || return
	jcheck "$T/cut.json" 'd["complete"] is False' "[s['stream'] for s in d['incomplete_streams']] == ['$p']"
	rm -f "$T/cut.json"
}

# the smallest stream file emptied (the other keeps the ipclab events: a result)
case_empty_stream() {
	local f
	f=$(big_stream "$T/trace" --small)
	damaged "$f" 0
	expect_incomplete "$f"
	jcheck "$T/ana.json" 'd["incomplete_streams"] == []'
	rm -rf "$T/cut"
}

# a stream file cut at its last packet boundary (the index lists one packet more)
case_cut_packet() {
	local f off
	rm -rf "$T/trace2"
	RUN_TIMEOUT=$TRACE_TIMEOUT run "$TRACE" --out "$T/trace2" --name ipclabtest --provider "$PROVIDER" --quiet -- \
		"$IPCLAB" ipc latency --mode thread --cpu 0 --iterations 60000 --quiet
	expect_rc 0 "traced ipc latency (multi-packet)" || return
	f=$(big_stream "$T/trace2")
	off=$("$PY" -c 'import struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack(">I", b[12:16])[0]
print(struct.unpack(">Q", b[len(b) - n:len(b) - n + 8])[0] if (len(b) - 16) // n >= 2 else "")' \
		"$T/trace2/$(dirname "$f")/index/$(basename "$f").idx")
	[ -n "$off" ] || {
		fail "$f holds one packet: cannot cut at a packet boundary"
		return
	}
	# whole, and a time range cutting packets (the trimmer moves their boundaries): complete
	run "$ANALYZE" "$T/trace2" --json "$T/whole.json" --quiet
	expect_rc 0 "ipclab-analyze on the multi-packet trace" || return
	jcheck "$T/whole.json" 'd["complete"] is True' 'd["messages"]["matched"] == 2 * (60000 + d["runs"][0]["warmup"])'
	run "$ANALYZE" "$T/trace2" --json "$T/part.json" --quiet \
		--begin "$(jget "$T/whole.json" 'd["time_range"]["begin_ns"] + d["time_range"]["duration_ns"] // 3')" \
		--end "$(jget "$T/whole.json" 'd["time_range"]["end_ns"] - d["time_range"]["duration_ns"] // 3')"
	expect_rc 0 "ipclab-analyze on the middle third" || return
	jcheck "$T/part.json" 'd["complete"] is True' 'd["incomplete_streams"] == []' \
		"0 < d['events']['total'] < json.load(open('$T/whole.json'))['events']['total']"
	rm -rf "$T/cut"
	cp -r "$T/trace2" "$T/cut"
	truncate -s "$off" "$T/cut/$f"
	CUT_WHAT="$f cut at its last packet ($off bytes)"
	expect_incomplete "$f"
	rm -rf "$T/cut" "$T/trace2"
}

if run_case analyze_corrupt_record record && [ "$TL_FAIL" -eq 0 ]; then
	run_case analyze_corrupt_whole case_whole
	run_case analyze_corrupt_streams case_streams
	run_case analyze_corrupt_metadata case_metadata
	run_case analyze_corrupt_plugin_direct case_plugin_direct
	run_case analyze_corrupt_flipped case_flipped
	run_case analyze_corrupt_empty_stream case_empty_stream
	run_case analyze_corrupt_cut_packet case_cut_packet
else
	for c in whole streams metadata plugin_direct flipped empty_stream cut_packet; do
		notok_case "analyze_corrupt_$c" "no trace recorded"
	done
fi
[ -z "$(find "$T" "$PWD" -mindepth 1 -maxdepth 1 -name 'core*' -newer "$REPO/scripts/ipclab-analyze" -print -quit 2>/dev/null)" ] ||
	notok_case analyze_corrupt_no_core "a core file was left"
finish
