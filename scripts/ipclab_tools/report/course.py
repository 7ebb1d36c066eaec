"""course.py - the course map section: every course item (bench/course.map), what shows it,
and the runs of this folder that did."""

from .. import coursemap
from .page import esc, link


def section(ctx, pg):
    rows = coursemap.load()
    pg.p("Every item of the course, the ipclab commands that show it, the C primitives underneath, the part "
         "of this report with its figure or table, and the runs of this folder of those experiments "
         "(<code>bench/course.map</code>; the README's &quot;Course map&quot; is the same table).", "note")
    body = []
    for r in rows:
        ran = []
        for exp in dict.fromkeys(r.experiments()):
            ran += [rid for rid, _doc in ctx.res.find(exp)]
        runs = ", ".join(link(ctx.res.run_files.get((rid, "untraced")), ctx.dir, rid) for rid in ran[:6])
        if len(ran) > 6:
            runs += " and %d more" % (len(ran) - 6)
        body.append([esc(r.item), esc(r.api), "<br>".join("<code>ipclab %s</code>" % esc(c) for c in r.commands),
                     esc(r.primitives), '<a href="#%s">%s</a>' % (esc(r.anchor), esc(r.anchor)),
                     runs or '<span class="note">none in this folder</span>'])
    pg.table(["course item", "Python", "ipclab", "C underneath", "report", "runs here"], body)
    return True
