"""test_stats - ipclab_tools.stats against published tables and independent computations:
Siegel's Mann-Whitney table, Hollander & Wolfe's textbook examples (as R's wilcox.test
reports them), scipy where it computes the same thing, brute force where nothing else
does, and a seeded bootstrap reproducing a stored interval."""

import itertools
import math
import random
import unittest

from ipclab_tools import stats

try:
    import numpy
    import scipy.stats
except ImportError:  # scripts/deps installs python3-scipy; without it these checks SKIP
    numpy = scipy = None

# Hollander & Wolfe (1973), p. 69: permeability constants of the human chorioamnion
# (the example of R's ?wilcox.test): x at term, y at 12-26 weeks
HW_X = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
HW_Y = [1.15, 0.88, 0.90, 0.74, 1.21]
# Hollander, Wolfe & Chicken (2014): the example of the CAMIS comparison of HL estimators
HWC_A = [0.878, 0.647, 0.598, 2.050, 1.060, 1.290, 1.060, 3.140, 1.290]
HWC_B = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]


def brute_force_p(a, b):
    """Two-sided exact permutation p of the rank sum: every split of the pooled values."""
    pool = list(a) + list(b)
    ranks = stats.midranks(pool)
    n, total = len(b), len(pool)
    centre = n * (total + 1) / 2.0
    obs = abs(sum(ranks[len(a):]) - centre)
    hits = count = 0
    for idx in itertools.combinations(range(total), n):
        count += 1
        hits += abs(sum(ranks[i] for i in idx) - centre) >= obs - 1e-9
    return hits / count


class Beta(unittest.TestCase):
    """stats_betai: the regularized incomplete beta (scipy.special.betainc) on closed forms."""

    def test_closed_forms(self):
        for x in (0.01, 0.3, 0.5, 0.77, 0.99):
            self.assertAlmostEqual(stats.betai(1, 1, x), x, places=14)
            self.assertAlmostEqual(stats.betai(3, 1, x), x ** 3, places=14)
            self.assertAlmostEqual(stats.betai(1, 4, x), 1 - (1 - x) ** 4, places=14)
        for a in (0.5, 2, 7.5, 40):
            self.assertAlmostEqual(stats.betai(a, a, 0.5), 0.5, places=12)

    def test_known_value_and_edges(self):
        # I_0.4(2, 3) = sum_{j=2..4} C(4,j) 0.4^j 0.6^(4-j) = 0.5248
        self.assertAlmostEqual(stats.betai(2, 3, 0.4), 0.5248, places=12)
        self.assertEqual(stats.betai(2, 3, 0.0), 0.0)
        self.assertEqual(stats.betai(2, 3, 1.0), 1.0)

    def test_binomial_tail(self):
        """binom_sf against the sum of the binomial probabilities."""
        self.assertAlmostEqual(stats.binom_sf(10, 0.5, 8), 56 / 1024, places=14)
        for n, p, r in ((20, 0.3, 5), (101, 0.51, 51), (7, 0.9, 7)):
            direct = sum(math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(r, n + 1))
            self.assertAlmostEqual(stats.binom_sf(n, p, r), direct, places=12)


