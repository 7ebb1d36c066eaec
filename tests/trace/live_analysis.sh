#!/bin/bash
# live_analysis.sh - scripts/ipclab-analyze --live URL on a run streamed live to a relay
# daemon (scripts/ipclab-trace --relayd R --live), on the loopback of a network namespace
# this script creates (so its fixed ports never meet anyone else's):
# the wrapper attaches while the traced command is held (a FIFO: attached, and through
# its first read pass of the session's streams, before any event; exact, not timed), prints the sink's rolling summary lines while ipc latency,
# signal latency and sync handoff run, and ends with exit 0 when the traced run ends
# (ipclab-trace destroys the session); its result equals the offline analysis of the
# relay daemon's stored copy of the session, member for member, counts exact, and its
# final summary is the offline summary. An unknown session and an unreachable relay are
# exit 3 and one line; a URL that is not a session's, exit 2 and one line; a relay daemon
# killed while the reader follows a run, exit 1 and one line (the stream was lost). Nothing is left
# (relay daemon, babeltrace2 reader). No assertion on how many rolling lines a second
# gives: that is timing.
# Needs root (namespaces), LTTng (lttng-relayd) and babeltrace2 with the ipclab plugin.
# Usage: tests/trace/live_analysis.sh BUILD_DIR
TL_PRIVATE_NET=1 # tests/lib.sh: also a network namespace with only the loopback up
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRACE=$REPO/scripts/ipclab-trace
ANALYZE=$REPO/scripts/ipclab-analyze
PLUGIN_DIR=$TL_BUILD/lib/babeltrace2/plugins
PROVIDER=$TL_BUILD/lib/libipclab-tp.so
PC=5342 PD=5343 PL=5344 # LTTng's default ports, ours alone in this network namespace
RELAYD='' TRACED='' READER='' SESSION='' HOST=''
STARTED=() # every PID start_live started, for case_nothing_left
URL=net://127.0.0.1:$PC:$PD
LIVE=net://127.0.0.1:$PL
N=1000
NSIG=200

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
all_listening() { listening "$PC" && listening "$PD" && listening "$PL"; }
held() { [ -e "$T/held" ]; }
# announced: ipclab-trace said which session it streams (sets SESSION and HOST)
announced() {
	local l
	l=$(grep -m1 "streaming to $URL: session .* of host .* (live)" "$T/trace.err") || return 1
	l=${l#*: session }
	SESSION=${l%% of host *}
	l=${l#* of host }
	HOST=${l% (live)}
}
# attached: the relay daemon counts a viewer on our session
attached() {
	env -u LD_PRELOAD babeltrace2 query source.ctf.lttng-live sessions -p "url=\"$LIVE\"" 2>/dev/null |
		grep -A1 'client-count: [1-9]' | grep -q "session-name: $SESSION\$"
}

# start_live TAG CMD...: our relay daemon, a live traced run of CMD held at the FIFO
# T/TAG.go (ipclab-trace --relayd --live), ipclab-analyze --live attached to its session
# (PIDs in RELAYD, TRACED, READER; the reader's output in T/TAG.out, T/TAG.err,
# T/TAG.json). The caller releases the FIFO.
start_live() {
	local tag=$1
	shift
	bg_start RELAYD "$T/relayd.out" "$T/relayd.err" lttng-relayd -C "tcp://127.0.0.1:$PC" -D "tcp://127.0.0.1:$PD" \
		-L "tcp://127.0.0.1:$PL" -o "$T/relay"
	poll_until 30 all_listening || {
		fail "lttng-relayd did not listen: $(head -c 300 "$T/relayd.err")"
		return 1
	}
	mkfifo "$T/$tag.go"
	rm -f "$T/held"
	# shellcheck disable=SC2016 # expanded by the traced bash
	bg_start TRACED "$T/trace.out" "$T/trace.err" "$TRACE" --relayd "$URL" --live --provider "$PROVIDER" -- \
		bash -c ': >"$0/held"; read -r _ <"$1"; shift 2; "$@"' "$T" "$T/$tag.go" -- "$@"
	poll_until 120 held || {
		fail "the traced command never started: $(head -c 300 "$T/trace.err")"
		return 1
	}
	announced || {
		fail "ipclab-trace did not say which session it streams: $(head -c 300 "$T/trace.err")"
		release "$T/$tag.go"
		return 1
	}
	echo "# $tag: session $SESSION of host $HOST"
	bg_start READER "$T/$tag.out" "$T/$tag.err" "$ANALYZE" --live "$LIVE/host/$HOST/$SESSION" \
		--plugin-path "$PLUGIN_DIR" --json "$T/$tag.json"
	poll_until 60 attached || {
		fail "ipclab-analyze --live did not attach: $(head -c 300 "$T/$tag.err")"
		release "$T/$tag.go"
		return 1
	}
	# its first summary line: the sink's second consume call, so the reader has been
	# through one read pass of the session's streams (ipclab-trace --live made them
	# before it ran the command) while the session was open; a reader that had not yet
	# asked for them when the session closes gets a hang-up and nothing (lttng-relayd
	# 2.13, babeltrace2 2.0: README "Many machines")
	poll_until 60 grep -q '^ipclab analysis: +' "$T/$tag.out" || {
		fail "ipclab-analyze --live printed no summary line: $(head -c 300 "$T/$tag.err")"
		release "$T/$tag.go"
		return 1
	}
}

# stop_live: end what start_live started and still runs, by PID: the reader, the traced
# run (ipclab-trace tears its session down on SIGTERM), the relay daemon; idempotent,
# so every exit path of a case calls it and no relay daemon is left on our ports
stop_live() {
	local p
	for p in "$READER" "$TRACED" "$RELAYD"; do
		if [ -z "$p" ] || ! running "$p"; then
			continue
		fi
		kill -TERM "$p" 2>/dev/null
		wait_exit "$p" 60 || fail "pid $p did not end within 60 s of SIGTERM (killed)"
	done
	STARTED+=("$READER" "$TRACED" "$RELAYD")
	READER='' TRACED='' RELAYD=''
}

# record: a live run followed by the reader, then the offline analysis of the relay
# daemon's copy; whatever the outcome, nothing of the live run is left running
record() {
	local rc
	record_live
	rc=$?
	stop_live
	return "$rc"
}

record_live() {
	local missing
	missing=$(for t in lttng babeltrace2; do command -v "$t" >/dev/null 2>&1 || echo "$t"; done)
	[ -z "$missing" ] || { fail "not installed (scripts/deps installs them): $missing"; return 1; }
	[ -f "$PLUGIN_DIR/babeltrace-plugin-ipclab.so" ] || { fail "no plugin at $PLUGIN_DIR"; return 1; }
	# shellcheck disable=SC2016 # expanded by the traced bash
	start_live live bash -c '"$1" ipc latency --iterations "$2" --mode thread --cpu 0 --json="$0/lat.json" --quiet &&
		"$1" signal latency --iterations "$3" --json="$0/sig.json" --quiet &&
		"$1" sync handoff --iterations "$3" --json="$0/hand.json" --quiet' "$T" "$IPCLAB" "$N" "$NSIG" || return 1
	# a session the relay does not serve: exit 3, one line naming it
	run "$ANALYZE" --live "$LIVE/host/$HOST/nosuchsession" --plugin-path "$PLUGIN_DIR"
	expect_rc 3 "ipclab-analyze --live (unknown session)"
	{ [ "$(lines "$T/err")" -eq 1 ] && grep -q "no live session nosuchsession of host $HOST at $LIVE" "$T/err"; } ||
		fail "unknown session: want one line naming it, got: $(head -c 300 "$T/err")"
	release "$T/live.go"
	wait_exit "$TRACED" 300
	[ "$RC" = 0 ] || fail "the traced run: exit $RC: $(tail -n 3 "$T/trace.err" | paste -sd'|')"
	wait_exit "$READER" 120
	[ "$RC" = 0 ] || {
		fail "ipclab-analyze --live: exit $RC when the session ended: $(tail -n 3 "$T/live.err" | paste -sd'|')"
		return 1
	}
	stop_live # the relay daemon's copy is whole once it has ended
	local dir
	dir=$(compgen -G "$T/relay/$HOST/$SESSION*") || dir=
	[ -d "$dir" ] || {
		fail "the relay daemon stored no trace of $SESSION: $(find "$T/relay" -maxdepth 2 | head -c 300)"
		return 1
	}
	run "$ANALYZE" --plugin-path "$PLUGIN_DIR" "$dir" --json "$T/offline.json"
	expect_rc 0 "ipclab-analyze on the relay daemon's trace" || return 1
	cp "$T/out" "$T/offline.out"
	rm -rf "$T/relay"
}

# the relay daemon dies while the reader follows a held run: the reader ends with exit 1
# and one line saying the live stream was lost; then the run (exit 1: its stream is lost)
case_relay_killed() {
	start_live lost "$IPCLAB" ipc latency --iterations "$N" --quiet || {
		stop_live
		return
	}
	kill -KILL "$RELAYD"
	wait_exit "$RELAYD" 20
	wait_exit "$READER" 120
	[ "$RC" = 1 ] || fail "ipclab-analyze --live: exit $RC after the relay died, want 1: $(head -c 300 "$T/lost.err")"
	{ [ "$(lines "$T/lost.err")" -eq 1 ] && grep -q "the live stream was lost" "$T/lost.err"; } ||
		fail "want one line 'the live stream was lost', got: $(head -c 300 "$T/lost.err")"
	release "$T/lost.go"
	wait_exit "$TRACED" 120
	[ "$RC" = 1 ] || fail "the traced run: exit $RC, want 1 (stream lost)"
	stop_live
	rm -rf "$T/relay"
	return 0
}

# the live result is the offline one, member for member, and it is complete
case_equal() {
	jcheck "$T/live.json" "d == json.load(open('$T/offline.json'))" \
		'd["complete"] and not d["incomplete_streams"] and not d["warnings"] and not d["discarded_events"]'
}

# counts exact against the experiments' own results: every message (warm-up included)
# sent and matched, the measured ones per direction as the experiment counted them,
# every signal, every hand-over
case_counts() {
	"$PY" - "$T" "$N" "$NSIG" >"$T/counts.out" <<'PY'
import json, sys
t, n, nsig = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
live, lat, sig = (json.load(open("%s/%s.json" % (t, f))) for f in ("live", "lat", "sig"))
m, s = live["messages"], live["signals"]
sent = 2 * (n + lat["params"]["warmup"])
if not m["sends"] == m["recvs"] == m["matched"] == sent:
    print("messages: %d sent, %d received, %d matched; the run sent %d" % (m["sends"], m["recvs"], m["matched"], sent))
if sorted(x["latency_measured"]["count"] for x in m["by_direction"]) != [n, n]:
    print("measured per direction: %s, want %d each" % ([x["latency_measured"]["count"] for x in m["by_direction"]], n))
if not s["sends"] == s["matched"] == sig["results"]["signals_per_repeat"]:
    print("signals: %d sent, %d matched; the run sent %d" % (s["sends"], s["matched"], sig["results"]["signals_per_repeat"]))
hand = [l["experiment"]["count"] for l in live["locks"]["locks"] if (l["lock"], l["kind"]) == (1, "mutex")]
if hand != [nsig]:
    print("hand-overs timed: %s, want [%d]" % (hand, nsig))
PY
	[ ! -s "$T/counts.out" ] || fail "$(head -n 3 "$T/counts.out" | paste -sd'|')"
}

# stdout: rolling lines (the sink's), its final line, then the offline summary
case_output() {
	local rolling
	rolling=$(grep -c '^ipclab analysis: ' "$T/live.out")
	grep -vq '^ipclab analysis: \(final\|+[0-9.]*s\)\( [[:alnum:]_.]*=[0-9.]*\(/s\)\?\)*$' <(grep '^ipclab analysis: ' "$T/live.out") &&
		fail "malformed summary line: $(grep '^ipclab analysis: ' "$T/live.out" | head -n 1)"
	grep -q '^ipclab analysis: final .*messages=' "$T/live.out" || fail "no final summary line"
	# after the summary lines: the offline summary, but for the line naming what was read
	diff <(grep -v '^ipclab analysis: ' "$T/live.out" | grep -v '^trace: ') \
		<(grep -v '^trace: ' "$T/offline.out") >"$T/diff" || fail "the final summary differs from the offline one: $(head -n 4 "$T/diff" | paste -sd'|')"
	[ ! -s "$T/live.err" ] || fail "stderr not empty: $(head -c 200 "$T/live.err")"
	echo "# $rolling summary lines; final: $(grep -m1 '^ipclab analysis: final' "$T/live.out" | cut -c1-120)"
}

# the relay daemon and every reader are gone
case_nothing_left() {
	local p
	for p in "${STARTED[@]}"; do
		[ -z "$p" ] || ! running "$p" || fail "still running: pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-80))"
	done
	# Only a reader in our network namespace is ours: a run of this script in another
	# checkout, at the same time, reads the same URL in its own namespace (the ports are
	# fixed), and pgrep sees every process (seen: two make check runs side by side).
	local net left=''
	net=$(readlink /proc/self/ns/net)
	for p in $(pgrep -f "source.ctf.lttng-live.*$LIVE" || true); do
		[ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$net" ] && left="$left $p"
	done
	[ -z "$left" ] || fail "a babeltrace2 reader was left: pid$left"
	return 0
}

# nothing listening: exit 3, one line naming the relay; not a session URL: exit 2
case_unreachable() {
	run "$ANALYZE" --live "$LIVE/host/h/s" --plugin-path "$PLUGIN_DIR"
	expect_rc 3 "ipclab-analyze --live (nothing listening)"
	[ "$(lines "$T/err")" -eq 1 ] || fail "$(lines "$T/err") lines on stderr, want 1: $(head -c 300 "$T/err")"
	grep -q "relay daemon unreachable at $LIVE" "$T/err" || fail "the line does not name the relay: $(head -c 200 "$T/err")"
	local a
	for a in "http://127.0.0.1/host/h/s" "net://127.0.0.1:$PL/host/h" "net://"; do
		run "$ANALYZE" --live "$a" --plugin-path "$PLUGIN_DIR"
		expect_rc 2 "ipclab-analyze --live $a"
		[ "$(lines "$T/err")" -eq 1 ] || fail "--live $a: $(lines "$T/err") lines on stderr, want 1"
	done
	return 0
}

if [ "$(id -u)" -ne 0 ] || [ "${TL_IN_NS:-}" != 2 ] || ! command -v lttng-relayd >/dev/null 2>&1; then
	for c in record equal counts output relay_killed nothing_left unreachable; do
		skip_case "live_analysis_$c" "needs root, a private network namespace and lttng-relayd"
	done
	finish
fi
mkdir -m 0700 "$T/cwd" && cd "$T/cwd" || exit 2
if run_case live_analysis_record record && [ "$TL_FAIL" -eq 0 ]; then
	run_case live_analysis_equal case_equal
	run_case live_analysis_counts case_counts
	run_case live_analysis_output case_output
else
	for c in equal counts output; do
		notok_case "live_analysis_$c" "no live session was analysed"
	done
fi
run_case live_analysis_relay_killed case_relay_killed
run_case live_analysis_nothing_left case_nothing_left
run_case live_analysis_unreachable case_unreachable
finish
