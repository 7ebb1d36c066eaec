#!/bin/bash
# signal_sigchld.sh - "ipclab signal sigchld": the three SIGCHLD policies keep their
# promises (default: all N are zombies until waitpid; ignore: never a zombie, waitpid
# fails ECHILD; handler: all reaped by one handler call, the N exits coalesced into one
# SIGCHLD; one child cannot show that: exit 4), results.effect says the point showed,
# every child's reap latency is measured, nothing is left; bad options exit 2.
# Usage: tests/integration/signal_sigchld.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# case_policy POLICY N: JSON run, policy-specific checks
case_policy() {
	local pol=$1 n=$2
	run "$IPCLAB" signal sigchld --policy "$pol" --children "$n" --timeout 60 --json
	expect_rc 0 "signal sigchld --policy $pol --children $n" || return
	local common=(
		"${ENVELOPE[@]}"
		'd["experiment"] == "signal sigchld" and d["exit_code"] == 0'
		"d['params']['policy'] == '$pol' and d['params']['children'] == $n"
		"d['results']['children_spawned'] == $n"
		'd["results"]["effect"]["shown"] is True'
		'd["results"]["zombies_after"] == 0 and d["results"]["children_left"] == 0'
		"d['results']['reap_latency']['count'] == $n"
		'0 < d["results"]["reap_latency"]["min"] <= d["results"]["reap_latency"]["p50"] <= d["results"]["reap_latency"]["max"]'
		'all(d["results"]["checks"].values()) and d["results"]["checks"]'
	)
	case $pol in
	default)
		jcheck "$T/out" "${common[@]}" \
			"d['results']['zombies_seen_max'] == $n and d['results']['zombies_before_reaping'] == $n" \
			"d['results']['reaped_by_waitpid'] == $n and d['results']['exit_status_0'] == $n" \
			'd["results"]["handler_calls"] is None and d["results"]["waitpid_echild"] is None'
		;;
	ignore)
		jcheck "$T/out" "${common[@]}" \
			'd["results"]["zombies_seen_max"] == 0' \
			'd["results"]["waitpid_echild"] is True' \
			"d['results']['reaped_by_waitpid'] == 0 and d['results']['reaped_by_kernel'] == $n"
		;;
	handler)
		jcheck "$T/out" "${common[@]}" \
			"d['results']['reaped_by_waitpid'] == $n and d['results']['exit_status_0'] == $n" \
			"d['results']['handler_calls'] == 1 and d['results']['checks']['sigchld_coalesced'] is True" \
			"d['results']['sigchld_coalesced'] == $n - d['results']['handler_calls']" \
			'0 <= d["results"]["handler_empty_calls"] < d["results"]["handler_calls"]'
		;;
	esac
}

# one child under --policy handler: nothing to coalesce, so it says so (exit 4, one line)
# instead of reporting a demonstration that showed nothing
case_handler_one() {
	run "$IPCLAB" signal sigchld --policy handler --children 1 --timeout 60 --json
	expect_rc 4 "signal sigchld --policy handler --children 1" || return
	[ "$(wc -l <"$T/err")" -eq 1 ] || fail "want one line on stderr: $(paste -sd'|' "$T/err")"
	grep -q -- '--children 2' "$T/err" || fail "the line does not say what would show it: $(cat "$T/err")"
	jcheck "$T/out" 'd["exit_code"] == 4 and d["results"]["effect"]["shown"] is False' \
		'd["results"]["zombies_after"] == 0 and d["results"]["reaped_by_waitpid"] == 1'
}

# the human rendering names the policy and the counts
case_human() {
	run "$IPCLAB" signal sigchld --policy handler --children 50 --timeout 60
	expect_rc 0 "signal sigchld --policy handler" || return
	grep -q '^signal sigchld: policy handler, 50 children' "$T/out" || fail "no header: $(head -n 1 "$T/out")"
	grep -q 'reaped 50 in [0-9]* handler calls' "$T/out" || fail "no handler count: $(paste -sd'|' "$T/out")"
	run "$IPCLAB" signal sigchld --timeout 60
	expect_rc 0 "signal sigchld (defaults)" || return
	grep -q '^signal sigchld: policy default, 20 children' "$T/out" || fail "defaults are not default/20: $(head -n 1 "$T/out")"
}

