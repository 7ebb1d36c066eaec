#!/bin/bash
# compare.sh - scripts/ipclab-compare on two synthetic results folders A and B (runs/ID.json
# written with python's json module, hist/ID.tsv as ipclab writes them):
#   lat-slow      histograms, B 1.5x slower           -> bootstrap, slower
#   lat-same      the same histograms in A and B      -> bootstrap, no change
#   lat-reps      5 per-repeat p50s, no histograms    -> mann-whitney, slower
#   lat-3reps     3 per-repeat p50s, B slower         -> insufficient data (3+3 repeats
#                 cannot reach p <= 0.05); slower with --alpha 0.1
#   tput          msgs_per_s with 4 repeats, B higher -> mann-whitney, faster
#   lat-reps-noise  5 per-repeat p50s, A and B apart by noise -> mann-whitney, no change
#   lat-2reps     2 per-repeat p50s, B slower         -> summary, insufficient data
#   lat-wide      40 samples spread wide (a bootstrap CI that depends on the seed)
#   summary-only  a summary and histograms that do not fit it -> insufficient data
#   only-a        in A only
# and the JSON output (reproducible: the same bytes twice), the table, --alpha, and the
# errors: one line on stderr, exit 2, never a traceback.
# Usage: tests/integration/compare.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

COMPARE=$REPO/scripts/ipclab-compare
RUN_TIMEOUT=60

# gen DIR SIDE: the synthetic results folder of side A or B in DIR
gen() {
	[ -f "$T/gen.py" ] || write_gen
	run "$PY" "$T/gen.py" "$1" "$2"
	expect_rc 0 "generate results folder $2"
}

# write_gen: the generator, $T/gen.py DIR A|B
write_gen() {
	cat >"$T/gen.py" <<'EOF'
import json, os, random, sys

out, side = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(out, "runs"), exist_ok=True)
os.makedirs(os.path.join(out, "hist"), exist_ok=True)


def lower(v):
    """ipclab's histogram bucket (lower edge) of v: 1 ns below 128, else 64 per octave."""
    if v < 128:
        return v
    shift = v.bit_length() - 7
    return (v >> shift) << shift


