"""stats.py - the statistics of ipclab-compare, each checked against published or
independently computed values in tests/tools/test_stats.py.

From python3-scipy: the regularized incomplete beta (scipy.special.betainc), behind the
binomial tail that gives the sampling distribution of a histogram's median.

Ours, with the measured reason (scipy 1.10, Debian 12):
- mann_whitney(): the exact two-sided p-value *with ties*. scipy.stats.mannwhitneyu's
  method="exact" uses the no-ties null distribution even when values tie (a=[1,2,2,3,4],
  b=[2,3,5,5,6]: scipy exact p = 0.151, the exact permutation p is 0.111); ipclab's
  per-repeat medians are histogram bucket values and tie often.
- hodges_lehmann(): scipy has no Hodges-Lehmann estimator or its distribution-free interval.
- HistMedian / bootstrap_ratio(): scipy.stats.bootstrap resamples the raw samples; a run
  of 20 000 round trips and 1 000 resamples is 2e7 draws per row (0.86 s per row here,
  vectorised); drawing each resample's median from its exact order-statistic distribution (a binomial
  tail over the buckets) is one draw: 23 ms per row, the same distribution.
"""

import bisect
import math
import statistics

from .cli import NoResource
from .fmt import num

EXACT_MW_MAX = 60  # m + n above which the U test uses the normal approximation

_betainc = None


def betai(a, b, x):
    """Regularized incomplete beta I_x(a, b) (scipy.special.betainc)."""
    global _betainc  # pylint: disable=global-statement
    if _betainc is None:
        try:
            from scipy.special import betainc  # pylint: disable=import-outside-toplevel
        except ImportError:
            raise NoResource("python3-scipy is needed for the statistics (scripts/deps installs it)") from None
        _betainc = betainc
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return float(_betainc(a, b, x))


def binom_sf(n, p, r):
    """P(Binomial(n, p) >= r), 1 <= r <= n: I_p(r, n - r + 1)."""
    return betai(float(r), float(n - r + 1), p)


class HistMedian:
    """The median of N draws (with replacement) from a histogram, as ipclab reports it: the
    ceil(N/2)-th smallest value. values: the bucket values (ascending), counts: samples."""

    def __init__(self, values, counts):
        self.values = values
        self.n = sum(counts)
        rank = (self.n + 1) // 2
        cdf, cum, g = [], 0, 0.0
        for c in counts:
            cum += c
            p = min(1.0, cum / self.n)
            # P(median <= this value) = P(at least `rank` of the N draws are <= it)
            g = max(g, 1.0 if p >= 1.0 else binom_sf(self.n, p, rank))
            cdf.append(g)
        cdf[-1] = 1.0
        self.cdf = cdf

    def draw(self, rng):
        return self.values[min(bisect.bisect_left(self.cdf, rng.random()), len(self.values) - 1)]


