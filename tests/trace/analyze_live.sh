#!/bin/bash
# analyze_live.sh - sink.ipclab.analyze on a live LTTng session (source.ctf.lttng-live):
# a local lttng-relayd on 127.0.0.1 with explicit ports (-C/-D/-L, -o a folder of this
# test), a live session streaming to it, the sink attached through
#   babeltrace2 run -c src:source.ctf.lttng-live (session-not-found-action=end)
#                   -c ana:sink.ipclab.analyze -p output=...,summary=...
# while ipc latency (thread mode, CPU 0), signal latency and sync handoff run; then the
# session is destroyed, which ends the live source, and the relay daemon is stopped by
# its PID. Checked: the live result is the offline analysis of the relay daemon's copy
# of the same session, member for member (complete, counts, every latency); it saw
# every message and signal (exact counts); the summary's final line gives the result's
# numbers (no test of how many rolling lines a second gives: that is timing); the relay
# daemon and the session are gone.
# The whole session runs under scripts/ipclab-trace, which holds the machine's traced-run
# lock (no other traced run records our events or adds to them).
# Needs LTTng (lttng, lttng-relayd, a session daemon): without them the cases FAIL.
# Usage: tests/trace/analyze_live.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRACE=$REPO/scripts/ipclab-trace
ANALYZE=$REPO/scripts/ipclab-analyze
PLUGIN_DIR=$TL_BUILD/lib/babeltrace2/plugins
PROVIDER=$TL_BUILD/lib/libipclab-tp.so
TRACE_TIMEOUT=${TRACE_TIMEOUT:-300}
N=2000
NSIG=300

# The live session, run by ipclab-trace as its command (its tracepoint provider preloaded:
# the experiments keep it, the LTTng tools and the reader run without it). Arguments:
# T IPCLAB PLUGIN_DIR N NSIG. Leaves T/live.json, T/summary, T/relay/; exit 0 when all
# ran. Cleans up what it started (session, reader, relay daemon) on every exit.
cat >"$T/driver" <<'EOF'
#!/bin/bash
set -u
T=$1 IPCLAB=$2 PLUGINS=$3 N=$4 NSIG=$5
session=ipclab-live-$$-$RANDOM relayd= reader= created=
bare() { env -u LD_PRELOAD "$@"; } # (not for background jobs: $! must be the process)
cleanup() {
	[ -z "$created" ] || bare timeout 30 lttng destroy "$session" >/dev/null 2>&1
	[ -z "$reader" ] || { kill -TERM "$reader" 2>/dev/null; wait "$reader" 2>/dev/null; }
	[ -z "$relayd" ] || { kill -TERM "$relayd" 2>/dev/null; wait "$relayd" 2>/dev/null; }
}
trap cleanup EXIT
die() { echo "driver: $*" >&2; exit 1; }
# until LIMIT_SECONDS CMD...: polls CMD (a condition, not a delay)
until_true() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}
listening() { # PORT...: every port listens on 127.0.0.1 (/proc/net/tcp, state 0A)
	local p
	for p in "$@"; do
		grep -qi "^ *[0-9]*: 0100007F:$(printf %04X "$p") 00000000:0000 0A" /proc/net/tcp || return 1
	done
}
relay_up() { listening "$base" "$((base + 1))" "$((base + 2))" || ! kill -0 "$relayd" 2>/dev/null; }
# a relay daemon on three free ports (another test may hold some: a few tries)
for try in 1 2 3 4 5; do
	base=$((20000 + RANDOM % 30000))
	env -u LD_PRELOAD lttng-relayd -C "tcp://127.0.0.1:$base" -D "tcp://127.0.0.1:$((base + 1))" \
		-L "tcp://127.0.0.1:$((base + 2))" -o "$T/relay" >"$T/relayd.log" 2>&1 &
	relayd=$!
	until_true 10 relay_up
	listening "$base" "$((base + 1))" "$((base + 2))" && break
	kill -TERM "$relayd" 2>/dev/null
	wait "$relayd" 2>/dev/null
	relayd=
