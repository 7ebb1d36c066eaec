#!/bin/bash
# analyze_xml.sh - the Trace Compass XML analyses in trace/tracecompass/: each validates
# against Trace Compass's schema (../shared/tracecompass-xsd relative to the repository,
# or to the main checkout of a git worktree; if that directory is absent the schema case
# is skipped, saying why), and every event
# name and event field name they use exists in our tracepoint providers (trace/*.h,
# plus the contexts scripts/ipclab-trace adds), for the events where it is used. The
# name checker is itself checked: it must reject an unknown field and an unknown event.
# Usage: tests/integration/analyze_xml.sh BUILD_DIR
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

XSD_DIR=$REPO/../shared/tracecompass-xsd
if [ ! -d "$XSD_DIR" ]; then # a git worktree: beside the main checkout
	common=$(git -C "$REPO" rev-parse --path-format=absolute --git-common-dir 2>/dev/null) &&
		[ -d "$(dirname "$common")/../shared/tracecompass-xsd" ] &&
		XSD_DIR=$(dirname "$common")/../shared/tracecompass-xsd
fi
XML_DIR=$REPO/trace/tracecompass

# check_names XML...: prints one line per unknown event or field, nothing if all are known
check_names() {
	"$PY" - "$REPO" "$@" <<'EOF'
import os, sys
import xml.etree.ElementTree as ET

repo = sys.argv[1]

sys.path.insert(0, os.path.join(repo, "tests", "fixtures"))
import schema  # the one parser of trace/*.h

known = {ev: {f for f, _ in fields} for ev, fields in schema.events(repo).items()}
# contexts scripts/ipclab-trace records by default (--procname adds one the XML must not
# rely on): Trace Compass names them context._<type>
ctx = {"context._" + t for t in schema.contexts(repo)}
if not ctx:
    print("no default contexts=(...) list found in scripts/ipclab-trace")
if not known:
    print("no tracepoint events found in trace/*.h")

problems = []
def check_event(xml, ev):
    if ev not in known:
        problems.append("%s: unknown event %s" % (xml, ev))
        return False
    return True

def check_field(xml, where, ev, f):
    if f in ctx or ev not in known:
        return
    if f not in known[ev]:
        problems.append("%s: %s: event %s has no field %s" % (xml, where, ev, f))

def field_refs(elem):
    """Event field names referenced under elem (not following location references)."""
    out = []
    for e in elem.iter():
        if e.tag == "field":
            out.append(e.get("name"))
        elif e.tag in ("stateAttribute", "stateValue") and e.get("type") == "eventField":
            out.append(e.get("value"))
    return out

def location_refs(elem):
    return [e.get("value") for e in elem.iter() if e.tag == "stateAttribute" and e.get("type") == "location"]

for xml in sys.argv[2:]:
    name = os.path.basename(xml)
    root = ET.parse(xml).getroot()
    for top in root:
        locations = {l.get("id"): l for l in top.findall("location")}
        if top.tag == "stateProvider":
            for h in top.findall("eventHandler"):
                ev = h.get("eventName")
                if not check_event(name, ev):
                    continue
                refs = field_refs(h)
                for loc in location_refs(h):
                    if loc in locations:
                        refs += field_refs(locations[loc])
                for f in refs:
                    check_field(name, "handler", ev, f)
        elif top.tag == "pattern":
            ph = top.find("patternHandler")
            tests = {t.get("id"): t for t in ph.findall("test")}
            actions = {a.get("id"): a for a in ph.findall("action")}
            users = {}  # test/action id -> events of the transitions using it
            for tr in ph.iter():
                if tr.tag not in ("transition", "precondition") or not tr.get("event"):
                    continue
                ev = tr.get("event")
                if not check_event(name, ev):
                    continue
                for ref in (tr.get("cond") or "").split(":") + (tr.get("action") or "").split(":"):
                    if ref:
                        users.setdefault(ref, set()).add(ev)
            for rid, elem in list(tests.items()) + list(actions.items()):
                evs = users.get(rid, set())
                if not evs and field_refs(elem):
                    problems.append("%s: %s uses event fields but no transition with an event uses it" % (name, rid))
                for ev in evs:
                    for f in field_refs(elem):
                        check_field(name, rid, ev, f)
print("\n".join(problems))
EOF
}

