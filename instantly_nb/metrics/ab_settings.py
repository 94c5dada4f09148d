"""The one set of A/B defaults: :class:`ABSettings` and ``AB_DEFAULTS``.

Notebooks, the explorer and the report all hand the same settings object to
:func:`instantly_nb.metrics.step_variants`, so a verdict reads the same wherever it is shown.
Change a field with ``dataclasses.replace(AB_DEFAULTS, alpha=0.1)``.

The sequential test's mixing scale is tuned to the volume a cold-email step gets: the normal
mixture over the standardised effect has variance ``rho**2`` with

    rho**2 = (-2 ln(alpha) + ln(1 - 2 ln(alpha))) / expected_sends,

the choice that makes the always-valid boundary tightest when each arm has
``expected_sends`` sends (Howard, Ramdas, McAuliffe and Sekhon, "Time-uniform, nonparametric,
nonasymptotic confidence sequences", 2021; the same tuning by expected sample size that
GrowthBook and Eppo offer). In rate units the mixing standard deviation is
``tau = rho * sqrt(2 p (1 - p))`` at the pooled rate ``p`` of the two arms, so one setting suits
base rates from 0.5 % to 10 %. ``tau`` fixes the scale in rate units instead.

The default of 2,000 sends per variant keeps the boundary within about 2 % of its tightest for
every arm size from ~1,000 to ~6,500 sends, the range where cold-email tests are decided.
``bench/simulation.py`` measures the result: A/A tests read weekly for 26 weeks at 50-5,000
sends a week and 1-10 % base rates are called winner or loser well under 5 % of the time, even
with a handful of successes per arm, which is why no exact small-count variant is used.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

METRICS = ("reply", "open", "click", "opportunity", "interested", "meeting", "closed")


@dataclass(frozen=True)
class ABSettings:
    """Defaults of every A/B comparison (see :func:`instantly_nb.metrics.step_variants`).

    Attributes
    ----------
    metric : str
        ``"reply"`` (human replies: automatic replies are subtracted when the frame counts
        them), ``"open"``, ``"click"``, ``"opportunity"``, ``"meeting"`` or ``"closed"``.
    alpha : float
        Significance level after the Holm adjustment.
    level : float
        Confidence level of the rate intervals.
    power : float
        Power used for the "sends needed" figure.
    sequential : bool
        Use the always-valid mSPRT (for counts that are looked at again and again, as a
        scheduled report does); ``False`` = fixed-horizon z / Fisher test on the latest look.
    min_lift : float or None
        Smallest absolute rate difference worth detecting (0.01 = one point); ``None`` sizes
        the test for the lift seen so far.
    min_sends : int
        Below this many sends in an arm a result that has not crossed is "not enough data".
    expected_sends : int
        Sends per variant the mSPRT mixing scale is tuned to (tens to thousands in cold email).
    tau : float or None
        Fixed mixing standard deviation in rate units (overrides ``expected_sends``).
    exclude_automatic : bool or None
        Reply metric: subtract automatic replies. ``None`` = when the frame has the column.
    test_start : datetime.date or None
        Day the test's counts accumulate from (``None`` = the campaign's start). Used by the
        callers that fetch step analytics; ``step_variants`` itself takes counts as given.
    prob_best_method : str
        ``"exact"`` or ``"mc"`` (see :mod:`instantly_nb.metrics.bayes`).
    seed : int
        Seed of the Monte Carlo probability of best.
    method : str
        Interval method: ``"wilson"``, ``"agresti_coull"`` or ``"jeffreys"``.
    """

    metric: str = "reply"
    alpha: float = 0.05
    level: float = 0.95
    power: float = 0.8
    sequential: bool = True
    min_lift: float | None = None
    min_sends: int = 100
    expected_sends: int = 2000
    tau: float | None = None
    exclude_automatic: bool | None = None
    test_start: dt.date | None = None
    prob_best_method: str = "exact"
    seed: int = 0
    method: str = "wilson"

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"ABSettings.alpha must be between 0 and 1, got {self.alpha!r}")
        if not 0.0 < self.power < 1.0:
            raise ValueError(f"ABSettings.power must be between 0 and 1, got {self.power!r}")
        if self.expected_sends < 1:
            raise ValueError("ABSettings.expected_sends must be a positive number of sends, "
                             f"got {self.expected_sends!r}")
        if self.tau is not None and not self.tau > 0:
            raise ValueError(f"ABSettings.tau must be positive (a rate difference such as "
                             f"0.01), got {self.tau!r}")
        if self.min_sends < 0:
            raise ValueError(f"ABSettings.min_sends must be 0 or more, got {self.min_sends!r}")

    @property
    def rho(self) -> float:
        """Mixing standard deviation of the standardised effect (see the module text)."""
        return mixing_rho(self.alpha, self.expected_sends)

    def describe(self) -> str:
        """One sentence naming the test and its settings, for notes under an A/B table."""
        if not self.sequential:
            return (f"Fixed-horizon test (z-test, or Fisher's exact test for small counts) at "
                    f"alpha {self.alpha:g} after Holm's adjustment, on the latest counts.")
        scale = (f"a fixed mixing scale of {self.tau:g}" if self.tau is not None
                 else f"its mixing scale tuned to {self.expected_sends:,} sends per variant")
        return (f"Always-valid sequential test (mSPRT, {scale}) at alpha {self.alpha:g} after "
                "Holm's adjustment; its p-value is the lowest over the looks so far, so a "
                "verdict once reached stays.")


def mixing_rho(alpha: float, expected_sends: float) -> float:
    """``rho`` that makes the mixture boundary tightest at ``expected_sends`` per arm."""
    la = -2.0 * math.log(alpha)
    return math.sqrt((la + math.log(la + 1.0)) / expected_sends)


AB_DEFAULTS = ABSettings()

__all__ = ["AB_DEFAULTS", "METRICS", "ABSettings", "mixing_rho"]
