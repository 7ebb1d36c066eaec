#!/bin/bash
# relay_fleet.sh - traces streamed to an LTTng relay daemon (scripts/ipclab-trace
# --relayd) and a simulated fleet (scripts/ipclab-fleet), on the loopback of a network
# namespace this script creates (so its fixed ports never meet anyone else's):
# the relay's copy holds exactly the experiment's events (plain, live, and beside a
# local trace); an unreachable relay is exit 3 with one line and nothing left; a relay
# killed mid-run is exit 1 with a line saying the stream was lost; a fleet of 3 hosts in
# which one host's session daemon is killed mid-run reports that host as failed while
# the other two complete (results folders, relay copies per hostname, one fleet
# report), and nothing is left behind. "Mid-run" is exact, not timed: the traced
# command is held (a FIFO) until the test has killed what it kills.
# Needs root (namespaces) and LTTng (lttng-relayd).
# Usage: tests/trace/relay_fleet.sh BUILD_DIR
TL_PRIVATE_NET=1 # tests/lib.sh: also a network namespace with only the loopback up
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRACE=$REPO/scripts/ipclab-trace
COUNT=$REPO/scripts/ipclab-trace-count
FLEET=$REPO/scripts/ipclab-fleet
PROVIDER=$TL_BUILD/lib/libipclab-tp.so
PC=5342 PD=5343 PL=5344 # LTTng's default ports, ours alone in this network namespace
URL=net://127.0.0.1:$PC:$PD
N=100
LAT=("$IPCLAB" ipc latency --warmup 0 --quiet --iterations "$N")
HOST=$(hostname)

# listening PORT: true once something listens on 127.0.0.1:PORT
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_relayd OUTDIR: our relay daemon (PID in RELAYD), listening on the three ports
start_relayd() {
	bg_start RELAYD "$T/relayd.out" "$T/relayd.err" lttng-relayd -C "tcp://127.0.0.1:$PC" -D "tcp://127.0.0.1:$PD" \
		-L "tcp://127.0.0.1:$PL" -o "$1"
	poll_until 30 all_listening || { fail "lttng-relayd did not listen: $(head -c 300 "$T/relayd.err")"; return 1; }
}
all_listening() { listening "$PC" && listening "$PD" && listening "$PL"; }

stop_relayd() {
	kill -TERM "$RELAYD" 2>/dev/null
	wait_exit "$RELAYD" 20
}

# exact DIR: DIR holds exactly one traced `ipc latency -i N --warmup 0`
exact() {
	"$COUNT" "$1" --json >"$T/count.json" 2>"$T/count.err" || {
		fail "ipclab-trace-count $1: $(head -n 1 "$T/count.err")"
		return 1
	}
	jcheck "$T/count.json" 'd["complete"] is True and d["discarded_events"] == 0' \
		"d['by_name'].get('ipclab_msg:msg_send') == 2 * $N and d['by_name'].get('ipclab_msg:msg_recv') == 2 * $N" \
		'all(k.split(":")[0] in ("ipclab_msg", "ipclab_run") for k in d["by_name"])'
}

# relay_copy: the one session folder the relay filed under this host's name
relay_copy() {
	local d
	d=$(compgen -G "$T/relay/$HOST/ipclab-relay-*")
	[ "$(wc -l <<<"$d")" = 1 ] && [ -d "$d" ] && echo "$d"
}

# streamed to the relay only (plain, then live): the relay's copy is exact
case_stream() {
	local live=$1 dir
	start_relayd "$T/relay" || return
	run "$TRACE" --relayd "$URL" ${live:+"$live"} --provider "$PROVIDER" --quiet -- "${LAT[@]}"
	expect_rc 0 "ipclab-trace --relayd $URL $live"
	stop_relayd
	dir=$(relay_copy) || { fail "no single session under $T/relay/$HOST: $(find "$T/relay" -maxdepth 3 | head -c 300)"; return; }
	exact "$dir"
	local json
	json=$(compgen -G "traces/ipclab-*/ipclab-trace.json") || { fail "no ipclab-trace.json under ./traces"; return; }
	jcheck "$json" 'd["trace_dir"] is None and d["relayd"]["url"] == "'"$URL"'"' \
		'd["relayd"]["discarded_events"] == 0 and d["relayd"]["lost_packets"] == 0' \
		'd["relayd"]["stream_lost"] is False and d["warnings"] == []' \
		"d['relayd']['live_timer_us'] == $([ -n "$live" ] && echo 1000000 || echo None)"
	rm -rf traces "$T/relay"
}

