#!/bin/bash
# course_map.sh - the course map (bench/course-map.tsv, shown in README.md "The course,
# mapped"): every item of the course has a row; every row names an experiment that
# "ipclab list" lists, with options that experiment accepts, a C primitive and a report
# part; the README table is the file, row for row.
# Usage: tests/integration/course_map.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

MAP=$REPO/bench/course-map.tsv

# the course's items (issue 14 item 3): the Python API it uses, the homework, the question
ITEMS='Process
Pool.apply_async
Pool.map
Pool.close
Pool.join
Pipe
Queue.put
Queue.get
Queue.full
Queue.empty
Queue.qsize
Queue.close
Value
Array
os.kill
signal.alarm
signal.pause
signal.signal
SIGCHLD + SIG_IGN
Semaphore.acquire
Semaphore.release
Semaphore.get_value
Event.wait
Event.set
Event.clear
Event.is_set
Lock + with
Thread
daemon
the GIL
driver/conductor homework
process vs thread differences'

# rows: the map without its comments, as "item<TAB>experiment<TAB>options<TAB>primitive<TAB>report"
rows() {
	grep -v '^#' "$MAP"
}

case_shape() {
	[ -s "$MAP" ] || {
		fail "no $MAP"
		return
	}
	local bad
	bad=$(rows | awk -F'\t' 'NF != 5 || $1 == "" || $2 == "" || $4 == "" || $5 == "" { print NR ": " $0 }')
	[ -z "$bad" ] || fail "rows without 5 fields (item, experiment, options, primitive, report): $bad"
}

case_every_item() {
	local item missing=() extra
	while IFS= read -r item; do
		rows | cut -f1 | grep -qxF -- "$item" || missing+=("$item")
	done <<<"$ITEMS"
	[ ${#missing[@]} -eq 0 ] || fail "course items without a row: ${missing[*]}"
	extra=$(rows | cut -f1 | grep -vxF -- "$ITEMS" | paste -sd, -)
	[ -z "$extra" ] || fail "rows for items the course does not have: $extra"
}

# every experiment exists and accepts the row's options (validated before --help)
case_every_experiment() {
	run "$IPCLAB" list
	expect_rc 0 "ipclab list" || return
	local item exp opts o
	while IFS=$'\037' read -r item exp opts; do
		grep -qE "^  $exp  " "$T/out" || {
			fail "$item: '$exp' is not in ipclab list"
			continue
		}
		read -ra o <<<"$opts"
		# shellcheck disable=SC2086 # "group name" is two words
		"$IPCLAB" $exp "${o[@]}" --help >/dev/null 2>"$T/err" ||
			fail "$item: 'ipclab $exp $opts' is refused: $(head -n 1 "$T/err")"
	done < <(rows | awk -F'\t' '{ print $1 "\037" $2 "\037" $3 }')
}

# the README's table is the map, row for row
case_readme() {
	local want got
	want=$(rows | awk -F'\t' '{ o = $3 == "" ? "" : " " $3
		printf "| %s | `ipclab %s%s` | %s | `report.html#%s` |\n", $1, $2, o, $4, $5 }')
	got=$(sed -n '/^<!-- course-map begin/,/^<!-- course-map end/p' "$REPO/README.md" | grep '^| ' | tail -n +2)
	[ "$want" = "$got" ] || fail "README.md's course map differs from bench/course-map.tsv: $(diff <(echo "$want") <(echo "$got") | head -n 4 | paste -sd'|' -)"
}

run_case course_map_shape case_shape
run_case course_map_every_item case_every_item
run_case course_map_every_experiment case_every_experiment
run_case course_map_readme case_readme
finish
