#!/bin/bash
# experiments.sh - every experiment of `ipclab list` (new ones are covered automatically)
# runs with tiny sizes and --json: exit 0 (or 4 when its JSON says it is unsupported),
# the JSON on stdout is a complete envelope, and nothing is left behind.
# Usage: tests/integration/experiments.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# small_args GROUP EXP: the options that keep a run tiny, from what its --help offers
small_args() {
	local help
	help=$("$IPCLAB" "$1" "$2" --help 2>/dev/null)
	ARGS=()
	if grep -q -- '--iterations' <<<"$help"; then ARGS+=(--iterations 50); fi
	if grep -q -- '--warmup' <<<"$help"; then ARGS+=(--warmup 5); fi
	if grep -q -- '--repeat' <<<"$help"; then ARGS+=(--repeat 2); fi
	if grep -q -- '--duration' <<<"$help"; then ARGS+=(--duration 1); fi
	ARGS+=(--timeout 60)
}

# unsupported_checks: what a JSON must say when the experiment exits 4
UNSUPPORTED=(
	'd["exit_code"] == 4'
	'any("unsupported" in k for k in d["results"]) or "unsupported" in d'
)

case_runs() {
	local g=$1 e=$2
	small_args "$g" "$e"
	run "$IPCLAB" "$g" "$e" "${ARGS[@]}" --json
	case $RC in
	0) ;;
	4) jcheck "$T/out" "${UNSUPPORTED[@]}" || fail "exit 4 but the JSON does not say unsupported" ;;
	*) fail "'$g $e ${ARGS[*]} --json' exited $RC: $(head -n 3 "$T/err" | paste -sd'|' -)" ;;
	esac
	jcheck "$T/out" "${ENVELOPE[@]}" \
		"d['experiment'] == '$g $e'" \
		"d['exit_code'] == $RC" || return 1
	# the JSON goes to stdout alone: no human table around it
	[ "$(head -c 1 "$T/out")" = "{" ] || fail "stdout does not start with the JSON object"
	# with --json=FILE the same envelope goes to the file, and stdout has the human output
	run "$IPCLAB" "$g" "$e" "${ARGS[@]}" --json="$T/r.json" --quiet
	[ "$RC" -eq 0 ] || [ "$RC" -eq 4 ] || fail "--json=FILE run exited $RC: $(head -n 1 "$T/err")"
	[ -s "$T/r.json" ] || fail "--json=FILE wrote no file"
	jcheck "$T/r.json" "${ENVELOPE[@]}" "d['exit_code'] == $RC"
	rm -f "$T/r.json"
}

while read -r g e; do
	run_case "experiment_${g}_$e" case_runs "$g" "$e"
done < <("$IPCLAB" list | awk '/^  [a-z]/ { print $1, $2 }')
finish
