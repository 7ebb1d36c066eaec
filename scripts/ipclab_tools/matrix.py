"""matrix.py - benchmark matrix files (bench/quick.matrix, bench/full.matrix): one run
per line, TAB-separated ID<TAB>KIND<TAB>ARGS, ARGS split on blanks (no quoting); blank
lines and lines starting with '#' are ignored. Parsed and checked once, before anything
runs: every error names FILE:LINE."""

import fnmatch
import re

from .cli import UsageError

KINDS = ("ipclab", "ipclab:untraced", "perf-pipe", "rt-tests")
RT_TOOLS = ("sigwaittest", "pmqtest", "svsematest", "ptsematest")
RT_FORK_TOOLS = ("sigwaittest", "svsematest")  # the others only run threads
ID_RE = re.compile(r"[A-Za-z0-9_.-]+")
CPUS_RE = re.compile(r"[0-9]+([,-][0-9]+)*")
POSITIVE_RE = re.compile(r"[1-9][0-9]*")


class Line:
    """One matrix line: id, kind, words (ARGS split), lineno, and for references the
    parsed options (opts) and the ids they are compared with (compare)."""

    def __init__(self, rid, kind, words, lineno):
        self.id = rid
        self.kind = kind
        self.words = words
        self.lineno = lineno
        self.opts = {}
        self.compare = []

    @property
    def is_ipclab(self):
        return self.kind in ("ipclab", "ipclab:untraced")


def _pairs(words, where, known):
    """{option: value} of '--opt VALUE' pairs; UsageError for an unknown option."""
    out, i = {}, 0
    while i < len(words):
        w = words[i]
        if w not in known:
            raise UsageError("%s: unknown argument '%s'" % (where, w))
        out[w] = words[i + 1] if i + 1 < len(words) else ""
        i += 2
    return out


def _perf(line, where):
    o = _pairs(line.words, where + ": perf-pipe", ("--cpus", "--mode", "--loops", "--repeat", "--compare"))
    if "--repeat" in o and not POSITIVE_RE.fullmatch(o["--repeat"]):
        raise UsageError("%s: bad --repeat '%s'" % (where, o["--repeat"]))
    if "--compare" in o:
        if not ID_RE.fullmatch(o["--compare"]):
            raise UsageError("%s: bad --compare '%s'" % (where, o["--compare"]))
        line.compare = [o["--compare"]]
    if not (CPUS_RE.fullmatch(o.get("--cpus", "")) and o.get("--mode") in ("process", "thread")
            and POSITIVE_RE.fullmatch(o.get("--loops", ""))):
        raise UsageError("%s: perf-pipe needs valid --cpus LIST --mode process|thread --loops N" % where)
    line.opts = {"cpus": o["--cpus"], "mode": o["--mode"], "loops": int(o["--loops"]),
                 "repeat": int(o.get("--repeat", 1))}


def _rt(line, where):
    w = line.words
    if not w or w[0] not in RT_TOOLS:
        raise UsageError("%s: rt-tests needs TOOL first (sigwaittest, pmqtest, svsematest or ptsematest)" % where)
    tool, opts, i = w[0], {"tool": w[0], "cpu": None, "fork": False, "loops": None, "interval": 0, "repeat": 1}, 1
    while i < len(w):
        a, v = w[i], w[i + 1] if i + 1 < len(w) else ""
        if a == "-f":
            if tool not in RT_FORK_TOOLS:
                raise UsageError("%s: %s has no -f (it only runs threads)" % (where, tool))
            opts["fork"] = True
            i += 1
            continue
        if a == "-a":
            if not v.isdigit():
                raise UsageError("%s: -a needs one CPU number" % where)
            opts["cpu"] = int(v)
        elif a == "-l":
            if POSITIVE_RE.fullmatch(v):
                opts["loops"] = int(v)
        elif a == "-i":
            if not v.isdigit():
                raise UsageError("%s: bad -i '%s'" % (where, v))
            opts["interval"] = int(v)
        elif a == "--repeat":
            if not POSITIVE_RE.fullmatch(v):
                raise UsageError("%s: bad --repeat '%s'" % (where, v))
            opts["repeat"] = int(v)
        elif a == "--compare":
            if not re.fullmatch(r"[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*", v):
                raise UsageError("%s: bad --compare '%s'" % (where, v))
            line.compare = v.split(",")
        else:
            raise UsageError("%s: rt-tests: unknown argument '%s' (-a CPU, -f, -l N, -i US, --repeat R, "
                             "--compare ID)" % (where, a))
        i += 2
    if opts["loops"] is None:
        raise UsageError("%s: rt-tests needs -l LOOPS (a bounded run)" % where)
    if not line.compare:
        raise UsageError("%s: rt-tests needs --compare ID (the ipclab run it is set against)" % where)
    line.opts = opts


