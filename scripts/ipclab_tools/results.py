"""results.py - the result files, read and written once: JSON documents (atomic writes),
a results folder's runs/ (ipclab result envelopes, traced twins, the reference JSONs),
matrix.json, env.json, the traces' ipclab-trace.json and the trace analyses.

Run variants: "untraced" (runs/ID.json), "traced" (runs/ID.traced.json) and "reference"
(runs/ID.json of a perf bench or rt-tests reference, recognised by its schema)."""

import glob
import json
import os

from .cli import UsageError

REF_SCHEMAS = ("ipclab-perf-ref/", "ipclab-rt-ref/")


def load_json(path):
    with open(path) as f:
        return json.load(f)


def try_json(path):
    """(document, None) or (None, why it could not be read)."""
    try:
        return load_json(path), None
    except (OSError, ValueError, UnicodeDecodeError) as e:
        return None, (str(e).splitlines() or [type(e).__name__])[0]


def write_text_atomic(path, text):
    """Writes text to path through a temporary file in the same folder, fsync and rename:
    a reader sees the old file or the whole new one, never half of it."""
    tmp = "%s.tmp%d" % (path, os.getpid())
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_json_atomic(path, doc, indent=2):
    write_text_atomic(path, json.dumps(doc, indent=indent) + "\n")


def variant_of(base, doc):
    """(id, variant) of the run file runs/BASE.json holding doc."""
    if str(doc.get("schema", "")).startswith(REF_SCHEMAS):
        return base, "reference"
    if base.endswith(".traced"):
        return base[:-len(".traced")], "traced"
    return base, "untraced"


def read_runs_dir(folder):
    """{file base: document} of folder/runs/*.json, {base: path}, and [(path, why)] for the
    files that are not JSON objects. UsageError if folder or its runs/ is missing."""
    if not os.path.exists(folder):
        raise UsageError("no such folder: %s" % folder)
    if not os.path.isdir(folder):
        raise UsageError("not a folder: %s" % folder)
    runs_dir = os.path.join(folder, "runs")
    if not os.path.isdir(runs_dir):
        raise UsageError("%s: no runs/ folder (not an ipclab results folder)" % folder)
    try:
        names = sorted(os.listdir(runs_dir))
    except OSError as e:
        raise UsageError("%s: %s" % (runs_dir, e.strerror or e)) from None
    docs, files, warnings = {}, {}, []
    for name in names:
        if not name.endswith(".json"):
            continue
        p = os.path.join(runs_dir, name)
        doc, err = try_json(p)
        if doc is None:
            warnings.append((p, "unreadable (%s)" % err))
            continue
        if not isinstance(doc, dict):
            warnings.append((p, "not a result envelope"))
            continue
        docs[name[:-5]] = doc
        files[name[:-5]] = p
    return docs, files, warnings


def read_launches(folder, rid):
    """The documents of folder/launches/RID/*.json (one per separate launch of the run,
    written by an interleaved A/B session), in launch order; [] if there are none."""
    d = os.path.join(folder, "launches", rid)
    out = []
    for p in sorted(glob.glob(os.path.join(d, "*.json")), key=lambda p: (len(p), p)):
        doc, _err = try_json(p)
        if isinstance(doc, dict):
            out.append(doc)
    return out


class Results:
    """Everything read from one results folder (what bench/run wrote)."""

    def __init__(self, d):
        self.dir = d
        self.warnings = []
        self.runs = {}       # (id, variant) -> JSON doc
        self.run_files = {}  # (id, variant) -> path
        docs, files, warns = read_runs_dir(d)
        self.warnings += ["%s: %s" % (os.path.relpath(p, d), why) for p, why in warns]
        for base, doc in docs.items():
            key = variant_of(base, doc)
            self.runs[key] = doc
            self.run_files[key] = files[base]
        if not self.runs:
            raise UsageError("no run results in %s" % os.path.join(d, "runs"))
        self.matrix, err = self._optional("matrix.json", "run statuses unknown, order guessed")
        self.env, err = self._optional("env.json", None)
        self.traces = {}
        for t in sorted(glob.glob(os.path.join(d, "traces", "*"))):
            if not os.path.isdir(t):
                continue
            doc, err = try_json(os.path.join(t, "ipclab-trace.json"))
            self.traces[os.path.basename(t)] = (doc if isinstance(doc, dict)
                                                else {"error": err if doc is None else "not an object"})
        # what scripts/ipclab-analyze found in each trace: id -> result, or {"error": ...}
        self.analysis = {}
        for p in sorted(glob.glob(os.path.join(d, "analysis", "*.json"))):
            doc, err = try_json(p)
            self.analysis[os.path.basename(p)[:-5]] = doc if isinstance(doc, dict) else {"error": err}
        for p in sorted(glob.glob(os.path.join(d, "analysis", "*.err"))):
            aid = os.path.basename(p)[:-4]
            if aid not in self.analysis or "error" in self.analysis[aid]:
                with open(p, errors="replace") as f:
                    lines = [line.strip() for line in f if line.strip()]
                self.analysis[aid] = {"error": lines[-1] if lines else "analysis failed"}

    def _optional(self, name, consequence):
        doc, err = try_json(os.path.join(self.dir, name))
        if not isinstance(doc, dict):
            self.warnings.append("no %s (%s)%s" % (name, err or "not an object",
                                                   ": " + consequence if consequence else ""))
            doc = {}
        return doc, err

    def json_of(self, name):
        """A document beside the runs (compare.json, aa.json, ...), or None."""
        doc, _err = try_json(os.path.join(self.dir, name))
        return doc if isinstance(doc, dict) else None

    def order(self):
        """IDs in matrix order (matrix.json), then any other IDs sorted."""
        ids = []
        for r in self.matrix.get("runs", []):
            if r.get("id") not in ids:
                ids.append(r.get("id"))
        for (i, _v) in sorted(self.runs):
            if i not in ids:
                ids.append(i)
        return ids

    def manifest_runs(self):
        return self.matrix.get("runs", [])

    def manifest(self, rid, variant="untraced"):
        """The matrix.json record of one run (or {})."""
        for r in self.manifest_runs():
            if r.get("id") == rid and r.get("variant") == variant:
                return r
        return {}

    def find(self, experiment, variant="untraced", **params):
        """[(id, doc)] of the runs of one experiment, in matrix order, whose params match
        every given value (a callable value is a predicate)."""
        out = []
        for rid in self.order():
            doc = self.runs.get((rid, variant))
            if not doc or doc.get("experiment") != experiment:
                continue
            p = doc.get("params") or {}
            if all(v(p.get(k)) if callable(v) else p.get(k) == v for k, v in params.items()):
                out.append((rid, doc))
        return out

    def references(self, schema_prefix):
        """[(id, doc)] of the reference runs whose schema starts with schema_prefix."""
        return [(rid, self.runs[(rid, "reference")]) for rid in self.order()
                if (rid, "reference") in self.runs
                and str(self.runs[(rid, "reference")].get("schema", "")).startswith(schema_prefix)]
