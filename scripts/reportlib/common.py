"""common.py - what every part of scripts/report shares: loading a results directory,
number formatting, the TSV writers (the one JSON -> TSV conversion; every figure reads
only these files), gnuplot figures, the HTML page, and the context that collects
warnings and noisy rows across areas."""

import glob
import html
import json
import math
import os
import shutil
import statistics
import subprocess

PROG = "report"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
BENCH = os.path.join(REPO, "bench")
NOISY = 0.05          # repeat-to-repeat relative stddev above which a row is flagged
REF_TOLERANCE = 0.05  # ipclab/perf ratio of means flagged outside 1 +- this
RT_TOLERANCE = 0.10   # ipclab/rt-tests ratio of means flagged outside 1 +- this
HIST_BINS_PER_OCTAVE = 16

class Fatal(Exception):
    pass


# ------------------------------------------------------------------ small helpers

def load_json(path):
    with open(path) as f:
        return json.load(f)


def try_json(path):
    try:
        return load_json(path), None
    except (OSError, ValueError) as e:
        return None, str(e)


def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def us(ns):
    """ns -> µs float (None stays None)."""
    return ns / 1000.0 if num(ns) else None


def fmt_us(ns):
    v = us(ns)
    if v is None:
        return "–"
    if abs(v) < 10:
        return "%.2f" % v
    if abs(v) < 100:
        return "%.1f" % v
    return "%.0f" % v


def fmt_ns(v, digits=1):
    return ("%%.%df" % digits) % v if num(v) else "–"


def fmt_pct(v, digits=1):
    return ("%%.%df %%%%" % digits) % (100 * v) if num(v) else "–"


def tsv_val(v):
    if v is None:
        return "NaN"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return "%.6g" % v if math.isfinite(v) else "NaN"
    return str(v).replace("\t", " ").replace("\n", " ")


def write_tsv(path, columns, rows, comment):
    """Writes rows (dicts) with a '#' comment and a '#'-prefixed header (gnuplot skips both)."""
    with open(path, "w") as f:
        for line in comment.strip().splitlines():
            f.write("# %s\n" % line)
        f.write("# " + "\t".join(columns) + "\n")
        for r in rows:
            f.write("\t".join(tsv_val(r.get(c)) for c in columns) + "\n")


def esc(s):
    return html.escape("" if s is None else str(s))


def rel(path, base):
    return os.path.relpath(path, base) if path else None


# ------------------------------------------------------------------ loading

class Results:
    """Everything read from a results directory."""

    def __init__(self, d):
        self.dir = d
        self.warnings = []
        self.runs = {}       # (id, variant) -> JSON doc, variant "untraced"|"traced"|"reference"
        self.run_files = {}  # (id, variant) -> path
        files = sorted(glob.glob(os.path.join(d, "runs", "*.json")))
        for p in files:
            base = os.path.basename(p)[:-5]
            doc, err = try_json(p)
            if doc is None or not isinstance(doc, dict):
                self.warnings.append("unreadable result %s: %s" % (rel(p, d), err or "not an object"))
                continue
            if str(doc.get("schema", "")).startswith(("ipclab-perf-ref/", "ipclab-rt-ref/")):
                key = (base, "reference")
            elif base.endswith(".traced"):
                key = (base[:-7], "traced")
            else:
                key = (base, "untraced")
            self.runs[key] = doc
            self.run_files[key] = p
        if not self.runs:
            raise Fatal("no run results in %s" % os.path.join(d, "runs"))
        self.matrix, err = try_json(os.path.join(d, "matrix.json"))
        if self.matrix is None:
            self.warnings.append("no matrix.json (%s): run statuses unknown, order guessed" % err)
            self.matrix = {}
        self.env, err = try_json(os.path.join(d, "env.json"))
        if self.env is None:
            self.warnings.append("no env.json (%s)" % err)
            self.env = {}
        self.traces = {}
        for p in sorted(glob.glob(os.path.join(d, "traces", "*", "ipclab-trace.json"))):
            doc, err = try_json(p)
            tid = os.path.basename(os.path.dirname(p))
            self.traces[tid] = doc if isinstance(doc, dict) else {"error": err}
        # every trace folder, even one without its summary JSON
        for t in sorted(glob.glob(os.path.join(d, "traces", "*"))):
            tid = os.path.basename(t)
            if os.path.isdir(t) and tid not in self.traces:
                self.traces[tid] = {"error": "no ipclab-trace.json"}

        # what scripts/ipclab-analyze found in each trace (make-report's step 4):
        # id -> result JSON, or {"error": ...} from analysis/ID.err
        self.analysis = {}
        for p in sorted(glob.glob(os.path.join(d, "analysis", "*.json"))):
            doc, err = try_json(p)
            self.analysis[os.path.basename(p)[:-5]] = doc if isinstance(doc, dict) else {"error": err}
        for p in sorted(glob.glob(os.path.join(d, "analysis", "*.err"))):
            aid = os.path.basename(p)[:-4]
            if aid not in self.analysis or "error" in self.analysis[aid]:
                with open(p, errors="replace") as f:
                    lines = [l.strip() for l in f if l.strip()]
                self.analysis[aid] = {"error": lines[-1] if lines else "analysis failed"}

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
        """[(id, doc)] of the runs of one experiment, in matrix order, whose params
        match every given value (a callable value is a predicate)."""
        out = []
        for rid in self.order():
            doc = self.runs.get((rid, variant))
            if not doc or doc.get("experiment") != experiment:
                continue
            p = doc.get("params") or {}
            ok = True
            for k, v in params.items():
                if callable(v):
                    ok = ok and bool(v(p.get(k)))
                else:
                    ok = ok and p.get(k) == v
            if ok:
                out.append((rid, doc))
        return out

    def experiment(self, key):
        return self.runs.get(key, {}).get("experiment")


