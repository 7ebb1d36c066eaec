"""page.py - the report's HTML: one page, inline CSS, no JavaScript; tables whose cells are
(html, css class) pairs or plain html, figures with their SVG and data links."""

import html
import os

from ..fmt import fmt_pct, fmt_us, num
from .thresholds import NOISY


def esc(s):
    return html.escape("" if s is None else str(s))


def rel(path, base):
    return os.path.relpath(path, base) if path else None


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


def steps_table(pg, steps, kind_header):
    """A transcript of checked steps (ipc queue, task lifecycle: results.steps[] = {n, kind,
    op, expected, actual, pass, note}) as one table."""
    pg.table(["#", kind_header, "step", "expected", "seen", "", "note"],
             [[n(s.get("n"), str), esc(s.get("kind")), esc(s.get("op")), esc(s.get("expected")),
               esc(s.get("actual")), check_cell(s.get("pass")), esc(s.get("note") or "")] for s in steps])
