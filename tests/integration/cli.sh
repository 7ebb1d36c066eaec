#!/bin/bash
# cli.sh - the ipclab command line: list, help, and bad input (exit 2, one line on
# stderr, nothing on stdout). Usage: tests/integration/cli.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# experiments: "group name" per line, parsed from `ipclab list`
experiments() {
	"$IPCLAB" list | awk '/^  [a-z]/ { print $1, $2 }'
}

# list exits 0, prints every experiment with a summary, nothing on stderr
case_list() {
	run "$IPCLAB" list
	expect_rc 0 "ipclab list"
	[ -s "$T/err" ] && fail "stderr not empty: $(head -n 1 "$T/err")"
	local n
	n=$(awk '/^  [a-z]+ [a-z0-9_-]+ +[^ ]/' "$T/out" | wc -l)
	[ "$n" -ge 1 ] || fail "no 'group name summary' lines in: $(head -n 3 "$T/out")"
	grep -q '^  ipc latency ' "$T/out" || fail "ipc latency is not listed"
	run "$IPCLAB" list extra
	expect_rc 2 "ipclab list extra"
}

# ipclab --help and ipclab without arguments
case_top_usage() {
	run "$IPCLAB" --help
	expect_rc 0 "ipclab --help"
	grep -q 'usage:' "$T/out" || fail "ipclab --help prints no usage on stdout"
	run "$IPCLAB"
	expect_rc 2 "ipclab (no arguments)"
	[ -s "$T/out" ] && fail "ipclab (no arguments) wrote to stdout"
	grep -q 'usage:' "$T/err" || fail "ipclab (no arguments) prints no usage on stderr"
}

# EXP --help exits 0, mentions --json and --help, and `ipclab help GROUP EXP` prints the same
case_help() {
	local g=$1 e=$2
	run "$IPCLAB" "$g" "$e" --help
	expect_rc 0 "ipclab $g $e --help"
	grep -q -- '--json' "$T/out" || fail "'$g $e --help' does not mention --json"
	grep -q "ipclab $g $e" "$T/out" || fail "'$g $e --help' does not name the command"
	[ -s "$T/err" ] && fail "'$g $e --help' wrote to stderr: $(head -n 1 "$T/err")"
	cp "$T/out" "$T/help1"
	run "$IPCLAB" help "$g" "$e"
	expect_rc 0 "ipclab help $g $e"
	cmp -s "$T/out" "$T/help1" || fail "'ipclab help $g $e' differs from '$g $e --help'"
}

# expect_usage_error CMD...: exit 2, nothing on stdout, exactly one line on stderr
expect_usage_error() {
	run "$@"
	local what="${*#"$IPCLAB" }"
	expect_rc 2 "$what"
	[ -s "$T/out" ] && fail "$what: wrote to stdout: $(head -n 1 "$T/out")"
	local n
	n=$(lines "$T/err")
	[ "$n" -eq 1 ] || fail "$what: $n lines on stderr, want 1: $(head -n 3 "$T/err" | paste -sd'|' -)"
	grep -q '^ipclab: ' "$T/err" || fail "$what: message does not start with 'ipclab: '"
	return 0
}

case_unknown_experiment() {
	expect_usage_error "$IPCLAB" nosuch thing
	expect_usage_error "$IPCLAB" ipc nosuch
	expect_usage_error "$IPCLAB" ipc
	expect_usage_error "$IPCLAB" ipc --json
	expect_usage_error "$IPCLAB" help nosuch thing
	expect_usage_error "$IPCLAB" help ipc
}

# every experiment rejects an unknown option, a value given to --help, a stray argument
case_unknown_option() {
	local g e
	while read -r g e; do
		expect_usage_error "$IPCLAB" "$g" "$e" --no-such-option
		expect_usage_error "$IPCLAB" "$g" "$e" -x
		expect_usage_error "$IPCLAB" "$g" "$e" --help=yes
		expect_usage_error "$IPCLAB" "$g" "$e" stray
		expect_usage_error "$IPCLAB" "$g" "$e" --timeout 0
	done < <(experiments)
}

case_bad_iterations() {
	local v
	for v in 0 -1 abc 1e3 99999999999999999999 " 5" 5x ""; do
		expect_usage_error "$IPCLAB" ipc latency --iterations "$v"
		grep -q -- '--iterations' "$T/err" || fail "--iterations '$v': message does not name the option"
	done
	expect_usage_error "$IPCLAB" ipc latency --iterations
	expect_usage_error "$IPCLAB" ipc latency --repeat 0
	expect_usage_error "$IPCLAB" ipc latency --warmup -1
	expect_usage_error "$IPCLAB" ipc latency --size 1T
}

