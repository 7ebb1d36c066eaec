"""context.py - one report being built: the results folder it reads, where its data and
figures go, what every section adds to the warnings and to the noisy-rows list, and the
rows several sections share (computed once, on first use)."""

import functools
import os

from ..fmt import num
from . import rows
from .thresholds import NOISY


class Ctx:
    """One report: res (results.Results), figs (figures.Figures), data folder, warnings
    [(area, html)], noisy rows, and the shared rows as attributes computed on first use."""

    def __init__(self, res, figs):
        self.res = res
        self.dir = res.dir
        self.data = os.path.join(res.dir, "data")
        os.makedirs(self.data, exist_ok=True)
        self.figs = figs
        self.warnings = []   # (area, html)
        self.noisy = []      # dicts: area, run, what, rsd, note

    # rows read by more than one section
    latency = functools.cached_property(lambda self: rows.latency_rows(self.res))
    perf = functools.cached_property(lambda self: rows.perf_rows(self.res, self.latency))
    tracing = functools.cached_property(lambda self: rows.tracing_rows(self.res, self.latency))
    overhead = functools.cached_property(lambda self: rows.overhead_rows(self.res))
    traces = functools.cached_property(lambda self: rows.trace_rows(self.res))
    statuses = functools.cached_property(lambda self: rows.status_rows(self.res))
    pairs = functools.cached_property(lambda self: rows.traced_pairs(self.res))

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

    def part(self, pg, title, anchor, runs, missing=None):
        """The preamble of a part of a section: its heading and True when there are runs;
        without runs, nothing (missing None) or the heading and the note `missing`, and
        False."""
        if not runs and missing is None:
            return False
        pg.h(3, title, anchor)
        if not runs:
            pg.p(missing, "note")
            return False
        return True

    def status_note(self, rid, variant="untraced"):
        """'skipped: reason' / 'failed: reason' for a run that did not end ok, else ''."""
        m = self.res.manifest(rid, variant)
        if m and m.get("status") != "ok":
            return "%s: %s" % (m.get("status"), m.get("reason") or "exit %s" % m.get("exit_code"))
        return ""
