"""The dashboard's statistics: change between waves, gap change and the comparator, with 95% CIs.

Change between two waves is the difference of the two waves' means (the figures the table
shows), so it reveals nothing the means do not. Its interval comes from the linear model
``score ~ wave`` with standard errors clustered by participant: a person who answered both
waves is one unit, not two strangers. The estimator is the cluster-robust sandwich with the
small-sample factor G/(G-1) alone (G = people), called CR1 by clubSandwich and HC0 with the
cluster adjustment by sandwich: R's ``sandwich::vcovCL(fit, cluster = ~id, type = "HC0",
cadjust = TRUE)`` = ``clubSandwich::vcovCR(fit, cluster = id, type = "CR1")``, with t on G - 1
degrees of freedom. It is deliberately *not* Stata's ``vce(cluster)`` (clubSandwich's "CR1S"),
which multiplies by a further (N-1)/(N-K) over the N answers and K = 2 coefficients: with that
factor the interval would be wider than the paired t-test's, and without it, when everyone
answered both waves, this is exactly the paired t-test (R: ``t.test(after, before, paired =
TRUE)``). tests/dashboard/reference/change.R holds the R calls behind the tests' numbers.
The comparator is Welch's two-sample t-test (R: ``t.test(trust, others)``).

With fewer than two people (or nobody at one of the waves) there is no interval, and the
functions say so in words (a NoInterval) rather than dividing by zero: the statistics do not
rely on PEERPULSE_MIN_GROUP_SIZE being sane, although survey/config.py refuses values below 3.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping

BETTER, WORSE, NO_CLEAR_CHANGE = "better", "worse", "no clear change"
NARROWING, WIDENING = "narrowing", "widening"
ABOVE, BELOW, SIMILAR = "significantly above", "significantly below", "similar"


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A difference with its standard error and degrees of freedom, and its 95% interval."""

    value: float
    se: float
    df: float

    @functools.cached_property
    def half_width(self) -> float:
        """Half the width of the 95% t interval (0 when there is no spread at all)."""
        if self.se == 0:
            return 0.0
        # stdtrit is the t quantile (R's qt) without scipy.stats' per-call overhead; imported
        # here so that starting the app does not import scipy.
        from scipy import special

        return float(special.stdtrit(self.df, 0.975)) * self.se

    @property
    def ci(self) -> tuple[float, float]:
        """The 95% confidence interval."""
        return self.value - self.half_width, self.value + self.half_width

    @property
    def sign(self) -> int:
        """+1 when the whole interval is above 0, -1 when below, 0 when it includes 0."""
        low, high = self.ci
        return 1 if low > 0 else -1 if high < 0 else 0


@dataclasses.dataclass(frozen=True)
class NoInterval:
    """A difference (when there is one) that has no interval, and why, in words."""

    value: float | None
    reason: str


def change(before: Mapping[int, float], after: Mapping[int, float]) -> Estimate | NoInterval:
    """Mean of `after` minus mean of `before` (participant id -> score), clustered by person.

    Var = G/(G-1) * sum_i u_i^2 over the G people in either wave, where
    u_i = (after_i - mean_after)/n_after - (before_i - mean_before)/n_before (a term is 0 when
    the person has no score at that wave); t on G - 1 degrees of freedom (CR1, see above).
    A NoInterval when a wave has no scores or only one person answered at all.
    """
    n1, n2 = len(before), len(after)
    if not n1 or not n2:
        return NoInterval(None, "no interval: nobody answered at one of the waves")
    m1 = math.fsum(before.values()) / n1
    m2 = math.fsum(after.values()) / n2
    people = before.keys() | after.keys()
    total = math.fsum(
        (((after[i] - m2) / n2 if i in after else 0.0)
         - ((before[i] - m1) / n1 if i in before else 0.0)) ** 2
        for i in people
    )
    g = len(people)
    if g < 2:
        return NoInterval(m2 - m1, "no interval: only one person answered, so there is no "
                                   "spread between people to estimate it from")
    return Estimate(m2 - m1, math.sqrt(g / (g - 1) * total), g - 1)


def difference(first: Estimate, second: Estimate) -> Estimate:
    """first - second for independent estimates; Welch-Satterthwaite degrees of freedom."""
    v1, v2 = first.se**2, second.se**2
    se = math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / first.df + v2**2 / second.df) if se else first.df + second.df
    return Estimate(first.value - second.value, se, df)


@dataclasses.dataclass(frozen=True)
class Summary:
    """n, mean and sample variance of a group's scores."""

    n: int
    mean: float
    variance: float

    @classmethod
    def of(cls, scores: list[float]) -> Summary:
        """From the scores themselves."""
        n = len(scores)
        mean = math.fsum(scores) / n
        return cls(n, mean, math.fsum((x - mean) ** 2 for x in scores) / (n - 1) if n > 1 else 0.0)

    @classmethod
    def from_sums(cls, n: int, total: float, squares: float) -> Summary:
        """From the count, sum and sum of squares that SQL aggregates."""
        mean = total / n
        return cls(n, mean, max(squares - n * mean * mean, 0.0) / (n - 1) if n > 1 else 0.0)


def welch(trust: Summary, others: Summary) -> Estimate | NoInterval:
    """Trust mean minus comparator mean, Welch's t (R: t.test(trust, others)$conf.int).

    A NoInterval when either side has fewer than two people (no variance to compare).
    """
    if trust.n < 2 or others.n < 2:
        return NoInterval(trust.mean - others.mean if trust.n and others.n else None,
                          "no interval: fewer than two people on one side of the comparison")
    a, b = trust.variance / trust.n, others.variance / others.n
    se = math.sqrt(a + b)
    df = (a + b) ** 2 / (a**2 / (trust.n - 1) + b**2 / (others.n - 1)) if se else trust.n + others.n - 2
    return Estimate(trust.mean - others.mean, se, df)


def change_verdict(estimate: Estimate, higher_is_better: bool = True) -> str:
    """"better", "worse" or "no clear change" (the 95% interval includes 0)."""
    direction = estimate.sign if higher_is_better else -estimate.sign
    return BETTER if direction > 0 else WORSE if direction < 0 else NO_CLEAR_CHANGE


def gap_verdict(gap_from: float, gap_to: float, estimate: Estimate) -> str:
    """"narrowing" when the gap moved clearly toward 0, "widening" when clearly away from it."""
    if estimate.sign == 0 or abs(gap_to) == abs(gap_from):
        return NO_CLEAR_CHANGE
    return NARROWING if abs(gap_to) < abs(gap_from) else WIDENING


def benchmark_verdict(estimate: Estimate) -> str:
    """"significantly above", "significantly below" or "similar" to the comparator."""
    return ABOVE if estimate.sign > 0 else BELOW if estimate.sign < 0 else SIMILAR