# every XML file validates against the Trace Compass schema
case_schema() {
	local f out
	if ! command -v xmllint >/dev/null 2>&1; then
		fail "xmllint not found (install libxml2-utils)"
		return
	fi
	for f in "$XML_DIR"/*.xml; do
		out=$(xmllint --noout --schema "$XSD_DIR/xmlDefinition.xsd" "$f" 2>&1) ||
			fail "$(basename "$f"): $(grep -v 'validates$' <<<"$out" | head -n 3 | paste -sd'|' -)"
	done
}

# the analyses we promise are there: lock states, bus states, message and signal segments
case_inventory() {
	local n
	n=$(find "$XML_DIR" -name '*.xml' | wc -l)
	[ "$n" -ge 4 ] || fail "$n XML files in trace/tracecompass, want at least 4"
	"$PY" - "$XML_DIR" >"$T/inv" <<'EOF'
import glob, os, sys
import xml.etree.ElementTree as ET
found = {}
for f in glob.glob(os.path.join(sys.argv[1], "*.xml")):
    for top in ET.parse(f).getroot():
        found[top.get("id")] = top.tag
want = {"ipclab.xml.locks": "stateProvider", "ipclab.xml.bus": "stateProvider",
        "ipclab.xml.msg.latency": "pattern", "ipclab.xml.sig.latency": "pattern",
        "ipclab.xml.lock.segments": "pattern"}
for k, v in want.items():
    if found.get(k) != v:
        print("missing %s %s" % (v, k))
EOF
	[ -s "$T/inv" ] && fail "$(paste -sd';' "$T/inv")"
}

# every event and field name exists in trace/*.h for the event that uses it
case_names() {
	local out
	out=$(check_names "$XML_DIR"/*.xml) || {
		fail "name checker failed"
		return
	}
	[ -z "$out" ] || fail "$(paste -sd';' <<<"$out")"
}

# the checker catches an unknown field and an unknown event (it is not vacuous)
case_names_negative() {
	local out
	sed 's/<field name="seq" \/>/<field name="sequence" \/>/' "$XML_DIR/ipclab_msg_latency.xml" >"$T/bad1.xml"
	out=$(check_names "$T/bad1.xml")
	grep -q 'has no field sequence' <<<"$out" || fail "an unknown field was not reported: '$out'"
	sed 's/ipclab_sig:bus_state/ipclab_sig:bus_status/' "$XML_DIR/ipclab_bus.xml" >"$T/bad2.xml"
	out=$(check_names "$T/bad2.xml")
	grep -q 'unknown event ipclab_sig:bus_status' <<<"$out" || fail "an unknown event was not reported: '$out'"
	rm -f "$T/bad1.xml" "$T/bad2.xml"
}

# the bus view maps every state the bus experiment emits (src/signal/bus.c state_names)
case_bus_states() {
	local src=$REPO/src/signal/bus.c
	[ -f "$src" ] || {
		fail "src/signal/bus.c not found"
		return
	}
	"$PY" - "$src" "$XML_DIR/ipclab_bus.xml" >"$T/bus" <<'EOF'
import re, sys
import xml.etree.ElementTree as ET
m = re.search(r"state_names\[\]\s*=\s*\{(.*?)\}", open(sys.argv[1]).read(), re.S)
states = set(re.findall(r'"(\w+)"', m.group(1))) if m else set()
root = ET.parse(sys.argv[2]).getroot()
mapped = {e.find("stateValue").get("value") for e in root.iter("entry") if e.find("stateValue") is not None}
if not states:
    print("no state_names in bus.c")
for s in sorted(states - mapped):
    print("state %s not mapped" % s)
EOF
	[ -s "$T/bus" ] && fail "$(paste -sd';' "$T/bus")"
}

if [ -d "$XSD_DIR" ] && [ -f "$XSD_DIR/xmlDefinition.xsd" ]; then
	run_case analyze_xml_schema case_schema
else
	skip_case analyze_xml_schema "Trace Compass schema not found at $XSD_DIR (xmlDefinition.xsd)"
fi
run_case analyze_xml_inventory case_inventory
run_case analyze_xml_names case_names
run_case analyze_xml_names_negative case_names_negative
run_case analyze_xml_bus_states case_bus_states
finish