class MannWhitney(unittest.TestCase):
    """stats_mann_whitney: exact p-values with and without ties, and the normal approximation."""

    def test_siegel_table_j(self):
        """The null distribution of U against Siegel (1956) Table J, P(U <= u)."""
        for (m, n), table in (((5, 5), [0.004, 0.008, 0.016, 0.028, 0.048, 0.075, 0.111]),
                              ((4, 6), [0.005, 0.010, 0.019, 0.033, 0.057, 0.086, 0.129])):
            counts = stats.u_null_counts(m, n)
            self.assertEqual(sum(counts), math.comb(m + n, m))
            cum = list(itertools.accumulate(counts))
            self.assertEqual([round(c / sum(counts), 3) for c in cum[:len(table)]], table)

    def test_table_p_values(self):
        """Two-sided p = twice the table's one-sided tail (m = n = 5, U = 0 and U = 2)."""
        _, p, how = stats.mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
        self.assertEqual(how, "exact")
        self.assertAlmostEqual(p, 2 * 1 / 252, places=14)
        _, p, _ = stats.mann_whitney([1, 2, 3, 4, 7], [5, 6, 8, 9, 10])
        self.assertAlmostEqual(p, 2 * 4 / 252, places=14)

    def test_hollander_wolfe_permeability(self):
        """W = 35, one-sided p = 0.1272 (R: wilcox.test(x, y, alternative = "g"))."""
        u, p, how = stats.mann_whitney(HW_Y, HW_X)
        self.assertEqual((u, how), (35.0, "exact"))
        self.assertAlmostEqual(p / 2, 0.1272, places=4)

    def test_ties_exact(self):
        """With ties, the exact permutation p (brute force), which scipy's "exact" is not."""
        a, b = [1, 2, 2, 3, 4], [2, 3, 5, 5, 6]
        self.assertAlmostEqual(stats.mann_whitney(a, b)[1], brute_force_p(a, b), places=14)
        self.assertAlmostEqual(stats.mann_whitney(a, b)[1], 1 / 9, places=14)
        a, b = [10, 10, 10, 12], [10, 12, 12, 13, 13]
        self.assertAlmostEqual(stats.mann_whitney(a, b)[1], brute_force_p(a, b), places=14)

    @unittest.skipIf(scipy is None, "python3-scipy not installed")
    def test_no_ties_matches_scipy(self):
        rng = random.Random(7)
        for m, n in ((3, 4), (5, 5), (6, 9)):
            a = rng.sample(range(1000), m)
            b = rng.sample(range(1000, 2000), n // 2) + rng.sample(range(2000, 3000), n - n // 2)
            b = [v - 1500 for v in b]
            a = [v for v in a if v not in b]
            ref = scipy.stats.mannwhitneyu(b, a, method="exact", alternative="two-sided").pvalue
            self.assertAlmostEqual(stats.mann_whitney(a, b)[1], ref, places=12)

    @unittest.skipIf(scipy is None, "python3-scipy not installed")
    def test_normal_approximation_matches_scipy(self):
        a, b = list(range(40)) + [5] * 10, list(range(10, 50)) + [5] * 5
        _, p, how = stats.mann_whitney(a, b)
        self.assertEqual(how, "normal")
        ref = scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=True).pvalue
        self.assertAlmostEqual(p, ref, places=12)

    def test_min_p(self):
        self.assertAlmostEqual(stats.min_p_exact(3, 3), 0.1, places=14)
        self.assertAlmostEqual(stats.min_p_exact(5, 5), 2 / 252, places=14)

    def test_midranks(self):
        self.assertEqual(stats.midranks([3, 1, 3, 2]), [3.5, 1.0, 3.5, 2.0])


class HodgesLehmann(unittest.TestCase):
    """stats_hodges_lehmann: the estimate and the distribution-free interval."""

    def test_permeability_example(self):
        """R: wilcox.test(x, y, conf.int = TRUE): difference in location 0.305."""
        est, lo, hi = stats.hodges_lehmann(HW_Y, HW_X, 0.05)
        self.assertAlmostEqual(est, 0.305, places=12)
        self.assertAlmostEqual(lo, -0.15, places=12)
        self.assertAlmostEqual(hi, 0.76, places=12)

    def test_interval_inverts_the_test(self):
        """The interval is the set of shifts the U test does not reject (computed here by
        testing shifted samples, not by order statistics)."""
        _, lo, hi = stats.hodges_lehmann(HW_Y, HW_X, 0.05)
        eps = 1e-9
        for d, inside in ((lo - eps, False), (lo + eps, True), (hi - eps, True), (hi + eps, False)):
            p = stats.mann_whitney([v + d for v in HW_Y], HW_X)[1]
            self.assertEqual(p > 0.05, inside, "shift %r: p %r" % (d, p))

    def test_hollander_wolfe_chicken(self):
        """R reports 0.5600562 and the Moses interval (-0.3699774, 1.1829708) (normal
        approximation under ties): the exact median of differences and interval agree."""
        est, lo, hi = stats.hodges_lehmann(HWC_A, HWC_B, 0.05)
        self.assertAlmostEqual(est, 0.5600562, places=3)
        self.assertAlmostEqual(lo, -0.3699774, places=3)
        self.assertAlmostEqual(hi, 1.1829708, places=3)

    def test_too_few_values(self):
        est, lo, hi = stats.hodges_lehmann([1.0, 2.0], [3.0, 4.0], 0.05)
        self.assertEqual((est, lo, hi), (2.0, None, None))


