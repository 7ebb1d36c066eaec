"""fmt.py - numbers as every tool prints them: the one num() test, ns/µs conversions,
the report's cell formats, compare's latency/throughput text and TSV cells."""

import math

DASH = "\u2013"  # a missing value in the report


def num(v):
    """True for a finite int or float (a bool is not a number here)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def us(ns):
    """ns -> µs float (None stays None)."""
    return ns / 1000.0 if num(ns) else None


def fmt_us(ns):
    """ns as µs with 2, 1 or 0 decimals by size (the report's latency cells)."""
    v = us(ns)
    if v is None:
        return DASH
    if abs(v) < 10:
        return "%.2f" % v
    if abs(v) < 100:
        return "%.1f" % v
    return "%.0f" % v


def fmt_ns(v, digits=1):
    return ("%%.%df" % digits) % v if num(v) else DASH


def fmt_pct(v, digits=1):
    """A fraction as a percentage: 0.053 -> '5.3 %'."""
    return ("%%.%df %%%%" % digits) % (100 * v) if num(v) else DASH


def fmt_signed_pct(v):
    """A percentage with its sign, no blank: '+3.4%' (compare's tables)."""
    return "%+.1f%%" % v if num(v) else "-"


def fmt_x(v, digits=2):
    return ("%%.%df\u00d7" % digits) % v if num(v) else DASH


def fmt_ratio(v):
    return "%.3f" % v if num(v) else DASH


def fmt_g(v, digits=3):
    """A compact number: 3 significant digits, thousands grouped (thin space) for big ones."""
    if not num(v):
        return DASH
    if abs(v) >= 1000:
        return "{:,.0f}".format(v).replace(",", "\u2009")
    return ("%%.%dg" % digits) % v


def fmt_duration_ns(v):
    """A latency in ns with its unit: '950 ns', '12.5 ns', '3.40 us', '1.20 ms', '2.000 s'."""
    if not num(v):
        return "-"
    if abs(v) < 10000:
        return "%d ns" % round(v) if float(v).is_integer() else "%.1f ns" % v
    if abs(v) < 1e7:
        return "%.2f us" % (v / 1e3)
    if abs(v) < 1e10:
        return "%.2f ms" % (v / 1e6)
    return "%.3f s" % (v / 1e9)


def fmt_rate(v, unit):
    """A throughput with an SI prefix: '1.05M msgs/s'; MiB/s as is."""
    if not num(v):
        return "-"
    if unit == "mib/s":
        return "%.4g MiB/s" % v
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return "%.4g%s %s" % (v / div, suf, unit)
    return "%.4g %s" % (v, unit)


def mmss(seconds):
    """'m:ss' (the runner's elapsed time and ETA)."""
    s = int(seconds)
    return "%d:%02d" % (s // 60, s % 60)


def tsv_val(v):
    """One TSV cell: NaN for missing, 1/0 for booleans, 6 significant digits for floats."""
    if v is None:
        return "NaN"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return "%.6g" % v if math.isfinite(v) else "NaN"
    return str(v).replace("\t", " ").replace("\n", " ")


def tsv_str(v):
    """A quoted header cell for gnuplot's columnheader()."""
    return '"%s"' % str(v).replace('"', "'").replace("\t", " ")
