"""The statistics of the bench, all from numpy/scipy: the median of a point
with a 95% bootstrap interval, the ratio of two medians with its interval,
marks for unstable and bimodal points, and the verdict of a comparison.

A sample is one value per process (run): repetitions inside one process are
folded into their median first, because what varies between runs (host page
placement, the neighbours' cache use) is what a new run would meet."""
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sst

CONF = 0.95
RESAMPLES = 4000
# Per point, a false "slower" on pure noise happens at most at this rate
# (one-sided exact Mann-Whitney test; the interval condition only lowers it).
ALPHA = 0.01
# Marks: an interval wider than +-UNSTABLE_HALF of the median is unstable;
# a gap that holds most of the spread splits the samples into two modes.
UNSTABLE_HALF = 0.05
BIMODAL_GAP = 1.25  # the two modes' edges differ by at least 25% ...
BIMODAL_SHARE = 0.5  # ... and the gap is at least half the log range


@dataclass
class Estimate:
    value: float  # median (or ratio of medians)
    lo: float  # 95% interval; nan when n is too small for one
    hi: float
    n: int
    mark: str = ""  # "", "unstable" or "bimodal"

    def rel_halfwidth(self):
        if not (self.value and math.isfinite(self.lo) and math.isfinite(self.hi)):
            return math.inf
        return (self.hi - self.lo) / 2 / self.value


def _clean(x):
    a = np.asarray([v for v in x if v is not None and math.isfinite(v)], dtype=float)
    return a


def _median(a, axis=-1):
    return np.median(a, axis=axis)


def _ratio(a, b, axis=-1):
    return np.median(a, axis=axis) / np.median(b, axis=axis)


def _boot(data, stat, seed):
    """Percentile bootstrap: BCa needs more samples than a bench has, and
    degenerates on identical values, where the percentile interval is exact."""
    if any(len(d) < 3 for d in data):
        return math.nan, math.nan
    if all(np.ptp(d) == 0 for d in data):
        v = float(stat(*[d[None, :] for d in data])[0])
        return v, v
    res = sst.bootstrap(data, stat, n_resamples=RESAMPLES, confidence_level=CONF,
                        method="percentile", vectorized=True, paired=False,
                        random_state=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def shape(x):
    """'bimodal' when one gap splits the sorted samples into two groups of
    at least two, far apart; '' otherwise (the interval decides 'unstable')."""
    a = np.sort(_clean(x))
    a = a[a > 0]
    if len(a) < 4:
        return ""
    lx = np.log(a)
    spread = lx[-1] - lx[0]
    if spread <= 0:
        return ""
    gaps = np.diff(lx)
    i = int(np.argmax(gaps))
    left, right = i + 1, len(a) - i - 1
    if (min(left, right) >= 2 and gaps[i] >= math.log(BIMODAL_GAP)
            and gaps[i] >= BIMODAL_SHARE * spread):
        return "bimodal"
    return ""


def mark_of(est, samples):
    m = shape(samples)
    if m:
        return m
    if est.n >= 3 and est.rel_halfwidth() > UNSTABLE_HALF:
        return "unstable"
    return ""


def median_ci(x, seed=0):
    a = _clean(x)
    if len(a) == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, "")
    lo, hi = _boot((a,), _median, seed)
    est = Estimate(float(np.median(a)), lo, hi, len(a))
    est.mark = mark_of(est, a)
    return est


def ratio_ci(num, den, seed=0):
    """median(num) / median(den), the two samples resampled independently."""
    a, b = _clean(num), _clean(den)
    if len(a) == 0 or len(b) == 0 or np.median(b) == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, "")
    lo, hi = _boot((a, b), _ratio, seed)
    est = Estimate(float(np.median(a) / np.median(b)), lo, hi, min(len(a), len(b)))
    m = shape(a) or shape(b)
    est.mark = m or ("unstable" if est.n >= 3 and est.rel_halfwidth() > 2 * UNSTABLE_HALF
                     else "")
    return est


@dataclass
class Verdict:
    verdict: str  # "slower", "faster", "same"; "slower?", "faster?" on unstable points
    ratio: Estimate  # new / base
    p_slower: float
    p_faster: float
    note: str = ""


def verdict(base, new, threshold=0.05, alpha=ALPHA, seed=0):
    """'slower' only when new is significantly slower (one-sided
    Mann-Whitney p < alpha) AND the whole interval of new/base lies beyond
    1 + threshold AND neither side is unstable or bimodal; 'faster'
    likewise; 'same' otherwise. A change that passes the first two on an
    unstable point is 'slower?' ('faster?'): the test assumes the runs of
    each side are alike, and a machine whose state moved during a run (the
    mark says it did) can move between runs too. Values are costs (ns per
    op): larger is slower."""
    a, b = _clean(base), _clean(new)
    r = ratio_ci(b, a, seed)
    if len(a) < 2 or len(b) < 2:
        return Verdict("same", r, math.nan, math.nan, "too few runs for a test")
    p_slow = float(sst.mannwhitneyu(b, a, alternative="greater").pvalue)
    p_fast = float(sst.mannwhitneyu(b, a, alternative="less").pvalue)
    marks = [m for m in (median_ci(a, seed).mark, median_ci(b, seed).mark) if m]
    note = (marks[0] if len(set(marks)) == 1 else "+".join(marks)) if marks else ""
    if p_slow < alpha and r.lo > 1 + threshold:
        return Verdict("slower?" if note else "slower", r, p_slow, p_fast, note)
    if p_fast < alpha and r.hi < 1 / (1 + threshold):
        return Verdict("faster?" if note else "faster", r, p_slow, p_fast, note)
    return Verdict("same", r, p_slow, p_fast, note)


def min_runs_for(alpha=ALPHA):
    """The fewest runs per side for which the exact test can reach alpha."""
    n = 2
    while 1 / math.comb(2 * n, n) >= alpha:
        n += 1
    return n
