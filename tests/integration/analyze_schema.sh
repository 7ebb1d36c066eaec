#!/bin/bash
# analyze_schema.sh - one event schema: the tracepoint definitions in trace/ipclab_*.h are
# the source of truth (tests/fixtures/schema.py parses them), and everything else that
# names ipclab events or fields agrees with them:
#   the synthetic trace generator (tests/fixtures/synth.py EVENTS: every event, its fields
#   in order, their types), the sink's event specs (src/analyze/decode.c specs[]: every
#   event has one, each field it reads exists with its kind), the LAMI tables
#   (scripts/ipclab_tools/lami.py, read only: every result key it reads is in the
#   analysis of the synthetic trace, every event its titles name exists); the Trace
#   Compass XML is checked with the same parser by analyze_xml.sh.
# The checker is itself checked: a field or an event renamed in a copy of trace/*.h is
# reported by each check that must see it. No LTTng needed.
# Usage: tests/integration/analyze_schema.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SCHEMA=$REPO/tests/fixtures/schema.py
BT2PY=/usr/bin/python3 # the interpreter with the bt2 bindings (python3-bt2)
PLUGIN_DIR=$TL_BUILD/lib/babeltrace2/plugins

# agree REPO WHAT...: the checker finds no disagreement (its lines otherwise)
agree() {
	run "$BT2PY" "$SCHEMA" "$@"
	[ "$RC" -eq 0 ] || fail "schema.py $2: exit $RC: $(head -c 400 "$T/out" | paste -sd'|')"
}

case_synth() { agree "$REPO" --synth; }
case_specs() { agree "$REPO" --specs; }

case_lami() {
	[ -f "$PLUGIN_DIR/babeltrace-plugin-ipclab.so" ] || {
		fail "no plugin at $PLUGIN_DIR"
		return
	}
	run "$BT2PY" "$REPO/tests/fixtures/synth.py" --analyze "$T/synth.json" --plugin-dir "$PLUGIN_DIR"
	expect_rc 0 "synth.py --analyze" || return
	agree "$REPO" --lami "$T/synth.json"
}

# copy_repo: the files the checker reads, in $T/repo
copy_repo() {
	rm -rf "$T/repo"
	mkdir -p "$T/repo/src/analyze" "$T/repo/tests" "$T/repo/scripts/ipclab_tools"
	cp -r "$REPO/trace" "$REPO/tests/fixtures" "$T/repo/" && mv "$T/repo/fixtures" "$T/repo/tests/" &&
		cp "$REPO/src/analyze/decode.c" "$T/repo/src/analyze/" && cp "$REPO/scripts/ipclab-trace" "$T/repo/scripts/" &&
		cp "$REPO/scripts/ipclab_tools/lami.py" "$T/repo/scripts/ipclab_tools/"
}

# reported WHAT PATTERN: the check WHAT on $T/repo fails with a line matching PATTERN
reported() {
	local extra=()
	[ "$1" = --lami ] && extra=("$T/synth.json")
	run "$BT2PY" "$SCHEMA" "$T/repo" "$1" "${extra[@]}"
	if [ "$RC" -ne 1 ] || ! grep -q -- "$2" "$T/out"; then
		fail "schema.py $1 after the rename: exit $RC, '$(head -c 300 "$T/out" | paste -sd'|')', want '$2'"
	fi
}

case_renamed() {
	copy_repo || {
		fail "cannot copy the repository's schema files"
		return
	}
	# a field renamed: msg_recv's t_recv becomes t_received
	sed -i 's/lttng_ust_field_integer(uint64_t, t_recv, t_recv)/lttng_ust_field_integer(uint64_t, t_received, t_recv)/' \
		"$T/repo/trace/ipclab_msg.h"
	reported --synth "ipclab_msg:msg_recv has fields"
	reported --specs "ipclab_msg:msg_recv has no field t_recv"
	# an event renamed: sig_receive becomes sig_deliver
	copy_repo
	sed -i 's/ipclab_sig, sig_receive,/ipclab_sig, sig_deliver,/' "$T/repo/trace/ipclab_sig.h"
	reported --synth "no event ipclab_sig:sig_deliver"
	reported --specs "no spec for event ipclab_sig:sig_deliver"
	[ -f "$T/synth.json" ] && reported --lami "names event sig_receive"
	rm -rf "$T/repo"
}

run_case analyze_schema_synth case_synth
run_case analyze_schema_specs case_specs
run_case analyze_schema_lami case_lami
run_case analyze_schema_renamed case_renamed
finish
