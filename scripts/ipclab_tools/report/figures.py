"""figures.py - the one JSON -> TSV conversion (every table and figure reads these files,
gnuplot-ready: '#' comments and headers) and the gnuplot figures drawn from them with the
scripts of bench/ (gnuplot -c bench/KIND.gp IN.tsv OUT TITLE [...], PNG and SVG)."""

import math
import os
import shutil
import subprocess

from ..fmt import num, tsv_str, tsv_val
from ..paths import BENCH



def write_tsv(path, columns, rows, comment):
    """Writes rows (dicts) with a '#' comment and a '#'-prefixed header (gnuplot skips both)."""
    with open(path, "w") as f:
        for line in comment.strip().splitlines():
            f.write("# %s\n" % line)
        f.write("# " + "\t".join(columns) + "\n")
        for r in rows:
            f.write("\t".join(tsv_val(r.get(c)) for c in columns) + "\n")


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