def quantile_sorted(s, q):
    """Linearly interpolated quantile of a sorted list (numpy's default), None if empty."""
    if not s:
        return None
    pos = q * (len(s) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def bootstrap_ratio(ha, hb, resamples, alpha, rng):
    """(lo, hi, median) of median(B*)/median(A*) - 1 over `resamples` resamples: the
    percentile interval at level 1 - alpha. None if a resampled A median is <= 0."""
    ratios = []
    for _ in range(resamples):
        a = ha.draw(rng)
        b = hb.draw(rng)
        if a <= 0:
            return None
        ratios.append(b / a - 1.0)
    ratios.sort()
    return (quantile_sorted(ratios, alpha / 2), quantile_sorted(ratios, 1 - alpha / 2),
            quantile_sorted(ratios, 0.5))


def midranks(values):
    """Ranks (1-based, ties get the mean rank) of values, in their order."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def rank_sum_distribution(doubled_ranks, n):
    """{sum of n of the doubled ranks: number of subsets} (exact, ties included)."""
    dist = [dict() for _ in range(n + 1)]
    dist[0][0] = 1
    for r in doubled_ranks:
        for k in range(n, 0, -1):
            prev, cur = dist[k - 1], dist[k]
            for s, c in prev.items():
                cur[s + r] = cur.get(s + r, 0) + c
    return dist[n]


def mann_whitney(a, b):
    """Two-sided Mann-Whitney U test of a vs b: (U of b, p, "exact" | "normal"). Exact
    (the permutation distribution of the rank sum, ties included) up to EXACT_MW_MAX values;
    above, the normal approximation with tie and continuity corrections."""
    m, n = len(a), len(b)
    ranks = midranks(list(a) + list(b))
    rb = sum(ranks[m:])
    u = rb - n * (n + 1) / 2.0
    if m + n <= EXACT_MW_MAX:
        dist = rank_sum_distribution([int(round(2 * r)) for r in ranks], n)
        total = sum(dist.values())
        centre = n * (m + n + 1)          # doubled expected rank sum
        obs = abs(int(round(2 * rb)) - centre)
        extreme = sum(c for s, c in dist.items() if abs(s - centre) >= obs)
        return u, min(1.0, extreme / total), "exact"
    ties = {}
    for r in ranks:
        ties[r] = ties.get(r, 0) + 1
    tsum = sum(t ** 3 - t for t in ties.values())
    var = m * n / 12.0 * ((m + n + 1) - tsum / ((m + n) * (m + n - 1)))
    if var <= 0:
        return u, 1.0, "normal"
    z = max(0.0, abs(u - m * n / 2.0) - 0.5) / math.sqrt(var)
    return u, min(1.0, math.erfc(z / math.sqrt(2))), "normal"


def u_null_counts(m, n):
    """Counts of the null distribution of U (no ties), index U = 0..m*n."""
    f = [[None] * (n + 1) for _ in range(m + 1)]
    for i in range(m + 1):
        for j in range(n + 1):
            if i == 0 or j == 0:
                f[i][j] = [1]
                continue
            out = [0] * (i * j + 1)
            # the largest pooled value is from b (adds i to U) or from a (adds 0)
            for u, c in enumerate(f[i][j - 1]):
                out[u + i] += c
            for u, c in enumerate(f[i - 1][j]):
                out[u] += c
            f[i][j] = out
    return f[m][n]


def hodges_lehmann(a, b, alpha):
    """(estimate, lo, hi): the Hodges-Lehmann shift of b vs a (the median of the m*n
    differences b_j - a_i) and its distribution-free (1 - alpha) interval [d_(k),
    d_(mn+1-k)] (Hollander & Wolfe); lo and hi are None when m and n cannot reach it."""
    m, n = len(a), len(b)
    d = sorted(y - x for x in a for y in b)
    est = statistics.median(d)
    mn = m * n
    if m + n <= EXACT_MW_MAX:
        counts = u_null_counts(m, n)
        total = sum(counts)
        cum, c = 0, -1
        for u, k in enumerate(counts):
            cum += k
            if cum / total <= alpha / 2 + 1e-12:
                c = u
            else:
                break
        if c < 0:
            return est, None, None
        k = c + 1
    else:
        z = statistics.NormalDist().inv_cdf(1 - alpha / 2)
        k = int(math.floor(mn / 2.0 - z * math.sqrt(mn * (m + n + 1) / 12.0)))
        if k < 1:
            return est, None, None
    return est, d[k - 1], d[mn - k]


def min_p_exact(m, n):
    """The smallest two-sided p-value m and n values can give (no ties)."""
    return min(1.0, 2.0 / math.comb(m + n, m))


def rel_stddev(values):
    """Sample standard deviation / mean (0 for fewer than 2 values or a zero mean)."""
    if len(values) < 2:
        return 0.0
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean if mean > 0 else 0.0


def median(values):
    """The median of the numbers in values (None if there are none)."""
    v = [x for x in values if num(x)]
    return statistics.median(v) if v else None


def ratio(a, b):
    """a / b, None unless both are numbers and b is not 0."""
    return a / b if num(a) and num(b) and b != 0 else None