# ------------------------------------------------------------------ histograms

def read_hist_blocks(path):
    """{series name: [(lower_ns, count)]} from an ipclab --hist file."""
    blocks, name = {}, None
    with open(path) as f:
        for line in f:
            s = line.strip()
            if s.startswith("# histogram:"):
                name = s.split(":", 1)[1].strip()
                blocks[name] = []
            elif s and not s.startswith("#") and name is not None:
                parts = s.split("\t")
                if len(parts) >= 2:
                    try:
                        blocks[name].append((int(parts[0]), int(parts[1])))
                    except ValueError:
                        pass
    return blocks


def rebin(pairs):
    """Groups ipclab's log-linear buckets (1 ns wide below 128 ns; above, 64 linear buckets
    per octave) by HIST_BINS_PER_OCTAVE linear groups per octave, aligned on bucket edges
    (geometric bins would split buckets and alias), and turns each count into a density:
    samples per 1/HIST_BINS_PER_OCTAVE octave, so bins of any width read alike on a log x
    axis. Returns [(lo_ns, hi_ns, density)], a (lo, hi, 0) entry marking each gap."""
    group = 64 // HIST_BINS_PER_OCTAVE
    acc = {}
    for lo, c in pairs:
        if lo < 128:
            blo, bhi = lo, lo + 1
        else:
            shift = lo.bit_length() - 7          # bucket width is 1 << shift
            sub = (lo >> shift) - 64             # 0..63 inside the octave
            blo = (64 + sub // group * group) << shift
            bhi = blo + (group << shift)
        key = (blo, bhi)
        acc[key] = acc.get(key, 0) + c
    out, prev_hi = [], None
    for (blo, bhi) in sorted(acc):
        if prev_hi is not None and blo > prev_hi:
            out.append((prev_hi, blo, 0))
        width_octaves = math.log2(bhi / blo) if blo > 0 else 1.0
        out.append((blo, bhi, acc[(blo, bhi)] / (width_octaves * HIST_BINS_PER_OCTAVE)))
        prev_hi = bhi
    return out


def write_hist_tsv(path, series, comment):
    """series: [(title, [(lo, hi, count)])] -> gnuplot blocks for hist.gp."""
    with open(path, "w") as f:
        for line in comment.strip().splitlines():
            f.write("# %s\n" % line)
        first = True
        for title, bins in series:
            if not first:
                f.write("\n\n")
            first = False
            f.write('"%s"\t"count"\n' % title.replace('"', "'"))
            for lo, hi, c in bins:
                if c > 0:
                    f.write("%.6g\t%.6g\n%.6g\t%.6g\n" % (lo / 1000.0, c, hi / 1000.0, c))
                else:
                    f.write("NaN\tNaN\n")


# ------------------------------------------------------------------ figures

class Figures:
    def __init__(self, d, enabled):
        self.dir = os.path.join(d, "figures")
        self.gnuplot = shutil.which("gnuplot") if enabled else None
        self.enabled = enabled
        self.errors = []
        os.makedirs(self.dir, exist_ok=True)

    def make(self, gp, tsv, name, title, *extra):
        """(png, svg, error) for one figure: gnuplot -c bench/GP TSV OUT TITLE [EXTRA...], twice."""
        if not self.enabled:
            return None, None, "figures disabled (--no-figures)"
        if not self.gnuplot:
            return None, None, "gnuplot not installed (scripts/deps installs gnuplot-nox)"
        out = []
        for ext in ("png", "svg"):
            path = os.path.join(self.dir, "%s.%s" % (name, ext))
            try:
                p = subprocess.run([self.gnuplot, "-c", os.path.join(BENCH, gp), tsv, path, title] + list(extra),
                                   capture_output=True, text=True, timeout=120)
                err = p.stderr.strip() if p.returncode != 0 else None
            except (OSError, subprocess.TimeoutExpired) as e:
                err = str(e)
            if err or not os.path.exists(path) or os.path.getsize(path) == 0:
                msg = "gnuplot %s -> %s failed: %s" % (gp, os.path.basename(path),
                                                      (err or "no output").splitlines()[-1])
                self.errors.append(msg)
                return None, None, msg
            out.append(path)
        return out[0], out[1], None


# ------------------------------------------------------------------ HTML

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 1.5em auto;
       max-width: 1180px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.25em; border-bottom: 2px solid #4477aa; padding-bottom: .15em; margin-top: 2em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: .6em 0 1em; font-size: .88em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; vertical-align: top; }
th { background: #eef2f7; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.warn td { background: #fde8e8; color: #a40000; }
tr.traced td { color: #555; background: #f7f7f7; }
td.flag, span.flag { color: #a40000; font-weight: bold; }
td.ok, span.ok { color: #1b7a1b; }
.banner { padding: .6em 1em; border-radius: 4px; margin: 1em 0; }
.banner.bad { background: #fde8e8; border: 1px solid #a40000; color: #a40000; }
.banner.good { background: #e8f5e8; border: 1px solid #1b7a1b; color: #1b5a1b; }
.note { color: #555; font-size: .9em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #444; }
pre { background: #f5f5f5; padding: .6em; overflow-x: auto; font-size: .8em; }
nav ul { columns: 2; font-size: .92em; }
code { font-size: .92em; }
"""


class Page:
    def __init__(self):
        self.parts = []

    def add(self, s):
        self.parts.append(s)

    def h(self, level, text, anchor=None):
        a = ' id="%s"' % anchor if anchor else ""
        self.add("<h%d%s>%s</h%d>\n" % (level, a, esc(text), level))

    def p(self, text_html, cls=None):
        self.add('<p%s>%s</p>\n' % (' class="%s"' % cls if cls else "", text_html))

    def table(self, headers, rows, row_classes=None):
        """rows: lists of (html, css class) or plain html strings."""
        out = ["<table>\n<tr>" + "".join("<th>%s</th>" % h for h in headers) + "</tr>\n"]
        for i, r in enumerate(rows):
            cls = (row_classes[i] if row_classes else None) or ""
            out.append("<tr%s>" % (' class="%s"' % cls if cls else ""))
            for c in r:
                if isinstance(c, tuple):
                    out.append('<td class="%s">%s</td>' % (c[1], c[0]))
                else:
                    out.append("<td>%s</td>" % c)
            out.append("</tr>\n")
        out.append("</table>\n")
        self.add("".join(out))

    def figure(self, png, svg, err, caption, base, tsv=None):
        if png:
            data = ' · <a href="%s">data</a>' % esc(rel(tsv, base)) if tsv else ""
            self.add('<figure><a href="%s"><img src="%s" alt="%s"></a><figcaption>%s — <a href="%s">SVG</a>%s'
                     '</figcaption></figure>\n'
                     % (esc(rel(svg, base)), esc(rel(png, base)), esc(caption), esc(caption),
                        esc(rel(svg, base)), data))
        else:
            self.add('<p class="note"><span class="flag">Figure missing:</span> %s (%s)</p>\n'
                     % (esc(caption), esc(err)))

    def html(self, title):
        return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n%s</body>\n</html>\n"
                % (esc(title), CSS, "".join(self.parts)))


def n(v, fmt):
    """A right-aligned numeric table cell ('–' for a missing value)."""
    return (fmt(v) if v is not None else "–", "n")


def link(path, base, text=None):
    if not path:
        return "–"
    r = rel(path, base)
    return '<a href="%s">%s</a>' % (esc(r), esc(text or r))




# ------------------------------------------------------------------ figure inputs

def tsv_str(v):
    """A quoted header cell for gnuplot's columnheader()."""
    return '"%s"' % str(v).replace('"', "'").replace("\t", " ")


def write_bars(path, series, groups, comment):
    """Input of bench/bars.gp. series: [(title, whisker title)]; groups: [(label,
    [(value, whisker_top) per series])] (None: no bar / no whisker). Values in the unit
    of the figure's y axis. Returns "" or ",nowhisker" (no whisker anywhere), to add to
    the figure's options."""
    # a series without a single value is left out (gnuplot 5.4 crashes plotting boxes that are
    # all undefined); the whisker legend moves to the first series kept
    keep = [j for j in range(len(series)) if any(num(vals[j][0]) for _l, vals in groups)]
    wt0 = next((series[j][1] for j in range(len(series)) if series[j][1]), None)
    series = [(series[j][0], wt0 if k == 0 else None) for k, j in enumerate(keep)]
    groups = [(label, [vals[j] for j in keep]) for label, vals in groups]
    with open(path, "w") as f:
        for line in comment.strip().splitlines():
            f.write("# %s\n" % line)
        head = ['"x"', '"label"']
        for t, wt in series:
            head += [tsv_str(t), tsv_str(wt or "")]  # "": no legend entry for the whiskers
        f.write("\t".join(head) + "\n")
        for i, (label, vals) in enumerate(groups):
            cells = [str(i + 1), tsv_val(label)]
            for v, hi in vals:
                cells += [tsv_val(v), tsv_val(hi)]
            f.write("\t".join(cells) + "\n")
    return "" if any(num(hi) for _l, vals in groups for _v, hi in vals) else ",nowhisker"


def write_blocks(path, series, comment):
    """Input of bench/lines.gp. series: [(title, [(x, y) or (x, y, tic label)])]; one
    gnuplot block per series."""
    with open(path, "w") as f:
        for line in comment.strip().splitlines():
            f.write("# %s\n" % line)
        first = True
        for title, pts in series:
            if not first:
                f.write("\n\n")
            first = False
            f.write("%s\t\"y\"\t\"tic\"\n" % tsv_str(title))
            for pt in pts:
                f.write("\t".join(tsv_val(v) for v in pt) + "\n")


def log_or_linear(values, spread=30.0):
    """bars.gp options for the y axis: 'logy,ymin=Y' (Y a decade below the smallest bar, so
    that it shows) when the positive values span more than SPREAD x, else 'linear'."""
    v = [x for x in values if num(x) and x > 0]
    if v and max(v) / min(v) > spread:
        return "logy,ymin=%g" % 10 ** math.floor(math.log10(min(v) / 2))
    return "linear"


def median(values):
    v = [x for x in values if num(x)]
    return statistics.median(v) if v else None


def ratio(a, b):
    return a / b if num(a) and num(b) and b != 0 else None


def fmt_x(v, digits=2):
    return ("%%.%df×" % digits) % v if num(v) else "–"


def fmt_g(v, digits=3):
    """A compact number: 3 significant digits, thousands grouped for big ones."""
    if not num(v):
        return "–"
    if abs(v) >= 1000:
        return "{:,.0f}".format(v).replace(",", "\u2009")
    return ("%%.%dg" % digits) % v


def placement_text(params):
    """'same CPU 0', 'cross-CPU 0→1' or 'unpinned' from an ipclab params object."""
    pl = params.get("placement")
    cpu = params.get("cpu") or []
    if pl == "same-cpu" and cpu:
        return "same CPU %s" % cpu[0]
    if pl == "cross-cpu" and len(cpu) > 1:
        return "cross-CPU %s→%s" % (cpu[0], cpu[1])
    return pl or "unpinned"


class Ctx:
    """One report being built: the results, where data and figures go, and what every
    section adds to the warnings and the noisy-rows list."""

    def __init__(self, res, figs):
        self.res = res
        self.dir = res.dir
        self.data = os.path.join(res.dir, "data")
        os.makedirs(self.data, exist_ok=True)
        self.figs = figs
        self.warnings = []   # (area, html)
        self.noisy = []      # dicts: area, run, what, rsd, note

    def tsv(self, name):
        return os.path.join(self.data, name)

    def warn(self, area, text_html):
        self.warnings.append((area, text_html))

    def flag_noisy(self, area, run, what, rsd, note=""):
        """Records a row whose repeat-to-repeat relative stddev is above NOISY; returns
        True if it was (so the caller can flag the row too)."""
        if num(rsd) and rsd > NOISY:
            self.noisy.append({"area": area, "run": run, "what": what, "rsd": rsd, "note": note})
            return True
        return False

    def figure(self, pg, gp, tsv, name, title, caption, *extra):
        """Draws one figure from TSV and puts it (or why it is missing) on the page."""
        png, svg, err = self.figs.make(gp, tsv, name, title, *extra)
        pg.figure(png, svg, err, caption, self.dir, tsv)
        return png

    def status_note(self, rid, variant="untraced"):
        """'skipped: reason' / 'failed: reason' for a run that did not end ok, else ''."""
        m = self.res.manifest(rid, variant)
        if m and m.get("status") != "ok":
            return "%s: %s" % (m.get("status"), m.get("reason") or "exit %s" % m.get("exit_code"))
        return ""


def stat_cells(summary, keys=("p50", "p99", "mean")):
    """Right-aligned µs cells of a latency summary object."""
    summary = summary if isinstance(summary, dict) else {}
    return [n(summary.get(k), fmt_us) for k in keys]


def rsd_cell(v):
    return (fmt_pct(v), "n flag" if num(v) and v > NOISY else "n")


def check_cell(ok):
    if ok is True:
        return ('<span class="ok">pass</span>', "")
    if ok is False:
        return ('<span class="flag">FAIL</span>', "")
    return ("–", "")
