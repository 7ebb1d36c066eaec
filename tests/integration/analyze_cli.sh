#!/bin/bash
# analyze_cli.sh - scripts/ipclab-analyze, the user's front end to the plugin: summary,
# --json/--tsv, --begin/--end in ns, and its failures: one clear line on stderr and the
# documented exit status for a missing directory (2), a directory without a CTF trace
# (2), a trace without ipclab events (1), a usage error (2), and a trace cut short: its
# stream file truncated at 1/4, 1/2 and 3/4, its metadata at 0, 1/4, 1/2 and 3/4 (1,
# never a crash or a hang). Uses the synthetic trace of tests/fixtures/synth.py (no LTTng;
# tests/trace/analyze_corrupt.sh does the same on a real LTTng trace).
# Usage: tests/integration/analyze_cli.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PLUGIN_DIR=$TL_BUILD/lib/babeltrace2/plugins
SYNTH=$REPO/tests/fixtures/synth.py
ANALYZE=$REPO/scripts/ipclab-analyze
BT2PY=/usr/bin/python3
RUN_TIMEOUT=60 # a hang on a damaged trace must fail the case, not the suite

# one_line_error RC WHAT PATTERN: exit status RC, nothing on stdout, exactly one stderr
# line starting with "ipclab-analyze: " and matching PATTERN
one_line_error() {
	expect_rc "$1" "$2" || return
	[ -s "$T/out" ] && fail "$2: wrote to stdout: $(head -n 1 "$T/out")"
	[ "$(lines "$T/err")" -eq 1 ] || fail "$2: $(lines "$T/err") stderr lines, want 1: $(paste -sd'|' "$T/err" | cut -c1-300)"
	grep -q "^ipclab-analyze: .*$3" "$T/err" || fail "$2: stderr '$(head -n 1 "$T/err")' does not match '$3'"
}

# make_ctf NAME [--foreign]: the synthetic scenario as CTF in $T/NAME
make_ctf() {
	local dir=$T/$1
	shift
	rm -rf "$dir"
	run "$BT2PY" "$SYNTH" --ctf "$dir" "$@"
	expect_rc 0 "synth.py --ctf $*"
}

analyze() {
	run "$ANALYZE" --plugin-path "$PLUGIN_DIR" "$@"
}

case_summary() {
	make_ctf good || return
	analyze "$T/good"
	expect_rc 0 "ipclab-analyze TRACE" || return
	grep -q '^messages: 9 sent, 9 received, 8 matched, 1 unmatched sends, 1 unmatched receives$' "$T/out" ||
		fail "summary lacks the message line: $(grep '^messages' "$T/out")"
	grep -q '^races: 1 runs, 3 increments, 1 lost updates$' "$T/out" || fail "summary lacks the race line"
	grep -q '^lock 0 (mutex): wait n=2' "$T/out" || fail "summary lacks the lock line"
	[ -s "$T/err" ] && fail "stderr not empty: $(head -n 1 "$T/err")"
}

case_json_tsv() {
	make_ctf good || return
	analyze "$T/good" --json "$T/r.json" --tsv "$T/tsv" --quiet
	expect_rc 0 "--json FILE --tsv DIR --quiet" || return
	[ -s "$T/out" ] && fail "--quiet printed a summary"
	jcheck "$T/r.json" 'd["schema"] == "ipclab-analysis/1"' 'd["messages"]["matched"] == 8'
	[ -s "$T/tsv/messages.tsv" ] || fail "no TSV files in --tsv DIR"
	analyze "$T/good" --json -
	expect_rc 0 "--json -" || return
	jcheck "$T/out" 'd["races"]["lost_updates"] == 1'
	rm -rf "$T/tsv" "$T/r.json"
}

# --begin/--end in ns since the epoch: only the lock section (300000..399999 ns)
case_range() {
	make_ctf good || return
	analyze "$T/good" --begin 1700000000000300000 --end 1700000000000399999 --json -
	expect_rc 0 "--begin NS --end NS" || return
	jcheck "$T/out" 'd["events"]["total"] == 9' 'd["messages"]["sends"] == 0' \
		'd["time_range"]["begin_ns"] == 1700000000000300000'
}

case_missing() {
	analyze "$T/no-such-trace"
	one_line_error 2 "missing directory" "no such directory"
}

case_not_ctf() {
	mkdir -p "$T/plain"
	echo hello >"$T/plain/readme"
	analyze "$T/plain"
	one_line_error 2 "directory without CTF" "not a CTF trace"
	analyze "$T/plain/readme"
	one_line_error 2 "a file" "not a directory"
	rm -rf "$T/plain"
}

case_foreign() {
	make_ctf foreign --foreign || return
	analyze "$T/foreign"
	one_line_error 1 "trace without ipclab events" "no ipclab events"
	analyze "$T/foreign" --allow-empty --json -
	expect_rc 0 "--allow-empty" && jcheck "$T/out" 'd["events"]["ipclab"] == 0' 'd["events"]["total"] == 10'
}

case_usage() {
	analyze
	one_line_error 2 "no TRACE" "missing TRACE"
	analyze --frobnicate "$T"
	one_line_error 2 "unknown option" "unknown option"
	run "$ANALYZE" --plugin-path "$T/nowhere" "$T"
	one_line_error 3 "no plugin" "plugin not found"
}

# truncate_case FILE FRACTION: a copy of the good trace with FILE cut to FRACTION (awk
# expression) of its size must fail with one line, status 1, and leave no core file
truncate_case() {
	local file=$1 frac=$2 size n
	rm -rf "$T/cut"
	cp -r "$T/good" "$T/cut"
	size=$(stat -c %s "$T/cut/$file")
	n=$(awk "BEGIN { printf \"%d\", $size * $frac }")
	truncate -s "$n" "$T/cut/$file"
	analyze "$T/cut"
	one_line_error 1 "$file cut at $frac ($n of $size bytes)" "truncated or corrupt"
	[ -z "$(find "$T" -maxdepth 1 -name 'core*' -print -quit)" ] || fail "a core file was left"
}

case_truncated() {
	make_ctf good || return
	local f
	for f in 0.25 0.5 0.75; do
		truncate_case stream "$f"
	done
	for f in 0 0.25 0.5 0.75; do
		truncate_case metadata "$f"
	done
	rm -rf "$T/cut"
}

# the plugin alone (no wrapper) on a cut trace: babeltrace2 fails, no result is written
case_truncated_plugin() {
	make_ctf good || return
	rm -rf "$T/cut"
	cp -r "$T/good" "$T/cut"
	truncate -s "$(($(stat -c %s "$T/cut/stream") / 2))" "$T/cut/stream"
	run babeltrace2 --plugin-path="$PLUGIN_DIR" "$T/cut" -c sink.ipclab.analyze -p "output=\"$T/cut.json\""
	if [ "$RC" -eq 0 ] || [ "$RC" -ge 128 ]; then
		fail "babeltrace2 exit $RC on a cut stream, want 1..127"
	fi
	[ -e "$T/cut.json" ] && fail "a result was written for a cut trace"
	rm -rf "$T/cut"
}

run_case analyze_cli_summary case_summary
run_case analyze_cli_json_tsv case_json_tsv
run_case analyze_cli_range case_range
run_case analyze_cli_missing case_missing
run_case analyze_cli_not_ctf case_not_ctf
run_case analyze_cli_foreign case_foreign
run_case analyze_cli_usage case_usage
run_case analyze_cli_truncated case_truncated
run_case analyze_cli_truncated_plugin case_truncated_plugin
finish