done
[ -n "$relayd" ] || die "lttng-relayd did not listen: $(tail -n 3 "$T/relayd.log" | paste -sd'|')"
live=net://127.0.0.1:$((base + 2))
bare lttng create "$session" --live=100000 --set-url="net://127.0.0.1:$base:$((base + 1))" >"$T/lttng.log" 2>&1 ||
	die "lttng create --live failed: $(tail -n 2 "$T/lttng.log" | paste -sd'|')"
created=1
{ bare lttng enable-event -u 'ipclab_*' -s "$session" && bare lttng add-context -u -t vpid -t vtid -s "$session" &&
	bare lttng start "$session"; } >>"$T/lttng.log" 2>&1 || die "lttng setup failed"
host=$(bare babeltrace2 query source.ctf.lttng-live sessions -p "url=\"$live\"" 2>/dev/null |
	sed -n "s|.*url: $live/host/\\(.*\\)/$session\$|\\1|p")
[ -n "$host" ] || die "the relay daemon does not list $session"
env -u LD_PRELOAD babeltrace2 --plugin-path="$PLUGINS" run -c src:source.ctf.lttng-live \
	-p "inputs=[\"$live/host/$host/$session\"],session-not-found-action=\"end\"" \
	-c ana:sink.ipclab.analyze -p "output=\"$T/live.json\",summary=\"$T/summary\"" -x src:ana \
	>"$T/reader.out" 2>"$T/reader.err" &
reader=$!
attached() {
	bare babeltrace2 query source.ctf.lttng-live sessions -p "url=\"$live\"" 2>/dev/null |
		grep -A1 'client-count: [1-9]' | grep -q "session-name: $session\$" && kill -0 "$reader" 2>/dev/null
}
until_true 30 attached || die "the live reader did not attach: $(tail -n 3 "$T/reader.err" | paste -sd'|')"
"$IPCLAB" ipc latency --iterations "$N" --mode thread --cpu 0 --json="$T/lat.json" --quiet &&
	"$IPCLAB" signal latency --iterations "$NSIG" --json="$T/sig.json" --quiet &&
	"$IPCLAB" sync handoff --iterations "$NSIG" --json="$T/hand.json" --quiet || die "an experiment failed"
bare lttng stop "$session" >>"$T/lttng.log" 2>&1 && bare lttng destroy "$session" >>"$T/lttng.log" 2>&1 ||
	die "lttng stop/destroy failed"
created=
reader_gone() { ! kill -0 "$reader" 2>/dev/null; }
until_true 60 reader_gone || die "the live reader did not end with the session"
wait "$reader" || die "the live reader failed: $(tail -n 3 "$T/reader.err" | paste -sd'|')"
reader=
EOF

record() {
	local tool
	for tool in lttng lttng-relayd babeltrace2; do
		command -v "$tool" >/dev/null 2>&1 || {
			fail "$tool is not installed (scripts/deps installs it)"
			return 1
		}
	done
	[ -f "$PLUGIN_DIR/babeltrace-plugin-ipclab.so" ] || {
		fail "no plugin at $PLUGIN_DIR"
		return 1
	}
	RUN_TIMEOUT=$TRACE_TIMEOUT run "$TRACE" --out "$T/local" --name ipclablive --provider "$PROVIDER" --quiet -- \
		bash "$T/driver" "$T" "$IPCLAB" "$PLUGIN_DIR" "$N" "$NSIG"
	expect_rc 0 "the live session (driver: $(tail -n 2 "$T/err" | paste -sd'|'))" || return 1
	jcheck "$T/local/ipclab-trace.json" 'd["traced"] is True' || return 1
	[ -s "$T/live.json" ] || {
		fail "the live reader wrote no result"
		return 1
	}
	local dir
	dir=$(find "$T/relay" -name metadata -printf '%h\n' | head -n 1)
	[ -n "$dir" ] || {
		fail "the relay daemon wrote no trace under $T/relay"
		return 1
	}
	run "$ANALYZE" --plugin-path "$PLUGIN_DIR" "$(dirname "$(dirname "$(dirname "$(dirname "$dir")")")")" \
		--json "$T/offline.json" --quiet
	expect_rc 0 "ipclab-analyze on the relay daemon's trace"
}

