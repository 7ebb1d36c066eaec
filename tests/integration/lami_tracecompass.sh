#!/bin/bash
# lami_tracecompass.sh - scripts/ipclab-lami driven the way Trace Compass drives an
# External Analysis: --mi-version, --metadata, --test-compatibility TRACE, then the results
# phase with --output-progress, whole trace and sub-ranges (--begin/--end), and its errors.
# Trace Compass shows only the script's standard error when it fails, so every failing
# phase must say why there in one line, and standard output must hold JSON only (the LAMI
# error object). A range without events is a result (every table, zero rows), a symlink to
# a trace folder is followed in every phase. On the synthetic trace of tests/fixtures/synth.py.
# Usage: tests/integration/lami_tracecompass.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

LAMI=$REPO/scripts/ipclab-lami
export IPCLAB_BT2_PLUGIN_PATH=$TL_BUILD/lib/babeltrace2/plugins
B=1700000000000000000 # the synthetic trace starts here (ns)

need_trace() {
	[ -d "$T/good" ] && return 0
	[ -f "$IPCLAB_BT2_PLUGIN_PATH/babeltrace-plugin-ipclab.so" ] || {
		fail "plugin not built in $IPCLAB_BT2_PLUGIN_PATH"
		return 1
	}
	run "$PY" "$REPO/tests/fixtures/synth.py" --ctf "$T/good"
	expect_rc 0 "synth.py --ctf" || return 1
	run "$PY" "$REPO/tests/fixtures/synth.py" --ctf "$T/foreign" --foreign
	expect_rc 0 "synth.py --ctf --foreign" || return 1
	ln -s "$T/good" "$T/link"
	mkdir -p "$T/empty"
}

# ok_phase WHAT: exit 0 and nothing on stderr
ok_phase() {
	expect_rc 0 "$1" || return 1
	[ ! -s "$T/err" ] || fail "$1: stderr not empty: $(head -n 1 "$T/err")"
}

# error_phase WANT_RC WHAT PATTERN: exit WANT_RC, one stderr line 'ipclab-lami: ...PATTERN',
# stdout one JSON error object carrying the same message
error_phase() {
	expect_rc "$1" "$2" || return 1
	[ "$(lines "$T/err")" -eq 1 ] || fail "$2: $(lines "$T/err") stderr lines, want 1: $(paste -sd'|' "$T/err" | cut -c1-300)"
	grep -q "^ipclab-lami: .*$3" "$T/err" || fail "$2: stderr '$(head -n 1 "$T/err")' does not match '$3'"
	jcheck "$T/out" 'sorted(d) == ["error-code", "error-message"]' "d[\"error-code\"] == $1" \
		"\"ipclab-lami: \" + d[\"error-message\"] == open(\"$T/err\").read().strip()"
}

case_version_metadata() {
	run "$LAMI" --mi-version
	if ok_phase "--mi-version"; then
		[ "$(cat "$T/out")" = 1.0 ] || fail "--mi-version: '$(head -c 40 "$T/out")'"
	fi
	run "$LAMI" --metadata
	ok_phase "--metadata" && jcheck "$T/out" 'd["mi-version"] == {"major": 1, "minor": 0}' 'len(d["table-classes"]) == 10'
}

case_compatibility() {
	need_trace || return
	local t
	for t in good link; do
		run "$LAMI" --test-compatibility "$T/$t"
		ok_phase "--test-compatibility $t" || continue
		[ ! -s "$T/out" ] || fail "--test-compatibility $t printed something"
	done
	run "$LAMI" --test-compatibility "$T/foreign"
	error_phase 1 "--test-compatibility foreign" "declares no ipclab events"
	run "$LAMI" --test-compatibility "$T/missing"
	error_phase 2 "--test-compatibility missing" "no such directory"
	run "$LAMI" --test-compatibility "$T/empty"
	error_phase 2 "--test-compatibility empty folder" "not a CTF trace"
}

# results with --output-progress: progress lines, then one JSON object; the symlink gives
# the same tables
case_results() {
	need_trace || return
	run "$LAMI" --output-progress "$T/good"
	ok_phase "results --output-progress" || return
	if ! grep -q '^0 ' "$T/out" || ! grep -q '^1 ' "$T/out"; then
		fail "no progress lines: $(head -c 100 "$T/out")"
	fi
	grep -v '^[01] ' "$T/out" >"$T/res.json"
	jcheck "$T/res.json" 'len(d["results"]) == 10' || return
	run "$LAMI" "$T/link"
	ok_phase "results on a symlink" || return
	cmp -s "$T/out" "$T/res.json" || fail "the symlink gave other tables"
}

# sub-ranges: the lock section only; and a range without any event: every table, zero rows
case_ranges() {
	need_trace || return
	run "$LAMI" "$T/good" --begin $((B + 300000)) --end $((B + 399999))
	ok_phase "--begin --end" && jcheck "$T/out" \
		'sorted(t["class"] for t in d["results"]) == ["lock-stats", "lock-threads", "summary", "timed-intervals"]'
	run "$LAMI" "$T/good" --begin $((B + 900000000)) --end $((B + 900000001))
	ok_phase "an empty range" && jcheck "$T/out" 'len(d["results"]) == 10' \
		'all(len(t["data"]) == 0 for t in d["results"] if t["class"] != "summary")' \
		'[c["value"] for c in next(t for t in d["results"] if t["class"] == "summary")["data"][0][1:3]] == [0, 0]' \
		"all(t[\"time-range\"][\"begin\"][\"value\"] == $((B + 900000000)) for t in d[\"results\"])"
}

case_errors() {
	need_trace || return
	run "$LAMI" "$T/good" --begin $((B + 5)) --end $((B + 4))
	error_phase 2 "--end before --begin" "before --begin"
	run "$LAMI" "$T/good" --begin yesterday
	error_phase 2 "--begin yesterday" "not an integer"
	run "$LAMI" "$T/good" --end 18446744073709551616
	error_phase 2 "--end beyond 64 bits" "out of range"
	run "$LAMI" "$T/missing"
	error_phase 2 "a missing trace" "no such directory"
	run "$LAMI" "$T/empty"
	error_phase 2 "an empty folder" "not a CTF trace"
	run "$LAMI" "$T/foreign"
	error_phase 1 "a trace without ipclab events" "no ipclab events"
	rm -rf "$T/cut"
	cp -r "$T/good" "$T/cut"
	truncate -s 1000 "$T/cut/stream"
	run "$LAMI" "$T/cut"
	error_phase 1 "a cut trace" "truncated or corrupt"
	run "$LAMI" "$T/good" --bogus
	error_phase 2 "an unknown option" "unknown option"
	rm -rf "$T/cut"
}

run_case lami_tc_version_metadata case_version_metadata
run_case lami_tc_compatibility case_compatibility
run_case lami_tc_results case_results
run_case lami_tc_ranges case_ranges
run_case lami_tc_errors case_errors
finish
