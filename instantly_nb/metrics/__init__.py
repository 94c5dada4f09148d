"""Metrics: pure functions from analytics frames to tidy polars frames.

Nothing here fetches, draws or writes. Each function checks its required columns (a
``ValueError`` names the missing ones) and returns a frame with a fixed schema, empty when the
input is empty.

==========================  ===========================================================
function                    input -> output
==========================  ===========================================================
``rate``                    any analytics frame -> pooled rate + interval (per group)
``funnel``                  campaigns.analytics / analytics_overview -> funnel stages
``step_variants``           campaigns.analytics_steps (one or several cumulative looks)
                            -> A/B statistics and verdicts, defaults in ``AB_DEFAULTS``
``deliverability``          accounts.warmup_daily (+ summary, list, analytics_daily)
``alerts``                  deliverability() output (+ accounts.list) -> alert rows
``trends``                  campaigns.analytics_daily -> period series with change
``reply_delays``            emails.list -> one row per reply with its delay
``reply_timing``            emails.list -> delay distribution per step
``replies_by_hour``         emails.list -> replies per hour of the day in a chosen time zone
``rollup``                  frames with a workspace column -> pooled roll-up
==========================  ===========================================================

Metric definitions live in :mod:`instantly_nb.metrics.definitions` (``RATES`` and
``definitions()``, the text reports print); every rate is a proportion in [0, 1] or empty with a
note. The statistics live in :mod:`~instantly_nb.metrics.stats`, :mod:`~instantly_nb.metrics.bayes` and
:mod:`~instantly_nb.metrics.sequential`.
"""

from __future__ import annotations

from instantly_nb.metrics.ab import step_variants
from instantly_nb.metrics.ab_settings import AB_DEFAULTS, ABSettings
from instantly_nb.metrics.alerts import AlertRules, alerts
from instantly_nb.metrics.bayes import prob_best
from instantly_nb.metrics.definitions import DENOMINATORS, RATES, RateDef, rate
from instantly_nb.metrics.funnels import funnel
from instantly_nb.metrics.health import deliverability
from instantly_nb.metrics.portfolio import rollup
from instantly_nb.metrics.sequential import msprt_pvalue
from instantly_nb.metrics.stats import proportion_ci, sample_size_2prop
from instantly_nb.metrics.timeseries import trends
from instantly_nb.metrics.timing import replies_by_hour, reply_delays, reply_timing

__all__ = [
    "AB_DEFAULTS",
    "ABSettings",
    "DENOMINATORS",
    "RATES",
    "AlertRules",
    "RateDef",
    "alerts",
    "deliverability",
    "funnel",
    "msprt_pvalue",
    "prob_best",
    "proportion_ci",
    "rate",
    "replies_by_hour",
    "reply_delays",
    "reply_timing",
    "rollup",
    "sample_size_2prop",
    "step_variants",
    "trends",
]
