#!/bin/bash
# signal_bus.sh - "ipclab signal bus", the driver/conductor homework, end to end:
#   * interactive, in a real pseudo-terminal (pty_bus.py: a new session whose controlling
#     terminal has ISIG on): ^C ^\ ^C ^Z typed one at a time, each after the previous
#     line appeared; exact lines in order (zh and en), the conductor reaped and reported
#     before the driver exits 0, nothing left in the session; the watchdog on a bus that
#     gets no keys;
#   * --script: the same without a terminal, in its own process group, JSON checked;
#   * bad --script / --lang values: exit 2, one line on stderr; no terminal: exit 4.
# Usage: tests/integration/signal_bus.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PTY_BUS=$REPO/tests/integration/pty_bus.py
ZH=("老司机开车了" "车速有点快，系好安全带" "到站了请下车")
EN=("The old driver is starting the bus" "We're going a bit fast, fasten your seat belts"
	"We've arrived at the station, please get off")

# gone PID: true when PID no longer exists (or is a zombie about to be reaped)
gone() {
	local s
	s=$(proc_state "$1")
	[ -z "$s" ] || [ "$s" = Z ]
}

# case_pty LANG KEYS: the interactive bus in a pseudo-terminal, JSON written to a file
case_pty() {
	local out rc=0
	out=$(timeout -k 5 120 "$PY" "$PTY_BUS" "$IPCLAB" --lang "$1" --keys "$2" --json "$T/pty.json" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || fail "pty_bus.py --lang $1 --keys $2 (exit $rc): $out"
	[ "$rc" -ne 0 ] || jcheck "$T/pty.json" "${ENVELOPE[@]}" \
		'd["params"]["mode"] == "interactive" and d["params"]["script"] is None' \
		'd["results"]["effect"]["shown"] is True' \
		'all(k["t_key_sent_ns"] is None for k in d["results"]["keys"])'
}

# the watchdog ends an interactive bus nobody types to: exit 1, nothing left in the session
case_pty_watchdog() {
	local out rc=0
	out=$(timeout -k 5 60 "$PY" "$PTY_BUS" "$IPCLAB" --expect-watchdog 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || fail "pty_bus.py --expect-watchdog (exit $rc): $out"
}

# bus_lines FILE: the lines of FILE that are one of the bus's lines (either language)
bus_lines() {
	grep -F -x -e "${ZH[0]}" -e "${ZH[1]}" -e "${ZH[2]}" -e "${EN[0]}" -e "${EN[1]}" -e "${EN[2]}" "$1"
}

# case_script LANG SCRIPT EXPECTED...: --script to stdout; the exact lines in order, then
# the driver's reap report, exit 0, and both roles gone
case_script() {
	local lang=$1 script=$2
	shift 2
	run "$IPCLAB" signal bus --lang "$lang" --script "$script" --timeout 30
	expect_rc 0 "signal bus --script $script" || return
	local got want
	got=$(bus_lines "$T/out")
	want=$(printf '%s\n' "$@")
	[ "$got" = "$want" ] || fail "lines: $(paste -sd'|' <<<"$got"), want $(paste -sd'|' <<<"$want")"
	# the reap report comes after the conductor's last line, and says it exited with 0
	awk -v last="$(tail -n 1 <<<"$want")" '
		$0 == last { seen = NR }
		/^driver: the conductor \(pid [0-9]+\) got off: exited with status 0; the driver \(pid [0-9]+\) leaves$/ {
			if (seen && !reap) reap = NR }
		END { exit !(seen && reap > seen) }' "$T/out" ||
		fail "no reap report after the last line: $(paste -sd'|' "$T/out")"
	grep -q 'got off first; driver [0-9]* exited with status 0$' "$T/out" ||
		fail "summary does not say the conductor got off first: $(tail -n 1 "$T/out")"
	local cpid dpid
	cpid=$(sed -n -E 's/^driver: the conductor \(pid ([0-9]+)\).*/\1/p' "$T/out")
	dpid=$(sed -n -E 's/.*the driver \(pid ([0-9]+)\) leaves$/\1/p' "$T/out")
	for p in $cpid $dpid; do
		gone "$p" || fail "process $p of the bus still exists"
	done
	grep -q 'bus ready' "$T/err" || fail "no 'bus ready' on stderr: $(head -n 2 "$T/err")"
}

# --script with --json on stdout: the lines move to stderr, the JSON records every key
case_script_json() {
	run "$IPCLAB" signal bus --lang en --script INT,QUIT,INT,TSTP --timeout 30 --json
	expect_rc 0 "signal bus --script --json" || return
	[ "$(head -c 1 "$T/out")" = "{" ] || fail "stdout does not start with the JSON object"
	local got
	got=$(bus_lines "$T/err" | paste -sd'|' -)
	[ "$got" = "${EN[0]}|${EN[1]}|${EN[0]}|${EN[2]}" ] || fail "stderr lines: $got"
	jcheck "$T/out" "${ENVELOPE[@]}" \
		'd["experiment"] == "signal bus" and d["exit_code"] == 0' \
		'd["results"]["effect"] == {"shown": True, "why": "4 keys, each caught by its role and turned into its line; the conductor got off before the driver"}' \
		'd["params"] == {"lang": "en", "script": "INT,QUIT,INT,TSTP", "mode": "script", "timeout_s": 30}' \
		'[k["key"] for k in d["results"]["keys"]] == ["INT", "QUIT", "INT", "TSTP"]' \
		'[k["key_signal"] for k in d["results"]["keys"]] == ["SIGINT", "SIGQUIT", "SIGINT", "SIGTSTP"]' \
		'[k["signal_sent"] for k in d["results"]["keys"]] == ["SIGUSR1", "SIGUSR2", "SIGUSR1", "SIGUSR1"]' \
		'[k["received_by"] for k in d["results"]["keys"]] == ["conductor"] * 3 + ["driver"]' \
		'[k["printed_by"] for k in d["results"]["keys"]] == ["driver"] * 3 + ["conductor"]' \
		"[k['line'] for k in d['results']['keys']] == ['${EN[0]}', \"${EN[1]}\", '${EN[0]}', \"${EN[2]}\"]" \
		'all(k["latency_from"] == "key_sent" and k["latency_ns"] > 0 for k in d["results"]["keys"])' \
		'all(k["t_key_sent_ns"] < k["t_key_received_ns"] <= k["t_forward_sent_ns"] < k["t_forward_received_ns"] < k["t_printed_ns"] for k in d["results"]["keys"])' \
		'all(a["t_printed_ns"] < b["t_key_sent_ns"] for a, b in zip(d["results"]["keys"], d["results"]["keys"][1:]))' \
		'd["results"]["key_to_line"]["count"] == 4' \
		'd["results"]["keys_received"] == 4 and d["results"]["lines_printed"] == 4' \
		'd["results"]["conductor_exited_first"] is True' \
		'[e["role"] for e in d["results"]["exit_order"]] == ["conductor", "driver"]' \
		'd["results"]["exit_order"][0]["t_exit_ns"] < d["results"]["exit_order"][1]["t_exit_ns"]' \
		'd["results"]["conductor_end"]["exit_status"] == 0 and d["results"]["conductor_end"]["signal"] is None' \
		'd["results"]["conductor_end"]["t_reaped_ns"] <= d["results"]["driver_end"]["t_exit_ns"] <= d["results"]["driver_end"]["t_reaped_ns"]' \
		'd["results"]["driver_end"]["exit_status"] == 0' \
		'[s["state"] for s in d["results"]["states"] if s["role"] == "driver"] == ["waiting", "driving", "speeding", "driving", "at_station", "off"]' \
		'[s["state"] for s in d["results"]["states"] if s["role"] == "conductor"] == ["selling", "announcing", "off"]' \
		'd["results"]["process_group"] == d["results"]["driver_pid"]' \
		"d['results']['process_group'] != $TL_PGID" || return
	local p
	for p in $(jget "$T/out" '" ".join(str(d["results"][k]) for k in ("driver_pid", "conductor_pid"))'); do
		gone "$p" || fail "process $p of the bus still exists"
	done
}

case_bad_script() {
	local v many
	many=$(printf 'INT,%.0s' $(seq 64))TSTP
	for v in "" INT INT,QUIT TSTP,INT TSTP,TSTP INT,,TSTP ,TSTP "INT,TSTP," FOO,TSTP "INT ,TSTP" KILL,TSTP "$many"; do
		expect_usage "$IPCLAB" signal bus --script "$v"
		grep -q -- '--script' "$T/err" || fail "--script '$v': message does not name the option"
	done
	expect_usage "$IPCLAB" signal bus --script INT,QUIT --json
	expect_usage "$IPCLAB" signal bus --script
	expect_usage "$IPCLAB" signal bus --lang fr --script TSTP
	expect_usage "$IPCLAB" signal bus --script TSTP --timeout 0
}

# no terminal and no --script: unsupported here (exit 4), said once, and in the JSON
case_no_terminal() {
	run "$IPCLAB" signal bus --timeout 30
	expect_rc 4 "signal bus without a terminal"
	[ "$(lines "$T/err")" -eq 1 ] || fail "$(lines "$T/err") lines on stderr, want 1"
	grep -q -- '--script' "$T/err" || fail "the message does not suggest --script: $(cat "$T/err")"
	run "$IPCLAB" signal bus --timeout 30 --json
	expect_rc 4 "signal bus --json without a terminal"
	jcheck "$T/out" "${ENVELOPE[@]}" 'd["exit_code"] == 4' 'd["results"]["unsupported"]'
}

# case_blocked MODE: a --script bus whose stdout is a full pipe, so the driver's first
# line blocks in write(2) and the ride hangs; MODE watchdog: --timeout 1 must end it with
# exit 1 and the watchdog's line as the only failure line; MODE conductor: the conductor
# killed meanwhile, then the output drained: the driver finds it dead, exit 1, that one
# line only (the feeder adds nothing); MODE term: SIGTERM after the 'bus ready' banner must end it by SIGTERM. Either
# way the driver and the conductor (its grandchild, in their own process group) must be
# gone - not even zombies.
case_blocked() {
	local out rc=0
	out=$("$PY" - "$IPCLAB" "$1" 2>&1 <<'EOF'
import fcntl, os, re, select, signal, subprocess, sys, time
ipclab, mode = sys.argv[1], sys.argv[2]
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, os.O_NONBLOCK)
for chunk in (4096, 1):
    try:
        while True:
            os.write(w, b"x" * chunk)
    except BlockingIOError:
        pass
fcntl.fcntl(w, fcntl.F_SETFL, 0)
args = [ipclab, "signal", "bus", "--script", "INT,QUIT,TSTP", "--timeout", "1" if mode == "watchdog" else "60"]
p = subprocess.Popen(args, stdout=w, stderr=subprocess.PIPE)
os.close(w)
err, end = b"", time.monotonic() + 20
while b"bus ready" not in err and time.monotonic() < end:
    if select.select([p.stderr], [], [], end - time.monotonic())[0]:
        chunk = os.read(p.stderr.fileno(), 4096)
        if not chunk:
            break
        err += chunk
if mode == "term" and b"bus ready" in err:
    p.send_signal(signal.SIGTERM)
if mode == "conductor":
    m = re.search(rb"conductor (\d+)", err)
    if m:
        os.kill(int(m.group(1)), signal.SIGKILL)
    fcntl.fcntl(r, fcntl.F_SETFL, os.O_NONBLOCK)
    while p.poll() is None:  # drain stdout: the driver goes on, finds its conductor dead
        select.select([r], [], [], 0.5)
        try:
            os.read(r, 65536)
        except BlockingIOError:
            pass
try:
    _, rest = p.communicate(timeout=20)
except subprocess.TimeoutExpired:
    p.kill()
    _, rest = p.communicate()
    print("did not end within 20 s")
err = (err + rest).decode()
want = -signal.SIGTERM if mode == "term" else 1
problems = []
if p.returncode != want:
    problems.append("exit %r, want %r" % (p.returncode, want))
if mode == "watchdog" and "watchdog" not in err:
    problems.append("no watchdog message")
if mode != "term" and len([l for l in err.splitlines() if "bus ready" not in l]) != 1:
    problems.append("one failure, one line")
if mode == "conductor" and not re.search(r"conductor \(pid \d+\) got off before the station: killed by signal 9", err):
    problems.append("no line saying the conductor was killed")
pids = re.findall(r"bus ready: driver (\d+), conductor (\d+)", err)
if not pids:
    problems.append("no 'bus ready' banner")
for pid in (pids[0] if pids else ()):
    try:
        with open("/proc/%s/stat" % pid) as f:
            st = f.read()
        if "(ipclab" in st:
            problems.append("left behind: " + st[:60])
    except FileNotFoundError:
        pass
if problems:
    print("; ".join(problems) + " | stderr: " + err.replace("\n", " | "))
    sys.exit(1)
EOF
) || rc=$?
	[ "$rc" -eq 0 ] || fail "blocked bus ($1), exit $rc: $out"
}

# no leak on the paths that do not fork (valgrind, when installed)
case_valgrind() {
	if ! command -v valgrind >/dev/null 2>&1; then
		skip "valgrind not installed"
		return 0
	fi
	if ldd "$IPCLAB" 2>/dev/null | grep -q -E 'lib(a|t)san'; then
		skip "a sanitizer build: valgrind cannot run it"
		return 0
	fi
	local args want
	# ARGS:EXIT - usage error, no terminal (unsupported), help, and a whole scripted ride
	# (the forked roles are not followed: --child-silent-after-fork)
	for args in "--script INT,FOO:2" "--json --timeout 5:4" "--help:0" "--script INT,QUIT,TSTP --json:0"; do
		want=${args##*:}
		args=${args%:*}
		# shellcheck disable=SC2086 # word splitting of args is wanted
		run valgrind -q --leak-check=full --error-exitcode=9 --child-silent-after-fork=yes \
			"$IPCLAB" signal bus $args
		[ "$RC" -eq "$want" ] || fail "valgrind: signal bus $args: exit $RC, want $want: $(grep -m 3 '==' "$T/err" | paste -sd'|' -)"
	done
}

run_case signal_bus_pty_zh case_pty zh IQIZ
run_case signal_bus_pty_en case_pty en IQIZ
run_case signal_bus_pty_other_order case_pty en QQIZ
run_case signal_bus_pty_watchdog case_pty_watchdog
run_case signal_bus_script_zh case_script zh INT,QUIT,INT,TSTP "${ZH[0]}" "${ZH[1]}" "${ZH[0]}" "${ZH[2]}"
run_case signal_bus_script_en case_script en QUIT,TSTP "${EN[1]}" "${EN[2]}"
run_case signal_bus_script_tstp_only case_script zh TSTP "${ZH[2]}"
run_case signal_bus_script_json case_script_json
run_case signal_bus_script_watchdog case_blocked watchdog
run_case signal_bus_script_sigterm case_blocked term
run_case signal_bus_script_conductor_killed case_blocked conductor
run_case signal_bus_bad_script case_bad_script
run_case signal_bus_no_terminal case_no_terminal
run_case signal_bus_valgrind case_valgrind
finish
