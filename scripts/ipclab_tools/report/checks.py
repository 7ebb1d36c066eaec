"""checks.py - the sections make bench adds about the instrument itself: the A/A check
(aa.json: the same build measured twice, interleaved; how often the comparison cries wolf)
and the effect rates of the concurrency demonstrations (effect-rates.json)."""

from .. import compare
from ..fmt import fmt_pct
from ..stats import median
from .page import esc, n


def fmt_ci(ci):
    return "[%+.1f %%, %+.1f %%]" % tuple(ci) if isinstance(ci, list) and len(ci) == 2 else ""


def aa_section(ctx, pg):
    """A/A check: false-alarm rate (goal <= 5 %) and the noise floor it gives later comparisons."""
    doc = ctx.res.json_of("aa.json")
    if doc is None:
        return False
    a = doc.get("aa") or {}
    rate, goal = a.get("rate"), a.get("goal", 0.05)
    pg.p("From <code>bench/run --ab BUILD BUILD</code> (make bench): the matrix's ipclab lines measured twice by "
         "the same build, interleaved launch by launch (A B, B A, ...), each line at least 5 launches per side "
         "(a <code>--repeat R</code> line as R launches of one repeat), then "
         "<code>scripts/ipclab-compare aa/A aa/B --noise none</code> (<a href=\"aa.json\">aa.json</a>): every "
         "metric judged by the Mann-Whitney test on its per-launch values. Nothing changed, so every "
         "&quot;slower&quot; or &quot;faster&quot; is a false alarm; the goal is at most %s of the judged rows."
         % fmt_pct(goal, 0), "note")
    ok = a.get("met") is True
    pg.table(["rows", "judged", "false alarms", "rate", "goal", ""],
             [[n(a.get("rows"), str), n(a.get("judged"), str), n(a.get("false_alarms"), str),
               (fmt_pct(rate), "n ok" if ok else "n flag"), "&le; %s" % fmt_pct(goal, 0),
               '<span class="ok">met</span>' if ok else '<span class="flag">NOT met</span>']])
    if not ok:
        ctx.warn("A/A check", "%s of the rows of an A/A comparison were called slower or faster (goal &le; %s)"
                 % (fmt_pct(rate), fmt_pct(goal, 0)))
    if a.get("alarms"):
        pg.table(["run", "metric", "verdict", "change", "95 % CI", "p"],
                 [[esc(x["id"]), esc(x["metric"]), esc(x["verdict"]), n(x.get("change_pct"), lambda v: "%+.1f %%" % v),
                   esc(fmt_ci(x.get("ci_pct"))), n(x.get("p"), lambda v: "%.3g" % v)] for x in a["alarms"]],
                 ["warn"] * len(a["alarms"]))
    noise = sorted(compare.noise_of(doc).values())
    if noise:
        pg.p("The A/A noise of a row (how far the same build moved: the larger of its median change and its "
             "Hodges-Lehmann shift) is the floor below which a later comparison with this folder calls a change "
             "&quot;no change&quot;: median %.1f %%, 75th percentile %.1f %%, 90th percentile %.1f %% over %d rows "
             "(on a shared machine the cross-CPU, throughput and task rows move most)."
             % (median(noise), noise[int(0.75 * (len(noise) - 1))], noise[int(0.9 * (len(noise) - 1))], len(noise)),
             "note")
    return True


def effects_section(ctx, pg):
    """Effect rates: how often each concurrency demo showed its effect (goal >= 99 %)."""
    doc = ctx.res.json_of("effect-rates.json")
    if doc is None:
        return False
    rows = doc.get("rows") or []
    pg.p("From <code>bench/effect-rates</code> (<a href=\"effect-rates.json\">effect-rates.json</a>): every "
         "demonstration whose point is an effect of concurrency run %s times per mode, one after the other. A "
         "run that exits 4 (inconclusive: it could not show the effect and said so) counts as not shown. The "
         "effect is the experiment's own verdict (<code>results.inconclusive</code>: null when it showed) when it gives one, else "
         "the rule below." % esc(doc.get("runs_per_demo")), "note")
    body, cls = [], []
    for r in rows:
        c = r.get("counts") or {}
        ok = r.get("met") is True
        body.append([esc(r.get("demo")), esc(r.get("mode") or "–"), "<code>%s</code>" % esc(r.get("command")),
                     esc(r.get("effect")), n(r.get("runs"), str), n(c.get("shown"), str), n(c.get("not shown"), str),
                     n(c.get("inconclusive"), str), n(c.get("failed"), str),
                     (fmt_pct(r.get("rate")), "n ok" if ok else "n flag"),
                     '<span class="ok">met</span>' if ok else '<span class="flag">below %s</span>'
                     % fmt_pct(r.get("goal"), 0)])
        cls.append(None if ok else "warn")
        if not ok:
            ctx.warn("effect rates", "%s (%s) showed its effect in %s of %s runs (goal %s)%s"
                     % (esc(r.get("demo")), esc(r.get("mode") or "-"), fmt_pct(r.get("rate")), esc(r.get("runs")),
                        fmt_pct(r.get("goal"), 0), ": " + esc(r["reasons"][0]["reason"]) if r.get("reasons") else ""))
    pg.table(["demo", "mode", "command", "effect", "runs", "shown", "not shown", "inconclusive", "failed", "rate",
              "goal"], body, cls)
    rules = doc.get("rules") or {}
    if rules:
        pg.p("Rules when the run states no verdict: " + "; ".join("<b>%s</b>: %s" % (esc(k), esc(v))
                                                                  for k, v in rules.items()) + ".", "note")
    return True