# the live result is the offline one, member for member
case_equal() {
	jcheck "$T/live.json" "d == json.load(open('$T/offline.json'))" 'd["complete"] is True' \
		'd["incomplete_streams"] == [] and d["warnings"] == []'
}

# every message, signal and hand-over of the session was seen live
case_counts() {
	local w ws
	w=$(jget "$T/lat.json" 'd["params"]["warmup"]')
	ws=$(jget "$T/sig.json" 'd["results"]["signals_per_repeat"]')
	jcheck "$T/live.json" "d['messages']['matched'] == d['messages']['sends'] == 2 * ($N + $w)" \
		"d['signals']['matched'] == d['signals']['sends'] == $ws" \
		"next(l for l in d['locks']['locks'] if (l['lock'], l['kind']) == (1, 'mutex'))['experiment']['count'] == $NSIG"
}

# the summary's lines parse; its final line gives the result's numbers
case_summary() {
	"$PY" - "$T/summary" "$T/live.json" >"$T/sum.out" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
d = json.load(open(sys.argv[2]))
bad = [l for l in lines if not re.match(r"ipclab analysis: (final|\+[0-9.]+s)( [\w.]+=[0-9.]+(/s)?)+$", l)]
if bad or not lines or not lines[-1].startswith("ipclab analysis: final"):
    print("malformed summary: %r" % (bad or lines[-1:]))
    sys.exit(0)
got = dict(kv.split("=") for kv in lines[-1].split()[3:])
want = {"messages": d["messages"]["matched"], "signals": d["signals"]["matched"],
        "lock_waits": sum(l["wait"]["count"] for l in d["locks"]["locks"])}
for x in d["messages"]["by_direction"]:
    for p in ("p50", "p99"):
        want["%s.%d.%s" % (x["transport"], x["direction"], p)] = x["latency_measured"][p]
for x in d["signals"]["by_signo"]:
    for p in ("p50", "p99"):
        want["sig%d.%s" % (x["signo"], p)] = x["latency"][p]
for l in d["locks"]["locks"]:
    for p in ("p50", "p99"):
        want["lock%d.%s.wait.%s" % (l["lock"], l["kind"], p)] = l["wait"][p]
for k, v in want.items():
    if str(v) != got.get(k):
        print("final summary %s=%s, result %s" % (k, got.get(k), v))
PY
	[ ! -s "$T/sum.out" ] || fail "$(head -n 3 "$T/sum.out" | paste -sd'|')"
	echo "# summary: $(wc -l <"$T/summary") lines; final: $(tail -n 1 "$T/summary" | cut -c1-160)"
}

# the relay daemon (found by its -o folder, ours) and the live session are gone
case_nothing_left() {
	local left
	left=$(pgrep -f -- "-o $T/relay" || true)
	[ -z "$left" ] || fail "lttng-relayd still running: pid $left"
	if timeout 20 lttng --no-sessiond list 2>/dev/null | grep -q 'ipclab-live-'; then
		fail "a live session was left: $(lttng --no-sessiond list 2>/dev/null | grep 'ipclab-live-' | head -n 1)"
	fi
}

if run_case analyze_live_record record && [ "$TL_FAIL" -eq 0 ]; then
	run_case analyze_live_nothing_left case_nothing_left
	run_case analyze_live_equal case_equal
	run_case analyze_live_counts case_counts
	run_case analyze_live_summary case_summary
else
	for c in nothing_left equal counts summary; do
		notok_case "analyze_live_$c" "no live session was analysed"
	done
fi
finish