case_bad_mode_cpu() {
	expect_usage_error "$IPCLAB" ipc latency --mode bogus
	if ! grep -q 'process' "$T/err" || ! grep -q 'thread' "$T/err"; then
		fail "--mode bogus: valid modes not listed"
	fi
	expect_usage_error "$IPCLAB" ipc latency --cpu 99
	expect_usage_error "$IPCLAB" ipc latency --cpu "$(getconf _NPROCESSORS_CONF)"
	expect_usage_error "$IPCLAB" ipc latency --cpu 0,0,0
	expect_usage_error "$IPCLAB" ipc latency --cpu ,0
	expect_usage_error "$IPCLAB" ipc latency --cpu -1
}

# --transport bogus: the message lists every valid transport
case_bad_transport() {
	expect_usage_error "$IPCLAB" ipc latency --transport bogus
	cp "$T/err" "$T/transport.err"
	run "$IPCLAB" ipc transports --json
	expect_rc 0 "ipc transports --json"
	local t names
	names=$(jget "$T/out" '" ".join(t["name"] for t in d["results"]["transports"])') ||
		fail "cannot read transport names"
	[ -n "$names" ] || fail "ipc transports lists no transport"
	for t in $names; do
		grep -q -- "$t" "$T/transport.err" || fail "--transport bogus: '$t' not listed in: $(cat "$T/transport.err")"
	done
}

case_json_hist_stdout() {
	expect_usage_error "$IPCLAB" ipc latency --json --hist
	expect_usage_error "$IPCLAB" ipc latency --hist --json --iterations 10
}

# zero cost when untraced: the binary links no liblttng-ust (tracepoints use dynamic
# linkage); the provider .so does, and only it defines our probes
case_no_lttng_link() {
	local so
	so="$(dirname "$IPCLAB")/../lib/libipclab-tp.so"
	ldd "$IPCLAB" | grep -q lttng && fail "ipclab links LTTng: $(ldd "$IPCLAB" | grep lttng | paste -sd' ' -)"
	[ -f "$so" ] || fail "no provider library at $so"
	ldd "$so" | grep -q 'liblttng-ust\.so' || fail "the provider does not link liblttng-ust"
	run "$IPCLAB" core overhead --iterations 1000 --repeat 3 --json
	expect_rc 0 "core overhead"
	jcheck "$T/out" "d['results']['traced'] is False" "d['results']['tracepoint_events'] == 0"
}

# usage errors found after parsing (options that exclude each other, limits that depend
# on another option): exit 2, one line, and no JSON result even with --json=FILE, as for
# a bad option (il_ctx_usage)
case_late_usage() {
	local args
	while IFS= read -r args; do
		rm -f "$T/u.json"
		# shellcheck disable=SC2086 # one experiment's arguments per line
		expect_usage "$IPCLAB" $args --json="$T/u.json"
		[ -e "$T/u.json" ] && fail "'$args' wrote a JSON result on a usage error"
	done <<'EOF'
ipc throughput --count 10 --bytes 1M
ipc throughput --sweep --size 64
ipc throughput --sweep --siz 64
task spawn --method fork --exe nop
task ctxsw --sweep --working 64
signal alarm --ticks 100000 --period-us 100000 --timeout 10
sync handoff --kill-holder --mode thread
sync race --kill-holder --mode thread
sync semaphore --kill-holder --mode thread
task ctxsw --cpu 0,1
task pool --sweep --kind thread
task pool --tasks 5 --corrupt-task 6
signal bus --script INT,QUIT
EOF
	return 0
}

run_case cli_no_lttng_link case_no_lttng_link
run_case cli_list case_list
run_case cli_top_usage case_top_usage
while read -r g e; do
	run_case "cli_help_${g}_$e" case_help "$g" "$e"
done < <(experiments)
run_case cli_unknown_experiment case_unknown_experiment
run_case cli_unknown_option case_unknown_option
run_case cli_bad_iterations case_bad_iterations
run_case cli_bad_mode_cpu case_bad_mode_cpu
run_case cli_bad_transport case_bad_transport
run_case cli_json_hist_stdout case_json_hist_stdout
run_case cli_late_usage case_late_usage
finish