class Bootstrap(unittest.TestCase):
    """stats_bootstrap: the median's sampling distribution and a seeded interval."""

    VA, CA = list(range(1000, 1041)), [1 + (i % 3) for i in range(41)]
    VB, CB = list(range(1030, 1071)), [1 + (i % 4) for i in range(41)]

    def test_median_distribution_is_the_order_statistic(self):
        """HistMedian's cdf = P(at least ceil(N/2) of N draws <= v), summed directly."""
        values, counts = [1, 2, 3], [3, 4, 3]
        h = stats.HistMedian(values, counts)
        n, rank = 10, 5
        cum = 0
        for i, c in enumerate(counts):
            cum += c
            f = cum / n
            direct = sum(math.comb(n, k) * f ** k * (1 - f) ** (n - k) for k in range(rank, n + 1))
            self.assertAlmostEqual(h.cdf[i], direct, places=12)

    def test_draws_match_drawing_samples(self):
        """Drawing the median directly and drawing N samples then taking the median agree
        (20 000 of each, seeded)."""
        values, counts = [1, 2, 3, 4], [2, 3, 3, 1]
        h = stats.HistMedian(values, counts)
        rng1, rng2 = random.Random(1), random.Random(2)
        pool = [v for v, c in zip(values, counts) for _ in range(c)]
        direct, sampled = {}, {}
        for _ in range(20000):
            d = h.draw(rng1)
            direct[d] = direct.get(d, 0) + 1
            s = sorted(rng2.choice(pool) for _ in range(9))[4]
            sampled[s] = sampled.get(s, 0) + 1
        for v in values:
            self.assertAlmostEqual(direct.get(v, 0) / 20000, sampled.get(v, 0) / 20000, delta=0.015)

    def test_stored_interval(self):
        """A fixed seed reproduces the interval stored when this test was written."""
        ha, hb = stats.HistMedian(self.VA, self.CA), stats.HistMedian(self.VB, self.CB)
        lo, hi, med = stats.bootstrap_ratio(ha, hb, 2000, 0.05, random.Random("stored"))
        self.assertAlmostEqual(lo, 0.02346041055718473, places=15)
        self.assertAlmostEqual(hi, 0.03539823008849563, places=15)
        self.assertAlmostEqual(med, 0.02941176470588225, places=15)

    @unittest.skipIf(scipy is None, "python3-scipy not installed")
    def test_agrees_with_scipy_bootstrap(self):
        """scipy.stats.bootstrap (percentile) on the expanded samples gives the same interval."""
        ha, hb = stats.HistMedian(self.VA, self.CA), stats.HistMedian(self.VB, self.CB)
        lo, hi, _ = stats.bootstrap_ratio(ha, hb, 5000, 0.05, random.Random(3))
        a, b = numpy.repeat(self.VA, self.CA), numpy.repeat(self.VB, self.CB)
        ref = scipy.stats.bootstrap((a, b), lambda x, y, axis: numpy.median(y, axis=axis) / numpy.median(x, axis=axis) - 1,
                                    n_resamples=5000, method="percentile", vectorized=True, random_state=1)
        self.assertAlmostEqual(lo, ref.confidence_interval.low, delta=0.002)
        self.assertAlmostEqual(hi, ref.confidence_interval.high, delta=0.002)

    def test_quantile_is_linear(self):
        s = [1.0, 2.0, 4.0, 8.0]
        self.assertEqual(stats.quantile_sorted(s, 0.5), 3.0)
        self.assertEqual(stats.quantile_sorted(s, 1.0), 8.0)
        self.assertAlmostEqual(stats.quantile_sorted(s, 0.25), 1.75)
        self.assertIsNone(stats.quantile_sorted([], 0.5))


if __name__ == "__main__":
    unittest.main()
