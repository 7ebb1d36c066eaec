#!/bin/bash
# analyze_lami.sh - scripts/ipclab-lami against the LAMI 1.0 protocol (what Trace
# Compass's External Analyses expect): the version phase prints "1.0"; the metadata
# phase one JSON object with mi-version 1.0 and table classes whose columns have LAMI
# classes; the compatibility phase exits 0 silently for an ipclab trace and non-zero
# with an error object otherwise; the results phase prints {"results": [...]} whose
# tables each have a time-range object, a known class, and rows matching the class's
# columns cell by cell; --begin/--end, --limit and --output-progress; errors are error
# objects. On the synthetic trace of tests/fixtures/synth.py, so values are known.
# Usage: tests/integration/analyze_lami.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

LAMI=$REPO/scripts/ipclab-lami
SYNTH=$REPO/tests/fixtures/synth.py
BT2PY=/usr/bin/python3
export IPCLAB_BT2_PLUGIN_PATH=$TL_BUILD/lib/babeltrace2/plugins

make_ctf() {
	local dir=$T/$1
	shift
	[ -d "$dir" ] && return 0
	run "$BT2PY" "$SYNTH" --ctf "$dir" "$@"
	expect_rc 0 "synth.py --ctf $*"
}

# lami_check METADATA RESULTS_FILE [PROGRESS]: protocol checks of a results-phase output;
# prints the problems. PROGRESS=1: progress lines may precede the JSON object.
lami_check() {
	"$PY" - "$@" <<'EOF'
import json, re, sys
meta = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
progress = len(sys.argv) > 3 and sys.argv[3] == "1"
problems = []
lines = text.splitlines()
body = text
if progress:
    i = 0
    while i < len(lines) and not lines[i].startswith("{"):
        if not re.match(r"^(\*|[01](\.[0-9]+)?|0?\.[0-9]+)( .*)?$", lines[i]):
            problems.append("bad progress line %r" % lines[i])
        i += 1
    if i == 0:
        problems.append("no progress line with --output-progress")
    body = "\n".join(lines[i:])
try:
    res = json.loads(body)
except ValueError as e:
    print("results are not one JSON object: %s" % e)
    sys.exit()
classes = meta["table-classes"]
DATA = {"unknown", "bool", "number", "string", "ratio", "timestamp", "duration", "size", "bitrate",
        "time-range", "syscall", "process", "path", "fd", "irq", "cpu", "disk", "part", "netif"}
NUMERIC = {"number", "ratio", "timestamp", "duration", "size", "bitrate"}

def check_ts(o, where):
    if not (isinstance(o, dict) and o.get("class") == "timestamp" and isinstance(o.get("value"), int)):
        problems.append("%s: not a timestamp object: %r" % (where, o))
        return None
    return o["value"]

def check_range(o, where):
    if not (isinstance(o, dict) and o.get("class") == "time-range"):
        problems.append("%s: not a time-range object" % where)
        return
    b, e = check_ts(o.get("begin"), where + ".begin"), check_ts(o.get("end"), where + ".end")
    if b is not None and e is not None and e < b:
        problems.append("%s: end < begin" % where)

if not isinstance(res.get("results"), list):
    problems.append("no results array")
    res["results"] = []
for n, t in enumerate(res["results"]):
    where = "table %d" % n
    check_range(t.get("time-range"), where + " time-range")
    cls = t.get("class")
    if isinstance(cls, str):
        if cls not in classes:
            problems.append("%s: class %r not in the metadata" % (where, cls))
            continue
        cols = classes[cls]["column-descriptions"]
    else:
        cols = cls.get("column-descriptions") or classes.get(cls.get("inherit"), {}).get("column-descriptions", [])
    if not isinstance(t.get("data"), list):
        problems.append("%s: no data array" % where)
        continue
    for r, row in enumerate(t["data"]):
        if len(row) != len(cols):
            problems.append("%s row %d: %d cells for %d columns" % (where, r, len(row), len(cols)))
            continue
        for c, (cell, col) in enumerate(zip(row, cols)):
            cw = "%s row %d col %d (%s)" % (where, r, c, col.get("title"))
            if cell is None:
                continue
            if not isinstance(cell, dict) or cell.get("class") not in DATA:
                problems.append("%s: not a data object: %r" % (cw, cell))
                continue
            k = cell["class"]
            if k == "unknown":
                continue
            want = col.get("class", "mixed")
            if want != "mixed" and k != want:
                problems.append("%s: class %s in a %s column" % (cw, k, want))
            if k in NUMERIC and not isinstance(cell.get("value"), (int, float)):
                problems.append("%s: no numeric value" % cw)
            if k == "time-range":
                check_range(cell, cw)
            if k == "string" and not isinstance(cell.get("value"), str):
                problems.append("%s: no string value" % cw)
            if k == "bool" and not isinstance(cell.get("value"), bool):
                problems.append("%s: no boolean value" % cw)
print("\n".join(problems))
EOF
}