case_bad_options() {
	local v
	for v in 0 1001 -1 abc 10x ""; do
		expect_usage "$IPCLAB" signal sigchld --children "$v"
		grep -q -- '--children' "$T/err" || fail "--children '$v': message does not name the option"
	done
	expect_usage "$IPCLAB" signal sigchld --policy bogus
	grep -q 'default|ignore|handler' "$T/err" || fail "--policy bogus: choices not listed: $(cat "$T/err")"
	expect_usage "$IPCLAB" signal sigchld --policy
	expect_usage "$IPCLAB" signal sigchld --iterations 5
}

# case_killed_child POLICY: child 3 dies by SIGKILL before it can exit (the testing aid
# IPCLAB_TEST_SIGCHLD_KILL=3: the status a kill -9 from outside gives; a child lives
# microseconds, too short to hit from outside on every run): exit 1 and one line naming
# it, counted, nothing left. With SIGCHLD ignored the kernel reaps it unseen: exit 0.
case_killed_child() {
	local pol=$1
	run env IPCLAB_TEST_SIGCHLD_KILL=3 "$IPCLAB" signal sigchld --policy "$pol" --children 10 --timeout 60 --json
	if [ "$pol" = ignore ]; then
		expect_rc 0 "signal sigchld --policy ignore, child 3 killed" || return
		[ ! -s "$T/err" ] || fail "stderr: $(paste -sd'|' "$T/err")"
		return
	fi
	expect_rc 1 "signal sigchld --policy $pol, child 3 killed" || return
	grep -q -E '^ipclab: signal sigchld: FAIL: child 3 of 10 \(pid [0-9]+\) was killed by signal 9 \(SIGKILL\)' "$T/err" ||
		fail "no line names the killed child: $(paste -sd'|' "$T/err")"
	[ "$(lines "$T/err")" -eq 1 ] || fail "one failure, one line: $(paste -sd'|' "$T/err")"
	jcheck "$T/out" "d['exit_code'] == 1" "d['results']['children_killed'] == 1" \
		"d['results']['reaped_by_waitpid'] == 10 and d['results']['exit_status_0'] == 9" \
		"d['results']['children_left'] in (0, None)"
}

# no leak (valgrind, when installed); the children are not followed (they only _exit)
case_valgrind() {
	if ! command -v valgrind >/dev/null 2>&1; then
		skip "valgrind not installed"
		return 0
	fi
	if ldd "$IPCLAB" 2>/dev/null | grep -q -E 'lib(a|t)san'; then
		skip "a sanitizer build: valgrind cannot run it"
		return 0
	fi
	local pol
	for pol in default ignore handler; do
		run valgrind -q --leak-check=full --error-exitcode=9 \
			--child-silent-after-fork=yes "$IPCLAB" signal sigchld --policy "$pol" --children 10 --json
		[ "$RC" -eq 0 ] || fail "valgrind: --policy $pol exit $RC: $(grep -m 3 '==' "$T/err" | paste -sd'|' -)"
	done
}

for pol in default ignore handler; do
	run_case "signal_sigchld_${pol}_20" case_policy "$pol" 20
	[ "$pol" = handler ] || run_case "signal_sigchld_${pol}_1" case_policy "$pol" 1
	run_case "signal_sigchld_${pol}_1000" case_policy "$pol" 1000
done
run_case signal_sigchld_handler_1 case_handler_one
run_case signal_sigchld_human case_human
run_case signal_sigchld_bad_options case_bad_options
for pol in default ignore handler; do
	run_case "signal_sigchld_${pol}_killed_child" case_killed_child "$pol"
done
run_case signal_sigchld_valgrind case_valgrind
finish
