"""The statistics and the verdicts on synthetic data: identical samples are
no regression, a 1.5x shift is flagged, and pure noise drawn many times
raises false alarms at or below the stated rate."""
import math
import os
import sys
import unittest

import numpy as np
from scipy import stats as sst

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from vmmbench import stats as S  # noqa: E402

N = 7  # runs per side, as the quick profile


def noisy(rng, center, n=N, sigma=0.05):
    return list(center * rng.lognormal(0.0, sigma, n))


class Estimates(unittest.TestCase):
    def test_identical_values_give_a_zero_width_interval(self):
        e = S.median_ci([4.0] * N)
        self.assertEqual((e.value, e.lo, e.hi, e.n, e.mark), (4.0, 4.0, 4.0, N, ""))

    def test_interval_holds_the_median_and_lies_within_the_data(self):
        x = noisy(np.random.default_rng(1), 10.0)
        e = S.median_ci(x)
        self.assertLessEqual(e.lo, e.value)
        self.assertLessEqual(e.value, e.hi)
        self.assertGreaterEqual(e.lo, min(x))
        self.assertLessEqual(e.hi, max(x))

    def test_too_few_runs_give_no_interval(self):
        e = S.median_ci([1.0, 2.0])
        self.assertTrue(math.isnan(e.lo) and math.isnan(e.hi))
        self.assertEqual(e.n, 2)

    def test_interval_covers_the_true_median_about_as_stated(self):
        # 400 draws of 15 from a known distribution: the 95% interval
        # should hold the true median most of the time (percentile
        # bootstrap of a median is a little conservative or a little
        # liberal at small n; 85% is a loose floor, 100% a sign of nonsense).
        rng = np.random.default_rng(2)
        hits = sum(e.lo <= 10.0 <= e.hi for e in
                   (S.median_ci(noisy(rng, 10.0, 15), i) for i in range(400)))
        self.assertGreater(hits / 400, 0.85)
        self.assertLess(hits / 400, 1.0)

    def test_ratio_of_medians(self):
        r = S.ratio_ci([3.0, 3.0, 3.0, 3.0], [2.0, 2.0, 2.0, 2.0])
        self.assertEqual((r.value, r.lo, r.hi), (1.5, 1.5, 1.5))

    def test_bimodal_runs_are_marked(self):
        # The shape the issue reported: 18-22 ns in some runs, 120-226 in others.
        self.assertEqual(S.shape([18, 19, 22, 20, 120, 226, 150]), "bimodal")
        self.assertEqual(S.median_ci([18, 19, 22, 20, 120, 226, 150]).mark, "bimodal")

    def test_one_outlier_is_not_bimodal_but_unstable(self):
        x = [10.0, 10.1, 9.9, 10.05, 10.0, 9.95, 30.0]
        self.assertEqual(S.shape(x), "")
        self.assertNotEqual(S.median_ci(x).mark, "bimodal")

    def test_tight_noise_is_not_marked(self):
        x = noisy(np.random.default_rng(3), 10.0, sigma=0.01)
        self.assertEqual(S.median_ci(x).mark, "")

    def test_min_runs_for_alpha(self):
        self.assertEqual(S.min_runs_for(0.01), 5)  # 1/C(10,5) = 0.004
        self.assertEqual(S.min_runs_for(0.05), 4)  # 1/C(8,4) = 0.014


class Verdicts(unittest.TestCase):
    def test_identical_samples_are_the_same(self):
        x = noisy(np.random.default_rng(4), 10.0)
        v = S.verdict(x, list(x))
        self.assertEqual(v.verdict, "same")
        self.assertAlmostEqual(v.ratio.value, 1.0)

    def test_a_1_5x_slowdown_is_flagged(self):
        rng = np.random.default_rng(5)
        for i in range(20):
            base = noisy(rng, 10.0, sigma=0.02)
            v = S.verdict(base, noisy(rng, 15.0, sigma=0.02), seed=i)
            self.assertEqual(v.verdict, "slower", f"draw {i}: {v}")
            self.assertGreater(v.ratio.lo, 1.05)

    def test_a_1_5x_slowdown_of_an_unstable_point_is_inconclusive(self):
        # Runs that spread by 2x inside one result: the shift is reported
        # as slower? and never fails the comparison on its own.
        base = [10, 10.2, 10.1, 10.3, 10.0, 10.1, 10.2]
        new = [15, 15.5, 16, 22, 30, 15.2, 25]
        v = S.verdict(base, new)
        self.assertEqual(v.verdict, "slower?")
        self.assertIn(v.note, ("unstable", "bimodal"))

    def test_a_1_5x_speedup_is_faster_not_slower(self):
        rng = np.random.default_rng(6)
        v = S.verdict(noisy(rng, 15.0), noisy(rng, 10.0))
        self.assertEqual(v.verdict, "faster")

    def test_a_change_below_the_threshold_is_the_same(self):
        # 3% slower with almost no noise: significant, but not beyond 5%.
        rng = np.random.default_rng(7)
        v = S.verdict(noisy(rng, 10.0, sigma=0.002), noisy(rng, 10.3, sigma=0.002))
        self.assertLess(v.p_slower, S.ALPHA)
        self.assertEqual(v.verdict, "same")
        v = S.verdict(noisy(rng, 10.0, sigma=0.002), noisy(rng, 10.3, sigma=0.002),
                      threshold=0.01)
        self.assertEqual(v.verdict, "slower")

    def test_too_few_runs_never_flag(self):
        v = S.verdict([1.0, 1.0], [2.0, 2.0])
        self.assertEqual(v.verdict, "same")

    def _false_alarms(self, threshold, sigma, trials=600, also=None):
        rng = np.random.default_rng(8)
        flagged = 0
        for i in range(trials):
            a, b = noisy(rng, 10.0, sigma=sigma), noisy(rng, 10.0, sigma=sigma)
            flagged += S.verdict(a, b, threshold=threshold, seed=i).verdict in ("slower", also)
        # At or below the stated rate, allowing for the binomial error of
        # `trials` draws (99.9% upper quantile at rate alpha).
        bound = sst.binom.ppf(0.999, trials, S.ALPHA)
        return flagged, bound

    def test_pure_noise_false_alarms_at_most_alpha_without_threshold(self):
        # Tight noise: the points are stable, so the test alone decides.
        flagged, bound = self._false_alarms(0.0, 0.01)
        self.assertLessEqual(flagged, bound, f"{flagged} false alarms, bound {bound}")

    def test_wide_noise_false_alarms_at_most_alpha_counting_inconclusive(self):
        flagged, bound = self._false_alarms(0.0, 0.10, also="slower?")
        self.assertLessEqual(flagged, bound, f"{flagged} false alarms, bound {bound}")

    def test_pure_noise_false_alarms_at_most_alpha_with_threshold(self):
        flagged, bound = self._false_alarms(0.05, 0.10)
        self.assertLessEqual(flagged, bound, f"{flagged} false alarms, bound {bound}")

    def test_pure_noise_heavy_tails(self):
        # Descheduling gives rare huge outliers: rank tests do not care.
        rng = np.random.default_rng(9)
        flagged = 0
        for i in range(300):
            a = [10 * (1 + (rng.random() < 0.1) * rng.pareto(1.0)) for _ in range(N)]
            b = [10 * (1 + (rng.random() < 0.1) * rng.pareto(1.0)) for _ in range(N)]
            flagged += S.verdict(a, b, threshold=0.0, seed=i).verdict in ("slower", "slower?")
        self.assertLessEqual(flagged, sst.binom.ppf(0.999, 300, S.ALPHA))


if __name__ == "__main__":
    unittest.main()
