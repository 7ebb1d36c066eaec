#!/bin/bash
# signal_list.sh - "ipclab signal list": every signal 1..SIGRTMAX, names as `kill -l`
# gives them, default actions per signal(7), and the measured "catchable" column
# (SIGKILL, SIGSTOP fail with EINVAL; glibc also refuses its reserved 32 and 33).
# Usage: tests/integration/signal_list.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

case_json() {
	run "$IPCLAB" signal list --json
	expect_rc 0 "signal list --json" || return
	local rtmin rtmax
	rtmin=$("$PY" -c 'import signal; print(int(signal.SIGRTMIN))')
	rtmax=$("$PY" -c 'import signal; print(int(signal.SIGRTMAX))')
	jcheck "$T/out" "${ENVELOPE[@]}" \
		'd["experiment"] == "signal list" and d["exit_code"] == 0' \
		"d['results']['sigrtmin'] == $rtmin and d['results']['sigrtmax'] == $rtmax" \
		"[s['number'] for s in d['results']['signals']] == list(range(1, $rtmax + 1))" \
		'd["results"]["uncatchable"] == [9, 19] + list(range(d["results"]["kernel_sigrtmin"], d["results"]["sigrtmin"]))' \
		'd["results"]["libc_reserved"] == list(range(d["results"]["kernel_sigrtmin"], d["results"]["sigrtmin"]))' \
		'd["results"]["catchable_count"] == sum(s["catchable"] for s in d["results"]["signals"])' \
		'all(s["catch_error"] == "EINVAL" for s in d["results"]["signals"] if not s["catchable"])' \
		'all(s["catch_error"] is None for s in d["results"]["signals"] if s["catchable"])' \
		'[s["kernel_catchable"] for s in d["results"]["signals"] if s["number"] in (9, 19)] in ([False, False], [None, None])' \
		'all(s["kernel_catchable"] in (True, None) for s in d["results"]["signals"] if s["reserved_by_libc"])' \
		'{s["name"]: s["default_action"] for s in d["results"]["signals"]}["CHLD"] == "ignore"' \
		'{s["name"]: s["default_action"] for s in d["results"]["signals"]}["CONT"] == "continue"' \
		'[s["default_action"] for s in d["results"]["signals"] if s["name"] in ("STOP", "TSTP", "TTIN", "TTOU")] == ["stop"] * 4' \
		'[s["default_action"] for s in d["results"]["signals"] if s["name"] in ("QUIT", "SEGV", "ABRT")] == ["core"] * 3' \
		'all(s["default_action"] == "terminate" and s["realtime"] for s in d["results"]["signals"] if s["number"] >= d["results"]["sigrtmin"])' \
		'set(s["default_action"] for s in d["results"]["signals"]) == {"terminate", "core", "stop", "continue", "ignore"}' \
		'all(s["signal"] == "SIG" + s["name"] for s in d["results"]["signals"] if not s["reserved_by_libc"])'
	# names: exactly what bash's `kill -l N` prints
	local n name want bad=
	while read -r n name; do
		want=$(kill -l "$n" 2>/dev/null) || continue
		[ "$name" = "$want" ] || bad="$bad $n:$name/$want"
	done < <(jget "$T/out" '"\n".join("%d %s" % (s["number"], s["name"]) for s in d["results"]["signals"] if not s["reserved_by_libc"])')
	[ -z "$bad" ] || fail "names differ from kill -l (ours/kill):$bad"
}

case_human() {
	run "$IPCLAB" signal list
	expect_rc 0 "signal list" || return
	[ -s "$T/err" ] && fail "stderr not empty: $(head -n 1 "$T/err")"
	grep -q -E '^  9  KILL +terminate +no \(EINVAL\)' "$T/out" || fail "no KILL row: $(grep -m 1 KILL "$T/out")"
	grep -q -E '^ 19  STOP +stop +no \(EINVAL\)' "$T/out" || fail "no STOP row"
	grep -q -E '^  2  INT +terminate +yes ' "$T/out" || fail "no INT row"
	grep -q -E '^ 34  RTMIN +terminate +yes ' "$T/out" || fail "no RTMIN row"
	grep -q -E '^ 64  RTMAX +terminate +yes ' "$T/out" || fail "no RTMAX row"
	[ "$(grep -c -E '^ *[0-9]+  ' "$T/out")" -eq 64 ] || fail "not 64 signal rows"
	grep -q '^real-time: SIGRTMIN 34 .. SIGRTMAX 64' "$T/out" || fail "no real-time summary: $(tail -n 1 "$T/out")"
}

case_bad_options() {
	run "$IPCLAB" signal list extra
	expect_rc 2 "signal list extra"
	run "$IPCLAB" signal list --children 5
	expect_rc 2 "signal list --children 5"
	[ "$(lines "$T/err")" -eq 1 ] || fail "$(lines "$T/err") lines on stderr, want 1"
}

# no leak and no memory error (valgrind, when installed): the probe does not fork
case_valgrind() {
	if ! command -v valgrind >/dev/null 2>&1; then
		skip "valgrind not installed"
		return 0
	fi
	if ldd "$IPCLAB" 2>/dev/null | grep -q -E 'lib(a|t)san'; then
		skip "a sanitizer build: valgrind cannot run it"
		return 0
	fi
	local args
	for args in "" "--json" "--json=$T/v.json"; do
		# shellcheck disable=SC2086 # word splitting of args is wanted
		run valgrind -q --leak-check=full --error-exitcode=9 \
			"$IPCLAB" signal list $args
		# exit 0 even there: valgrind keeps SIGRTMAX, which is reported as a warning
		[ "$RC" -eq 0 ] || fail "valgrind: signal list $args: exit $RC: $(grep -m 3 -e '==' -e FAIL "$T/err" | paste -sd'|' -)"
	done
}

run_case signal_list_json case_json
run_case signal_list_human case_human
run_case signal_list_bad_options case_bad_options
run_case signal_list_valgrind case_valgrind
finish