# --relayd with an explicit --out: both copies exact
case_both() {
	start_relayd "$T/relay" || return
	run "$TRACE" --relayd "$URL" --out "$T/local" --provider "$PROVIDER" --quiet -- "${LAT[@]}"
	expect_rc 0 "ipclab-trace --relayd --out"
	stop_relayd
	exact "$T/local"
	exact "$(relay_copy)"
	rm -rf "$T/relay"
}

# no relay listening: exit 3, one line naming it, nothing left (no folder, no daemon)
case_unreachable() {
	run "$TRACE" --relayd "$URL" --provider "$PROVIDER" --quiet -- "${LAT[@]}"
	expect_rc 3 "ipclab-trace --relayd (nothing listening)"
	[ "$(lines "$T/err")" -eq 1 ] || fail "$(lines "$T/err") lines on stderr, want 1: $(head -c 300 "$T/err")"
	grep -q "relay daemon unreachable at $URL" "$T/err" || fail "the line does not name the relay: $(head -c 200 "$T/err")"
	[ -e traces ] && fail "left behind: ./traces ($(find traces | head -c 200))"
	run "$TRACE" --relayd "$URL" --out "$T/u" --provider "$PROVIDER" --quiet -- "${LAT[@]}"
	expect_rc 3 "ipclab-trace --relayd --out (nothing listening)"
	[ -e "$T/u" ] && fail "left behind: $T/u"
	return 0
}

# held_traced: true once the held command has registered and reached the FIFO
held() { [ -e "$T/held" ]; }

# the relay dies while the command runs: exit 1, the stream is said to be lost
case_relay_killed() {
	local p
	mkfifo "$T/go"
	start_relayd "$T/relay" || return
	# shellcheck disable=SC2016
	bg_start p "$T/k.out" "$T/k.err" "$TRACE" --relayd "$URL" --provider "$PROVIDER" --quiet -- \
		bash -c ': >"$0/held"; read -r _ <"$0/go"; exec "$@"' "$T" "${LAT[@]}"
	poll_until 60 held || { fail "the traced command never started: $(head -c 300 "$T/k.err")"; return; }
	kill -KILL "$RELAYD"
	wait_exit "$RELAYD" 10
	release "$T/go"
	wait_exit "$p" 120
	[ "$RC" = 1 ] || fail "exit $RC, want 1: $(head -c 300 "$T/k.err")"
	grep -q "stream to the relay daemon at $URL was lost" "$T/k.err" || fail "no 'stream was lost' line: $(head -c 300 "$T/k.err")"
	rm -rf traces "$T/relay" "$T/held" "$T/go"
	return 0
}

# fake_build: a build folder whose ipclab holds each host's traced `ipc latency` at a
# FIFO (HOLD/HOSTNAME.go) after saying so (HOLD/HOSTNAME.held); everything else is ours
fake_build() {
	mkdir -p "$T/fb/bin" "$T/hold"
	ln -s "$TL_BUILD/lib" "$T/fb/lib"
	ln -s "$TL_BUILD/bin/ipclab-nop" "$T/fb/bin/ipclab-nop" 2>/dev/null
	cat >"$T/fb/bin/ipclab" <<EOF
#!/bin/bash
if [ "\$1 \$2" = "ipc latency" ] && [ "\${IPCLAB_TRACE_STATUS:-}" = traced ]; then
	h=\$(hostname)
	: >"$T/hold/\$h.held"
	read -r _ <"$T/hold/\$h.go"
fi
exec "$IPCLAB" "\$@"
EOF
	chmod 755 "$T/fb/bin/ipclab"
}

# sessiond_of HOST_PID: the lttng-sessiond PIDs in the UTS namespace of HOST_PID
sessiond_of() {
	local ns p
	ns=$(readlink "/proc/$1/ns/uts") || return
	for p in $(pgrep -x lttng-sessiond); do
		[ "$(readlink "/proc/$p/ns/uts" 2>/dev/null)" = "$ns" ] && echo "$p"
	done
	return 0
}

all_held() { [ -e "$T/hold/ipclab-host1.held" ] && [ -e "$T/hold/ipclab-host2.held" ] && [ -e "$T/hold/ipclab-host3.held" ]; }

