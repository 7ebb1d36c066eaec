"""coursemap.py - the course map (bench/course.map): every item of the course this suite
comes from, its Python API, the ipclab commands that show it, the C primitives underneath
and the report section with its figure or table. Read once here for the report's "Course
map" section, the README's section of the same name (markdown(), which the test checks the
README holds) and the test that every command names an experiment that exists."""

import os
import sys

from .cli import Failure, UsageError, run
from .paths import BENCH

PATH = os.path.join(BENCH, "course.map")
README_BEGIN = "<!-- course map: generated from bench/course.map by bench/course-map; do not edit -->"
README_END = "<!-- end of the course map -->"


class Row:
    def __init__(self, item, api, commands, primitives, anchor, lineno):
        self.item, self.api, self.primitives, self.anchor, self.lineno = item, api, primitives, anchor, lineno
        self.commands = [c.strip() for c in commands.split(";") if c.strip()]

    def experiments(self):
        """The 'group experiment' of each command."""
        return [" ".join(c.split()[:2]) for c in self.commands]


def load(path=PATH):
    """[Row] of the map; Failure naming FILE:LINE for a malformed line."""
    rows = []
    try:
        with open(path) as f:
            lines = f.read().split("\n")
    except OSError as e:
        raise Failure("%s: %s" % (path, e.strerror)) from None
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != 5 or not all(c.strip() for c in cells):
            raise Failure("%s:%d: want 5 non-empty TAB-separated cells, got %d" % (path, n, len(cells)))
        rows.append(Row(*[c.strip() for c in cells], lineno=n))
    return rows


def markdown(rows):
    """The README's table."""
    out = [README_BEGIN, "", "| course item | Python | ipclab | C underneath | report |", "|---|---|---|---|---|"]
    for r in rows:
        out.append("| %s | %s | %s | %s | `#%s` |" % (r.item, r.api.replace("|", "\\|"),
                                                       "<br>".join("`ipclab %s`" % c for c in r.commands),
                                                       r.primitives, r.anchor))
    return "\n".join(out + ["", README_END]) + "\n"


def readme_section(readme_text):
    """The generated part of the README (between the markers), or None."""
    i, j = readme_text.find(README_BEGIN), readme_text.find(README_END)
    return readme_text[i:j + len(README_END)] + "\n" if 0 <= i < j else None


def main(argv):
    if argv not in ([], ["--markdown"]):
        raise UsageError("usage: bench/course-map [--markdown] (prints the README's course-map table)")
    sys.stdout.write(markdown(load()))
    return 0


def entry():
    run(main, "bench/course-map")
