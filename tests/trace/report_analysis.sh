#!/bin/bash
# report_analysis.sh - the report's "Trace analysis" section end to end: bench/run runs a
# three-line matrix traced (ipc latency, sync race without a lock, sync handoff with
# --repeat), scripts/report analyses every trace with scripts/ipclab-analyze
# (analysis/ID.json, analysis/ID/*.tsv) and writes one row per trace whose exact checks
# against the traced run's own JSON hold: 2*(N+W)*R messages matched, the lost updates
# of the run, two lock waits per round trip. A damaged trace gets analysis/ID.err, a
# row saying so and a warning at the top; a second report reuses the analyses.
# LTTng is required: if no session daemon can be started the cases FAIL.
# Usage: tests/trace/report_analysis.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PLUGIN_DIR=$TL_BUILD/lib/babeltrace2/plugins
export IPCLAB_BT2_PLUGIN_PATH=$PLUGIN_DIR
export BUILD=$TL_BUILD
RES=$T/results

record() {
	[ -f "$PLUGIN_DIR/babeltrace-plugin-ipclab.so" ] || {
		fail "no plugin at $PLUGIN_DIR"
		return 1
	}
	printf '%s\t%s\t%s\n' \
		lat ipclab "ipc latency --transport pipe --mode thread --iterations 200 --warmup 20 --repeat 2" \
		race ipclab "sync race --sync none --mode thread --workers 2 --increments 2000 --delay 200" \
		handoff ipclab "sync handoff --lock sem --mode thread --iterations 100 --warmup 10 --repeat 3" \
		>"$T/matrix"
	RUN_TIMEOUT=600 run "$REPO/bench/run" --matrix "$T/matrix" --traced --out "$RES"
	expect_rc 0 "bench/run --matrix (3 traced lines)" || return 1
	local id
	for id in lat race handoff; do
		jcheck "$RES/traces/$id/ipclab-trace.json" 'd["traced"] is True' || return 1
	done
	# a fourth trace folder: lat's trace with its stream files cut in half
	cp -r "$RES/traces/lat" "$RES/traces/broken"
	local f
	while IFS= read -r f; do
		truncate -s $(($(stat -c %s "$f") / 2)) "$f"
	done < <(find "$RES/traces/broken" -type f -name 'ipclab_*' ! -path '*/index/*' -size +0)
	run "$REPO/scripts/report" "$RES" --no-figures
	expect_rc 0 "scripts/report" || return 1
}

case_files() {
	local id
	for id in lat race handoff; do
		[ -s "$RES/analysis/$id.json" ] || fail "no analysis/$id.json"
		[ -e "$RES/analysis/$id.err" ] && fail "analysis/$id.err exists: $(cat "$RES/analysis/$id.err")"
		[ -s "$RES/analysis/$id/messages.tsv" ] || fail "no analysis/$id/messages.tsv"
	done
	[ -s "$RES/analysis/broken.err" ] || fail "no analysis/broken.err for the damaged trace"
	[ -e "$RES/analysis/broken.json" ] && fail "a result was written for the damaged trace"
	grep -c 'analysing traces/' "$T/err" | grep -qx 4 || fail "want 4 'analysing traces/' lines: $(grep -c 'analysing' "$T/err")"
}

case_checks() {
	"$PY" - "$RES/data/trace_analysis.tsv" "$RES/runs" >"$T/check" <<'EOF'
import csv, json, sys
rows = {}  # (write_tsv writes a missing value as NaN)
with open(sys.argv[1]) as f:
    lines = [l for l in f if not l.startswith("# ") or l.startswith("# id")]
lines[0] = lines[0][2:]
for r in csv.DictReader(lines, delimiter="\t"):
    rows[r["id"]] = r
def run(i):
    return json.load(open("%s/%s.traced.json" % (sys.argv[2], i)))["results"]
want = {
    "lat": "messages matched %d = 2·(N+W)·R = %d: ok" % (2 * 220 * 2, 2 * 220 * 2),
    "race": "lost updates %d = the run's %d: ok" % (run("race")["lost_updates"], run("race")["lost_updates"]),
    "handoff": "lock waits %d = 2 × %d round trips: ok" % (2 * 330, 330),
}
for i, text in want.items():
    r = rows.get(i)
    if r is None:
        print("no row for %s" % i)
    elif r["checks"] != text or r["checks_ok"] != "1" or r["complete"] != "1" or r["error"] != "NaN":
        print("%s: checks %r ok %r complete %r error %r, want %r" % (i, r["checks"], r["checks_ok"], r["complete"],
                                                                    r["error"], text))
b = rows.get("broken")
if not b or b["error"] in ("", "NaN"):
    print("the damaged trace has no error row: %r" % (b,))
EOF
	[ -s "$T/check" ] && fail "$(paste -sd';' "$T/check")"
	grep -q 'id="trace-analysis"' "$RES/report.html" || fail "no Trace analysis section in report.html"
	grep -q 'trace broken could not be analysed' "$RES/report.html" || fail "no warning for the damaged trace"
}

# a second report reads the analyses already there: nothing is analysed again
case_rerun() {
	run "$REPO/scripts/report" "$RES" --no-figures
	expect_rc 0 "scripts/report again" || return
	grep -q 'analysing traces/' "$T/err" && fail "traces analysed again: $(grep -c analysing "$T/err")"
	return 0
}

if run_case report_analysis_record record && [ "$TL_FAIL" -eq 0 ]; then
	run_case report_analysis_files case_files
	run_case report_analysis_checks case_checks
	run_case report_analysis_rerun case_rerun
else
	for c in files checks rerun; do
		notok_case "report_analysis_$c" "no results directory to report on"
	done
fi
finish