# a fleet of 3; host 2's session daemon is killed while its traced run is held
case_fleet() {
	local fl k h d pids=() sd
	fake_build
	for k in 1 2 3; do mkfifo "$T/hold/ipclab-host$k.go"; done
	printf 'lat\tipclab\tipc latency --transport pipe --mode process --iterations %s --warmup 0\n' "$N" >"$T/matrix"
	export BUILD=$T/fb # the fleet's hosts run the held build
	bg_start fl "$T/f.out" "$T/f.err" "$FLEET" --hosts 3 --matrix "$T/matrix" --ports "$PC,$PD,$PL" --out "$T/fleet"
	if ! poll_until 300 all_held; then
		fail "the three hosts' traced runs never all started: $(tail -n 3 "$T/f.err" | paste -sd'|' -)"
		for k in 1 2 3; do release "$T/hold/ipclab-host$k.go"; done
		return
	fi
	mapfile -t pids <"$T/fleet/hosts.pids"
	sd=$(sessiond_of "${pids[1]}")
	[ -n "$sd" ] || fail "host 2 has no session daemon while its traced run is held"
	# shellcheck disable=SC2086
	[ -z "$sd" ] || kill -KILL $sd
	for k in 1 2 3; do release "$T/hold/ipclab-host$k.go"; done
	wait_exit "$fl" 600
	unset BUILD
	[ "$RC" = 1 ] || fail "ipclab-fleet: exit $RC, want 1 (a host failed): $(tail -n 3 "$T/f.err" | paste -sd'|' -)"
	grep -q 'host ipclab-host2 FAILED' "$T/f.err" || fail "no line saying host 2 failed: $(tail -n 3 "$T/f.err" | paste -sd'|' -)"
	for h in ipclab-host1 ipclab-host3; do
		[ -f "$T/fleet/hosts/$h/runs/lat.json" ] || fail "$h: no results folder with runs/lat.json"
		exact "$T/fleet/hosts/$h/traces/lat"
		d=$(compgen -G "$T/fleet/relay/$h/ipclab-relay-*") || { fail "$h: nothing under the relay's $h/"; continue; }
		exact "$d"
	done
	[ -d "$T/fleet/hosts/ipclab-host2" ] || fail "host 2 has no results folder"
	jcheck "$T/fleet/fleet.json" '[h["name"] for h in d["hosts"]] == ["ipclab-host1", "ipclab-host2", "ipclab-host3"]' \
		'[h["completed"] for h in d["hosts"]] == [True, False, True]' \
		'len(d["rows"]) > 0 and all(set(r["values"]) == {"ipclab-host1", "ipclab-host3"} for r in d["rows"])' \
		'all(r["verdict"]["ipclab-host3"] in ("faster", "slower", "no change", "insufficient data") for r in d["rows"])' \
		'all(abs(r["ratio_to_first"]["ipclab-host3"] - r["values"]["ipclab-host3"] / r["values"]["ipclab-host1"]) < 1e-9 for r in d["rows"] if r["values"]["ipclab-host1"])'
	grep -q 'ipclab-host2 .*FAILED' "$T/fleet/fleet.txt" || fail "fleet.txt does not show host 2 as failed"
	for k in "${pids[@]}"; do running "$k" && fail "host process $k still runs"; done
	[ -z "$(pgrep -x lttng-relayd -P "$fl")" ] || fail "the relay daemon still runs"
	return 0
}

case_fleet_usage() {
	local a
	for a in "--hosts 0" "--hosts 17" "--ports 1,2" "--matrix /nonexistent" "--ssh h1" "--bogus"; do
		# shellcheck disable=SC2086
		run "$FLEET" $a --out "$T/fu"
		expect_rc 2 "ipclab-fleet $a"
		[ "$(lines "$T/err")" -eq 1 ] || fail "ipclab-fleet $a: $(lines "$T/err") lines on stderr, want 1"
		[ -e "$T/fu" ] && fail "ipclab-fleet $a created $T/fu"
	done
	return 0
}

if [ "$(id -u)" -ne 0 ] || [ "${TL_IN_NS:-}" != 2 ] || ! command -v lttng-relayd >/dev/null 2>&1; then
	for c in stream stream_live both unreachable relay_killed fleet fleet_usage; do
		skip_case "relay_fleet_$c" "needs root, a private network namespace and lttng-relayd"
	done
	finish
fi
mkdir -m 0700 "$T/cwd" && cd "$T/cwd" || exit 2
run_case relay_fleet_stream case_stream ""
run_case relay_fleet_stream_live case_stream --live
run_case relay_fleet_both case_both
run_case relay_fleet_unreachable case_unreachable
run_case relay_fleet_relay_killed case_relay_killed
run_case relay_fleet_fleet case_fleet
run_case relay_fleet_fleet_usage case_fleet_usage
finish