def parse(path, only=None):
    """[Line] of the matrix file, those whose ID matches one of the comma-separated globs of
    `only` (all if None); UsageError (exit 2) for any error in the file."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError as e:
        raise UsageError("matrix file not found: %s (%s)" % (path, e.strerror)) from None
    lines, seen, compares = [], set(), []
    for lineno, raw in enumerate(text.split("\n"), 1):
        raw = raw.rstrip("\r")
        if re.match(r"^\s*(#|$)", raw):
            continue
        where = "%s:%d" % (path, lineno)
        if "\t" not in raw:
            raise UsageError("%s: expected ID<TAB>KIND<TAB>ARGS" % where)
        rid, _, rest = raw.partition("\t")
        kind, _, args = rest.partition("\t")
        if not ID_RE.fullmatch(rid):
            raise UsageError("%s: bad ID '%s' (letters, digits, _ . - only)" % (where, rid))
        if rid in seen:
            raise UsageError("%s: duplicate ID '%s'" % (where, rid))
        seen.add(rid)
        line = Line(rid, kind, args.split(), lineno)
        if line.is_ipclab:
            if len(line.words) < 2:
                raise UsageError("%s: ipclab needs GROUP EXPERIMENT [OPTIONS]" % where)
            for w in line.words:
                if w.startswith(("--json", "--hist")) or w == "--quiet":
                    raise UsageError("%s: '%s' is added by the runner; remove it" % (where, w))
        elif kind == "perf-pipe":
            _perf(line, where)
        elif kind == "rt-tests":
            _rt(line, where)
        else:
            raise UsageError("%s: unknown KIND '%s' (ipclab, ipclab:untraced, perf-pipe or rt-tests)" % (where, kind))
        compares += [(where, c) for c in line.compare]
        lines.append(line)
    for where, c in compares:
        if c not in seen:
            raise UsageError("%s: --compare '%s' names no line of the matrix" % (where, c))
    pats = [p for p in (only or "").split(",") if p]
    sel = [ln for ln in lines if not pats or any(fnmatch.fnmatchcase(ln.id, p) for p in pats)]
    if not sel:
        raise UsageError("no matrix line selected (matrix %s%s)" % (path, ", --only %s" % only if only else ""))
    return sel, {ln.id: ln for ln in lines}


def option_value(words, *names):
    """The value of the first of names in words ('--cpu 0,1' or '--cpu=0,1'), else None."""
    for i, w in enumerate(words):
        for n in names:
            if w == n and i + 1 < len(words):
                return words[i + 1]
            if w.startswith(n + "="):
                return w[len(n) + 1:]
    return None


def with_option(words, name, value):
    """words with option `name` set to value (replaced where it is, else appended)."""
    out, i, done = [], 0, False
    while i < len(words):
        w = words[i]
        if w == name and i + 1 < len(words):
            out += [name, str(value)]
            i += 2
            done = True
            continue
        if w.startswith(name + "="):
            out.append("%s=%s" % (name, value))
            done = True
        else:
            out.append(w)
        i += 1
    return out if done else out + [name, str(value)]
