"""hist.py - ipclab's --hist files, read once, and the geometry of its buckets.

A file holds one block per latency summary:
    # histogram: NAME
    # unit: ns (bucket lower edge)
    # count: N  overflow(>MAX ns): O
    # min: A  mean: ...  p50: B ... max: C
    # bucket_ns<TAB>count
    LOWER<TAB>COUNT ...
Buckets are log-linear: 1 ns wide below 128 ns, above that 64 linear buckets per octave
(src/core/hist.c); a bucket's value is its lower edge + width/2, clamped to [min, max]."""

import math
import re

HEADER_RE = re.compile(r"(?<![\w.])(count|min|max|p50|overflow\([^)]*\)):\s*(\d+)")
BINS_PER_OCTAVE = 16  # the report's figures: 16 groups of 4 buckets per octave


class Block:
    """One histogram: name, buckets [(lower_ns, count)], the header's count, overflow, min,
    max and p50 (None when absent), and bad: a line that is not two counts was seen."""

    def __init__(self, name):
        self.name = name
        self.buckets = []
        self.overflow = None
        self.count = None
        self.min = None
        self.max = None
        self.p50 = None
        self.bad = False

    def header(self, key):
        return getattr(self, key)


def read(path):
    """[Block] of a --hist file, in file order; None if the file cannot be read."""
    blocks, cur = [], None
    try:
        with open(path) as f:
            for line in f:
                s = line.strip()
                if s.startswith("# histogram:"):
                    cur = Block(s.split(":", 1)[1].strip())
                    blocks.append(cur)
                elif cur is None:
                    continue
                elif s.startswith("#"):
                    for key, val in HEADER_RE.findall(s):
                        setattr(cur, "overflow" if key.startswith("overflow") else key, int(val))
                elif s:
                    parts = s.split()
                    try:
                        lo, c = int(parts[0]), int(parts[1])
                        if lo < 0 or c < 0:
                            raise ValueError
                        cur.buckets.append((lo, c))
                    except (ValueError, IndexError):
                        cur.bad = True
    except (OSError, UnicodeDecodeError):
        return None
    return blocks


def by_name(blocks):
    """{name: [Block]} (a name may repeat: one block per repeat or variant)."""
    out = {}
    for b in blocks or []:
        out.setdefault(b.name, []).append(b)
    return out


def bucket_width(lower):
    return 1 if lower < 128 else 1 << (lower.bit_length() - 7)


def lower_edge(v):
    """The bucket (lower edge) of a value in ns."""
    if v < 128:
        return v
    shift = v.bit_length() - 7
    return (v >> shift) << shift


def bucket_value(lower, smin, smax):
    """The value ipclab reports for a sample in this bucket: the middle, within [min, max]."""
    return min(max(lower + bucket_width(lower) // 2, smin), smax)


def rebin(pairs):
    """Groups the log-linear buckets by BINS_PER_OCTAVE linear groups per octave, aligned on
    bucket edges (geometric bins would split buckets and alias), each count turned into a
    density: samples per 1/BINS_PER_OCTAVE octave, so bins of any width read alike on a log
    x axis. Returns [(lo_ns, hi_ns, density)], a (lo, hi, 0) entry marking each gap."""
    group = 64 // BINS_PER_OCTAVE
    acc = {}
    for lo, c in pairs:
        if lo < 128:
            blo, bhi = lo, lo + 1
        else:
            shift = lo.bit_length() - 7          # bucket width is 1 << shift
            sub = (lo >> shift) - 64             # 0..63 inside the octave
            blo = (64 + sub // group * group) << shift
            bhi = blo + (group << shift)
        acc[(blo, bhi)] = acc.get((blo, bhi), 0) + c
    out, prev_hi = [], None
    for (blo, bhi) in sorted(acc):
        if prev_hi is not None and blo > prev_hi:
            out.append((prev_hi, blo, 0))
        width_octaves = math.log2(bhi / blo) if blo > 0 else 1.0
        out.append((blo, bhi, acc[(blo, bhi)] / (width_octaves * BINS_PER_OCTAVE)))
        prev_hi = bhi
    return out


def buckets_by_name(path):
    """{name: [(lower_ns, count)]} of a --hist file (the last block of a name wins; {} if
    the file cannot be read): what the report's histogram figures draw."""
    return {b.name: b.buckets for b in read(path) or []}