case_mi_version() {
	run "$LAMI" --mi-version
	expect_rc 0 "--mi-version" || return
	[ "$(cat "$T/out")" = "1.0" ] || fail "--mi-version printed '$(head -c 40 "$T/out")', want 1.0"
}

case_metadata() {
	run "$LAMI" --metadata
	expect_rc 0 "--metadata" || return
	cp "$T/out" "$T/meta.json"
	jcheck "$T/meta.json" \
		'd["mi-version"] == {"major": 1, "minor": 0}' \
		'isinstance(d["title"], str) and d["title"]' \
		'isinstance(d["table-classes"], dict) and len(d["table-classes"]) >= 5' \
		'all(isinstance(c["column-descriptions"], list) and c["column-descriptions"] for c in d["table-classes"].values())' \
		'all(col["class"] in ("bool", "number", "string", "ratio", "timestamp", "duration", "size", "bitrate", "time-range", "syscall", "process", "path", "fd", "irq", "cpu", "disk", "part", "netif", "mixed") for c in d["table-classes"].values() for col in c["column-descriptions"])' \
		'all("unit" not in col or col["class"] == "number" for c in d["table-classes"].values() for col in c["column-descriptions"])' \
		'all(k in d["table-classes"] for k in ("msg-latency", "sig-latency", "lock-stats", "races", "task-stages", "bus-states", "summary"))'
}

case_compatibility() {
	make_ctf good || return
	make_ctf foreign --foreign || return
	run "$LAMI" --test-compatibility "$T/good"
	expect_rc 0 "--test-compatibility on an ipclab trace" || return
	[ -s "$T/out" ] && fail "--test-compatibility printed something for a compatible trace"
	local t
	for t in "$T/foreign" "$T/missing"; do
		run "$LAMI" --test-compatibility "$t"
		[ "$RC" -ne 0 ] || fail "--test-compatibility $(basename "$t"): exit 0"
		jcheck "$T/out" 'isinstance(d["error-message"], str) and d["error-message"]'
	done
}

case_results() {
	make_ctf good || return
	run "$LAMI" --metadata
	cp "$T/out" "$T/meta.json"
	run "$LAMI" "$T/good"
	expect_rc 0 "results phase" || return
	cp "$T/out" "$T/res.json"
	local out
	out=$(lami_check "$T/meta.json" "$T/res.json")
	[ -z "$out" ] || fail "$(paste -sd';' <<<"$out" | cut -c1-1000)"
	jcheck "$T/res.json" \
		'sorted(t["class"] for t in d["results"]) == sorted(["summary", "msg-latency", "msg-channels", "sig-latency", "lock-stats", "lock-threads", "races", "task-stages", "bus-states", "timed-intervals"])' \
		'(lambda t: [c["value"] for c in t["data"][0][1:5]] == [63, 63, 0, 0])(next(t for t in d["results"] if t["class"] == "summary"))' \
		'(lambda t: [(r[2]["value"], r[3]["value"], r[4]["value"], r[5]["value"], r[9]["value"]) for r in t["data"]] == [(4, 1, 0, 1000, 1300), (4, 0, 1, 500, 500)])(next(t for t in d["results"] if t["class"] == "msg-latency"))' \
		'(lambda t: [(r[1]["value"], r[2]["value"], r[3]["value"], r[4]["value"], round(r[5]["value"], 6)) for r in t["data"]] == [(3, 2, 1, 1, 0.333333)])(next(t for t in d["results"] if t["class"] == "races"))' \
		'(lambda t: t["data"][0][0]["class"] == "process" and t["data"][0][0]["tid"] == 11)(next(t for t in d["results"] if t["class"] == "lock-threads"))'
	rm -f "$T/res.json"
}