def summarize(samples):
    """An ipclab latency summary and the histogram buckets of samples (ns)."""
    buckets = {}
    for v in samples:
        buckets[lower(v)] = buckets.get(lower(v), 0) + 1
    n, lo, hi = len(samples), min(samples), max(samples)
    mean = sum(samples) / n
    sd = (sum((v - mean) ** 2 for v in samples) / (n - 1)) ** 0.5

    def pct(p):
        rank, cum = max(1, -(-p * n // 100)), 0
        for b in sorted(buckets):
            cum += buckets[b]
            if cum >= rank:
                width = 1 if b < 128 else 1 << (b.bit_length() - 7)
                return min(max(b + width // 2, lo), hi)
        return hi

    s = {"count": n, "min": lo, "max": hi, "mean": mean, "stddev": sd, "p50": pct(50),
         "p90": pct(90), "p99": pct(99), "p999": pct(99.9), "overflow": 0}
    return s, sorted(buckets.items())


def hist_block(name, s, buckets):
    lines = ["# histogram: %s" % name, "# unit: ns (bucket lower edge)",
             "# count: %d  overflow(>10000000000 ns): 0" % s["count"],
             "# min: %d  mean: %.1f  stddev: %.1f  p50: %d  p90: %d  p99: %d  p99.9: %d  max: %d"
             % (s["min"], s["mean"], s["stddev"], s["p50"], s["p90"], s["p99"], s["p999"], s["max"]),
             "# bucket_ns\tcount"]
    lines += ["%d\t%d" % b for b in buckets]
    return "\n".join(lines) + "\n"


def latency_samples(seed, centre, n=2000):
    rng = random.Random(seed)
    return [max(1, int(rng.gauss(centre, centre * 0.05))) for _ in range(n)]


def envelope(experiment, params, results):
    return {"schema": "ipclab-result/1", "experiment": experiment,
            "cmdline": ["ipclab"] + experiment.split(), "start_time": "2026-01-01T00:00:00.000000Z",
            "end_time": "2026-01-01T00:00:01.000000Z", "sysinfo": {}, "params": params,
            "results": results, "warnings": [], "exit_code": 0}


def write_run(rid, doc, hists=None):
    with open(os.path.join(out, "runs", rid + ".json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    if hists:
        with open(os.path.join(out, "hist", rid + ".tsv"), "w") as f:
            f.write("\n\n".join(hists))


def hist_run(rid, centre_rtt, centre_ow, seed):
    results, hists = {"traced": False}, []
    for name, centre, k in (("rtt", centre_rtt, 1), ("oneway_ab", centre_ow, 2)):
        s, b = summarize(latency_samples(seed * 10 + k, centre))
        results[name] = s
        hists.append(hist_block(name, s, b))
    write_run(rid, envelope("ipc latency", {"iterations": 2000, "transport": "pipe"}, results), hists)


def reps_run(rid, p50s, seed):
    """rtt and oneway_ab summaries, per repeat rtt_p50 and oneway_p50 (oneway_ab's, as
    ipclab writes it)"""
    s, _ = summarize(latency_samples(seed, sorted(p50s)[len(p50s) // 2], 500))
    ow, _ = summarize(latency_samples(seed, sorted(p50s)[len(p50s) // 2] // 2, 500))
    reps = [{"repeat": i, "rtt_p50": v, "rtt_mean": v * 1.1, "oneway_p50": v // 2} for i, v in enumerate(p50s)]
    write_run(rid, envelope("ipc latency", {"repeat": len(p50s)}, {"rtt": s, "oneway_ab": ow, "repeats": reps}))


slow = side == "B"
hist_run("lat-slow", 15000 if slow else 10000, 7500 if slow else 5000, 1 if slow else 2)
hist_run("lat-same", 20000, 10000, 3)  # the same seed: the same samples on both sides
reps_run("lat-reps", [15000, 15200, 14900, 15100, 15050] if slow else [10000, 10100, 9900, 10050, 9950], 4)
reps_run("lat-3reps", [15000, 15200, 14900] if slow else [10000, 10100, 9900], 5)
mps = [2.0e6, 2.1e6, 1.9e6, 2.05e6] if slow else [1.0e6, 1.1e6, 0.9e6, 1.05e6]
point = {"size": 64, "msgs_per_s": sorted(mps)[1], "repeats": [{"repeat": i, "msgs_per_s": v} for i, v in enumerate(mps)]}
write_run("tput", envelope("ipc throughput", {"size": 64}, {"points": [point], "ideal_tasks_per_s": 5.0}))
s, b = summarize(latency_samples(6, 8000, 400))
# histograms of other data, which must not be used: another count; the same count (no
# header to compare, so the median of the buckets must tell them apart)
s2, b2 = summarize(latency_samples(7, 8000, 300))
s3, b3 = summarize(latency_samples(8, 9000, 400))
write_run("summary-only", envelope("sync handoff", {}, {"rtt": s}),
          [hist_block("rtt", s2, b2), "# histogram: rtt\n" + "".join("%d\t%d\n" % x for x in b3)])
# a wide distribution of few samples: the bootstrap interval moves with the seed
first = 9 if side == "A" else 10
sw, bw = summarize([1000 + (v * 7919) % 99000 for v in range(first, first + 40)])
write_run("lat-wide", envelope("ipc latency", {}, {"rtt": sw}), [hist_block("rtt", sw, bw)])
# per-repeat p50s that differ by noise only; two repeats only
reps_run("lat-reps-noise", [10020, 9980, 10080, 9920, 10010] if slow else [10000, 10100, 9900, 10050, 9950], 11)
reps_run("lat-2reps", [15000, 15200] if slow else [10000, 10100], 12)
if side == "A":
    write_run("only-a", envelope("ipc latency", {}, {"rtt": s}))
EOF
}

setup() {
	[ -d "$T/A/runs" ] && return 0
	gen "$T/A" A || return 1
	gen "$T/B" B || return 1
	mkdir -p "$T/C/runs" "$T/norun" "$T/empty/runs"
	cp "$T/A/runs/only-a.json" "$T/C/runs/other.json"
}

# r ID METRIC: a Python expression, the JSON row of ID's METRIC
r() {
	printf 'next(x for x in d["rows"] if x["id"] == "%s" and x["metric"] == "%s")' "$1" "$2"
}

# table_row ID METRIC METHOD VERDICT: the table has that row
table_row() {
	grep -q -E "^$1 +$2 +$3 .* $4( |\$)" "$T/out" ||
		fail "no table row '$1 $2 $3 ... $4' in: $(grep -E "^$1 " "$T/out" | paste -sd'|' -)"
}

# no_traceback: stderr holds no Python traceback
no_traceback() {
	! grep -q Traceback "$T/err" || fail "traceback: $(tail -n 1 "$T/err")"
}

# one_line_error WHAT ARGS...: ipclab-compare ARGS exits 2, prints nothing on stdout and
# exactly one line "ipclab-compare: ..." on stderr
one_line_error() {
	local what=$1
	shift
	run "$COMPARE" "$@"
	expect_rc 2 "$what"
	no_traceback
	[ -s "$T/out" ] && fail "$what: wrote to stdout: $(head -n 1 "$T/out")"
	[ "$(lines "$T/err")" -eq 1 ] || fail "$what: $(lines "$T/err") stderr lines, want 1: $(paste -sd'|' "$T/err" | cut -c1-300)"
	grep -q '^ipclab-compare: ' "$T/err" || fail "$what: stderr '$(head -n 1 "$T/err")' lacks the 'ipclab-compare: ' prefix"
}

case_table() {
	setup || return
	run "$COMPARE" "$T/A" "$T/B"
	expect_rc 0 "ipclab-compare A B" || return
	no_traceback
	[ -s "$T/err" ] && fail "stderr not empty: $(head -n 1 "$T/err")"
	grep -q -E '^ID +metric +method +A p50 +B p50 +change +95% CI +verdict' "$T/out" ||
		fail "no table header: $(head -n 5 "$T/out" | paste -sd'|' -)"
	table_row lat-slow rtt bootstrap slower
	table_row lat-slow oneway_ab bootstrap slower
	table_row lat-same rtt bootstrap "no change"
	table_row lat-same oneway_ab bootstrap "no change"
	table_row lat-reps rtt mann-whitney slower
	table_row lat-reps oneway_ab mann-whitney slower
	table_row lat-reps-noise rtt mann-whitney "no change"
	table_row lat-2reps rtt summary "insufficient data"
	table_row lat-3reps rtt mann-whitney "insufficient data"
	table_row tput "points\[size=64\]\.msgs_per_s" mann-whitney faster
	table_row summary-only rtt summary "insufficient data"
	grep -q 'ideal_tasks_per_s' "$T/out" && fail "ideal_tasks_per_s (computed, not measured) compared"
	grep -q '^only in A: only-a$' "$T/out" || fail "no 'only in A: only-a' line"
	local m
	for m in bootstrap mann-whitney summary; do
		grep -q "^  $m " "$T/out" || fail "method $m is not explained under the table"
	done
}

case_json() {
	setup || return
	run "$COMPARE" "$T/A" "$T/B" --json "$T/c1.json"
	expect_rc 0 "--json FILE" || return
	grep -q -E '^lat-slow +rtt ' "$T/out" || fail "--json FILE did not print the table too"
	jcheck "$T/c1.json" 'd["schema"] == "ipclab-compare/1"' 'd["alpha"] == 0.05' \
		'd["only_in_a"] == ["only-a"] and d["only_in_b"] == []' \
		'sorted(d["common"]) == ["lat-2reps", "lat-3reps", "lat-reps", "lat-reps-noise", "lat-same", "lat-slow", "lat-wide", "summary-only", "tput"]' \
		'all(x["verdict"] in ("faster", "slower", "no change", "insufficient data") for x in d["rows"])' \
		'all(x["method"] in ("bootstrap", "mann-whitney", "summary") for x in d["rows"])' \
		'not any(x["metric"].endswith("ideal_tasks_per_s") for x in d["rows"])' \
		'all(x["ci_pct"] is None for x in d["rows"] if x["verdict"] == "insufficient data")' \
		"$(r lat-slow rtt)[\"verdict\"] == \"slower\" and $(r lat-slow rtt)[\"method\"] == \"bootstrap\"" \
		"45 < $(r lat-slow rtt)[\"change_pct\"] < 55" \
		"40 < $(r lat-slow rtt)[\"ci_pct\"][0] <= $(r lat-slow rtt)[\"ci_pct\"][1] < 60" \
		"$(r lat-slow rtt)[\"n_a\"] == 2000 and $(r lat-slow rtt)[\"better\"] == \"lower\"" \
		"$(r lat-same rtt)[\"verdict\"] == \"no change\" and $(r lat-same rtt)[\"change_pct\"] == 0" \
		"$(r lat-same rtt)[\"ci_pct\"][0] <= 0 <= $(r lat-same rtt)[\"ci_pct\"][1]" \
		"$(r lat-reps rtt)[\"method\"] == \"mann-whitney\" and $(r lat-reps rtt)[\"p\"] <= 0.05" \
		"$(r lat-reps rtt)[\"verdict\"] == \"slower\" and $(r lat-reps rtt)[\"ci_pct\"][0] > 0" \
		"$(r lat-reps-noise rtt)[\"verdict\"] == \"no change\" and $(r lat-reps-noise rtt)[\"p\"] > 0.05" \
		"$(r lat-reps-noise rtt)[\"ci_pct\"][0] < 0 < $(r lat-reps-noise rtt)[\"ci_pct\"][1]" \
		"$(r lat-2reps rtt)[\"method\"] == \"summary\" and $(r lat-2reps rtt)[\"verdict\"] == \"insufficient data\"" \
		'not any("repeats" in x["metric"] for x in d["rows"])' \
		"$(r lat-wide rtt)[\"method\"] == \"bootstrap\" and $(r lat-wide rtt)[\"n_a\"] == 40" \
		"$(r lat-3reps rtt)[\"verdict\"] == \"insufficient data\" and $(r lat-3reps rtt)[\"method\"] == \"mann-whitney\"" \
		"$(r tput 'points[size=64].msgs_per_s')[\"verdict\"] == \"faster\"" \
		"$(r tput 'points[size=64].msgs_per_s')[\"better\"] == \"higher\"" \
		"$(r tput 'points[size=64].msgs_per_s')[\"ci_pct\"][0] > 0" \
		"$(r summary-only rtt)[\"method\"] == \"summary\" and $(r summary-only rtt)[\"verdict\"] == \"insufficient data\""
	# seeded: the same bytes again; --json - the same object on stdout, no table
	run "$COMPARE" "$T/A" "$T/B" --json "$T/c2.json"
	expect_rc 0 "--json FILE, again" || return
	cmp -s "$T/c1.json" "$T/c2.json" || fail "two runs wrote different JSON (not reproducible)"
	run "$COMPARE" "$T/A" "$T/B" --json "$T/c3.json" --seed 2
	expect_rc 0 "--seed 2" || return
	jcheck "$T/c3.json" 'd["seed"] == 2'
	[ "$(jget "$T/c1.json" "$(r lat-wide rtt)['ci_pct']")" != "$(jget "$T/c3.json" "$(r lat-wide rtt)['ci_pct']")" ] ||
		fail "--seed 2 gave the same lat-wide interval as seed 1: the seed is not used"
	run "$COMPARE" "$T/A" "$T/B" --json -
	expect_rc 0 "--json -" || return
	cmp -s "$T/c1.json" "$T/out" || fail "--json - differs from --json FILE: $(head -c 200 "$T/out")"
	rm -f "$T/c1.json" "$T/c2.json" "$T/c3.json"
}

# 3 + 3 repeats cannot reach p <= 0.05 (smallest p 0.1), but can reach p <= 0.1
case_alpha() {
	setup || return
	run "$COMPARE" "$T/A" "$T/B" --alpha 0.1
	expect_rc 0 "--alpha 0.1" || return
	table_row lat-3reps rtt mann-whitney slower
	grep -q -E '^ID .* 90% CI ' "$T/out" || fail "--alpha 0.1: the header does not say 90% CI"
	run "$COMPARE" "$T/A" "$T/B" --alpha=0.1 --json -
	expect_rc 0 "--alpha=0.1 --json -" || return
	jcheck "$T/out" 'abs(d["confidence"] - 0.9) < 1e-12' "$(r lat-3reps rtt)[\"verdict\"] == \"slower\""
	run "$COMPARE" "$T/A" "$T/B" --method bootstrap --json -
	expect_rc 0 "--method bootstrap" || return
	jcheck "$T/out" "$(r lat-reps rtt)[\"verdict\"] == \"insufficient data\"" \
		"$(r lat-slow rtt)[\"verdict\"] == \"slower\""
}

case_errors() {
	setup || return
	one_line_error "missing folder A" "$T/no-such-folder" "$T/B"
	grep -q 'no such folder' "$T/err" || fail "missing folder: '$(head -n 1 "$T/err")'"
	one_line_error "missing folder B" "$T/A" "$T/no-such-folder"
	one_line_error "folder without runs/" "$T/norun" "$T/B"
	grep -q 'no runs/' "$T/err" || fail "no runs/: '$(head -n 1 "$T/err")'"
	one_line_error "a file, not a folder" "$T/A/runs/tput.json" "$T/B"
	one_line_error "no common runs" "$T/A" "$T/C"
	grep -q 'no run ID in both' "$T/err" || fail "no common runs: '$(head -n 1 "$T/err")'"
	one_line_error "empty runs/" "$T/empty" "$T/B"
	one_line_error "one folder only" "$T/A"
	one_line_error "three folders" "$T/A" "$T/B" "$T/C"
	one_line_error "--alpha 0.7" "$T/A" "$T/B" --alpha 0.7
	one_line_error "--alpha abc" "$T/A" "$T/B" --alpha abc
	one_line_error "--alpha without a value" "$T/A" "$T/B" --alpha
	one_line_error "unknown option" "$T/A" "$T/B" --bogus
	one_line_error "unwritable --json" "$T/A" "$T/B" --json "$T/no-such-folder/x.json"
}

# an unreadable run and a garbage histogram: a warning, the rest compared, no bootstrap
# verdict from the garbage, no traceback
case_corrupt() {
	setup || return
	rm -rf "$T/D"
	cp -r "$T/B" "$T/D"
	printf '{"schema": "ipclab-result/1", "results": {' >"$T/D/runs/lat-same.json"
	printf '# histogram: rtt\nnot\tnumbers\n\x00\xff\n' >"$T/D/hist/lat-slow.tsv"
	run "$COMPARE" "$T/A" "$T/D" --json -
	expect_rc 0 "a corrupt run in B" || return
	no_traceback
	if [ "$(lines "$T/err")" -ne 1 ] || ! grep -q '^ipclab-compare: warning: .*lat-same.json' "$T/err"; then
		fail "want one warning naming lat-same.json, got: $(paste -sd'|' "$T/err")"
	fi
	jcheck "$T/out" '"lat-same" in d["only_in_a"]' \
		"$(r lat-slow rtt)[\"method\"] != \"bootstrap\"" \
		"$(r lat-reps rtt)[\"verdict\"] == \"slower\""
	rm -rf "$T/D"
}

case_help() {
	run "$COMPARE" --help
	expect_rc 0 "--help" || return
	grep -q '^usage: .*ipclab-compare A B' "$T/out" || fail "--help: no usage line"
	local w
	for w in bootstrap Mann-Whitney 'insufficient data'; do
		grep -q "$w" "$T/out" || fail "--help does not mention '$w'"
	done
}

run_case "compare: table verdicts (bootstrap, Mann-Whitney, insufficient data)" case_table
run_case "compare: --json rows, CIs, reproducible" case_json
run_case "compare: --alpha and --method" case_alpha
run_case "compare: bad input exits 2 with one stderr line" case_errors
run_case "compare: corrupt run and histogram" case_corrupt
run_case "compare: --help" case_help
finish
