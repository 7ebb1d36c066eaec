#!/bin/bash
# task_memory.sh - "ipclab task spawn" as the creator's resident memory grows: the sweep
# measures fork and pthread at 1..1024 MiB (points above MemAvailable/2 skipped and
# listed), every variant reaps what it spawned, fork gets slower with memory while the
# creator's RSS really is that large; --hugepages works or says why not (exit 4 / a note);
# a failed mapping exits 3 naming MemAvailable; nothing is left behind.
# Usage: tests/integration/task_memory.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# the sweep: points, variants, exact counts per variant, fork grows with memory
case_sweep() {
	run "$IPCLAB" task spawn --sweep --hugepages --iterations 6 --warmup 1 --budget-ms 300 --json --quiet
	expect_rc 0 "task spawn --sweep --hugepages" || return
	jcheck "$T/out" "${ENVELOPE[@]}" \
		'd["params"]["sweep"] is True and d["params"]["budget_ms"] == 300' \
		'[p["touch_mb"] for p in d["results"]["points"]] + [s["touch_mb"] for s in d["results"]["skipped"]] == [1, 4, 16, 64, 256, 1024]' \
		'all(s["touch_mb"] * 1024 > d["results"]["mem_available_kb"] / 2 for s in d["results"]["skipped"])' \
		'all([(v["method"], v["backing"]) for v in p["variants"]][:2] == [("fork", "4k"), ("pthread", "4k")] for p in d["results"]["points"])' \
		'all(len(p["variants"]) == 3 or "huge_unsupported" in p for p in d["results"]["points"])' \
		'all(v["backing"] in ("hugetlb", "thp") and (v["anon_huge_kb"] > 0 or v["hugetlb_kb"] > 0) for p in d["results"]["points"] for v in p["variants"][2:])' \
		'all(3 <= v["measured"] <= 6 and v["spawned"] == v["started"] == v["exited_ok"] == v["reaped"] == v["measured"] + 1 for p in d["results"]["points"] for v in p["variants"])' \
		'all(v["to_reaped"]["count"] == v["measured"] for p in d["results"]["points"] for v in p["variants"])' \
		'all(v["parent_rss_kb"] >= p["touch_mb"] * 1024 for p in d["results"]["points"] for v in p["variants"])' \
		'all(c["pass"] for c in d["results"]["checks"]) and len(d["results"]["checks"]) >= 3 * 2 * len(d["results"]["points"])'
	# (how much slower fork gets with the parent's size is a timing result: make bench
	# shows it; here only the growth ratios' definition: largest point over the sweep's minimum)
	jcheck "$T/out" \
		'"fork_4k" in d["results"]["reaped_p50_growth"] and "pthread_4k" in d["results"]["reaped_p50_growth"]' \
		'all(g >= 1 for g in d["results"]["reaped_p50_growth"].values())'
}

# one point with huge pages: exit 0 with huge pages really used, or exit 4 saying why
case_huge_single() {
	run "$IPCLAB" task spawn --touch-mb 8 --hugepages --iterations 10 --warmup 1 --json --quiet
	if [ "$RC" -eq 4 ]; then
		jcheck "$T/out" 'd["exit_code"] == 4' 'isinstance(d["results"]["unsupported"], str)'
		return
	fi
	expect_rc 0 "--touch-mb 8 --hugepages" || return
	jcheck "$T/out" 'd["results"]["backing"] in ("hugetlb", "thp")' \
		'd["results"]["anon_huge_kb"] > 0 or d["results"]["hugetlb_kb"] > 0' \
		'd["results"]["reaped"] == 11'
}

# a mapping that fails (address-space limit): exit 3, the message names MemAvailable
case_no_memory() {
	if [ -n "$ASAN_RT" ]; then
		skip "ASan build: its shadow memory needs terabytes of address space, so an address-space limit (prlimit --as) stops it first"
		return
	fi
	run prlimit --as=300000000 "$IPCLAB" task spawn --touch-mb 512 --iterations 3 --json
	expect_rc 3 "--touch-mb 512 under a 300 MB address-space limit" || return
	grep -q 'MemAvailable' "$T/err" || fail "the message does not name MemAvailable: $(head -n 1 "$T/err")"
	jcheck "$T/out" 'd["exit_code"] == 3' 'd["results"]["mem_available_kb"] > 0'
}

# pthread does not copy the address space: the same 256 MiB, no reason to be slow
case_thread_flat() {
	run "$IPCLAB" task spawn --method pthread --touch-mb 256 --iterations 50 --warmup 5 --json --quiet
	expect_rc 0 "--method pthread --touch-mb 256" || return
	jcheck "$T/out" 'd["results"]["reaped"] == 55' 'd["results"]["parent_rss_kb"] >= 256 * 1024'
}

run_case task_memory_sweep with_orphan_check case_sweep
run_case task_memory_huge_single with_orphan_check case_huge_single
run_case task_memory_no_memory with_orphan_check case_no_memory
run_case task_memory_thread_flat with_orphan_check case_thread_flat
finish