# --begin/--end: the tables' time range is the requested one; only the lock section
case_range_limit() {
	make_ctf good || return
	run "$LAMI" --metadata
	cp "$T/out" "$T/meta.json"
	run "$LAMI" "$T/good" --begin=1700000000000300000 --end 1700000000000399999 --limit 1
	expect_rc 0 "--begin --end --limit" || return
	cp "$T/out" "$T/res.json"
	local out
	out=$(lami_check "$T/meta.json" "$T/res.json")
	[ -z "$out" ] || fail "$(paste -sd';' <<<"$out" | cut -c1-1000)"
	jcheck "$T/res.json" \
		'all(t["time-range"]["begin"]["value"] == 1700000000000300000 and t["time-range"]["end"]["value"] == 1700000000000399999 for t in d["results"])' \
		'sorted(t["class"] for t in d["results"]) == ["lock-stats", "lock-threads", "summary", "timed-intervals"]' \
		'all(len(t["data"]) <= 1 for t in d["results"])' \
		'next(t for t in d["results"] if t["class"] == "summary")["data"][0][1]["value"] == 9'
	run "$LAMI" "$T/good" --limit unlimited
	expect_rc 0 "--limit unlimited" && jcheck "$T/out" 'len(next(t for t in d["results"] if t["class"] == "lock-threads")["data"]) == 3'
	rm -f "$T/res.json"
}

case_progress() {
	make_ctf good || return
	run "$LAMI" --metadata
	cp "$T/out" "$T/meta.json"
	run "$LAMI" "$T/good" --output-progress
	expect_rc 0 "--output-progress" || return
	local out
	out=$(lami_check "$T/meta.json" "$T/out" 1)
	[ -z "$out" ] || fail "$(paste -sd';' <<<"$out" | cut -c1-600)"
}

# a corrupt trace and usage errors: an error object on stdout, non-zero exit
case_errors() {
	make_ctf good || return
	rm -rf "$T/cut"
	cp -r "$T/good" "$T/cut"
	truncate -s 1000 "$T/cut/stream"
	run "$LAMI" "$T/cut"
	[ "$RC" -ne 0 ] || fail "results phase on a cut trace: exit 0"
	jcheck "$T/out" '"truncated or corrupt" in d["error-message"]' 'd["error-code"] != 0'
	run "$LAMI" "$T/good" --begin yesterday
	[ "$RC" -eq 2 ] || fail "--begin yesterday: exit $RC, want 2"
	jcheck "$T/out" 'isinstance(d["error-message"], str)'
	run "$LAMI" "$T/good" --bogus
	[ "$RC" -eq 2 ] || fail "--bogus: exit $RC, want 2"
	rm -rf "$T/cut"
}

# the protocol checker is not vacuous: it rejects a short row, a wrong cell class, a bad range
case_checker_negative() {
	run "$LAMI" --metadata
	cp "$T/out" "$T/meta.json"
	cat >"$T/bad.json" <<'JSON'
{"results": [
 {"time-range": {"class": "time-range", "begin": {"class": "timestamp", "value": 5}, "end": {"class": "timestamp", "value": 4}},
  "class": "bus-states",
  "data": [[{"class": "string", "value": "driver"}],
           [{"class": "duration", "value": 1}, {"class": "string", "value": "off"}, {"class": "number", "value": 1},
            {"class": "duration", "value": 1}, null, null, null, null, null, null]]},
 {"time-range": {"class": "time-range", "begin": {"class": "timestamp", "value": 1}, "end": {"class": "timestamp", "value": 2}},
  "class": "no-such-class", "data": []}
]}
JSON
	local out
	out=$(lami_check "$T/meta.json" "$T/bad.json")
	grep -q 'end < begin' <<<"$out" || fail "an inverted time range was not reported"
	grep -q '1 cells for 10 columns' <<<"$out" || fail "a short row was not reported"
	grep -q 'class duration in a string column' <<<"$out" || fail "a wrong cell class was not reported"
	grep -q "class 'no-such-class' not in the metadata" <<<"$out" || fail "an unknown table class was not reported"
	rm -f "$T/bad.json"
}

run_case analyze_lami_checker_negative case_checker_negative
run_case analyze_lami_mi_version case_mi_version
run_case analyze_lami_metadata case_metadata
run_case analyze_lami_compatibility case_compatibility
run_case analyze_lami_results case_results
run_case analyze_lami_range_limit case_range_limit
run_case analyze_lami_progress case_progress
run_case analyze_lami_errors case_errors
finish
