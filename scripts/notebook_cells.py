"""The building blocks of the ready-made notebooks: cell kinds, the parameters cell (written
from the views' params dataclasses, so defaults cannot drift) and the set-up cell every
notebook starts with. scripts/make_notebooks.py writes the notebooks from them."""

from __future__ import annotations

from dataclasses import fields

Cell = tuple[str, str, list[str]]


def md(text: str) -> Cell:
    return ("markdown", text.strip("\n"), [])


def code(text: str) -> Cell:
    return ("code", text.strip("\n"), [])


def analyst(text: str) -> Cell:
    """Narrative for analysts only: shown in the notebook, left out of the HTML report."""
    return ("markdown", text.strip("\n"), ["remove_cell"])


#: One comment per parameter, written after its default in the parameters cell.
COMMENTS = {
    "level": "confidence level of every interval",
    "min_contacted": "campaigns with fewer leads contacted are not ranked",
    "top_n": "how many best and worst campaigns to show",
    "metric": "reply, interested, opportunity, meeting, click or open",
    "alpha": "significance level, after adjusting for several variants",
    "test_start": 'first day A/B counts accumulate from "YYYY-MM-DD"; None = each campaign\'s start',
    "look_days": "days between two looks of the sequential A/B test",
    "window_days": "trailing days pooled for inbox, health and bounce figures",
    "health_min": "alert below this health score (points)",
    "health_drop": "alert when health fell this many points over the trailing window",
    "spam_rate_max": "alert when more warmup mail than this lands in spam",
    "bounce_warn": "warning at this campaign bounce rate",
    "bounce_critical": "critical at this campaign bounce rate",
    "volume_share": "note accounts sending this share of their daily limit",
    "accounts": "sending accounts (e-mail addresses) to look at; () = all in scope",
    "noise_alpha": "a change is more than noise when its test's p-value is below this",
    "max_actions": "at most this many 'what to do' lines",
}


def params(title: str, *kinds: type, extra: str = "") -> Cell:
    """The ``parameters`` cell: the shared window/selection/report settings, then the fields of
    each params dataclass in ``kinds`` with its default (so defaults cannot drift), then
    ``extra``."""
    common = f'''
# Parameters: papermill and `instantly-nb report` replace these values; edit them to explore.
start_date = None    # first day "YYYY-MM-DD" (UTC); None = the 30 full days that end yesterday
end_date = None      # last day "YYYY-MM-DD" (included); None = yesterday
campaign_ids = []    # campaign ids to include; [] = every campaign
title = {title!r}
scheduled = False    # True when a scheduled report runs this notebook
demo = False         # True in `instantly-nb report --demo` runs (data is generated)
'''
    lines = [common.strip("\n")]
    for kind in kinds:
        for f in fields(kind):
            default = getattr(kind(), f.name)
            assign = f"{f.name} = {default!r}"
            lines.append(f"{assign:<20} # {COMMENTS[f.name]}")
    if extra:
        lines.append(extra.strip("\n"))
    return ("code", "\n".join(lines), ["parameters"])


def make(var: str, kind: type, module: str = "views") -> str:
    """``var = views.Kind(field=field, ...)``: the params object from the parameters cell."""
    args = ", ".join(f"{f.name}=tuple({f.name})" if isinstance(getattr(kind(), f.name), tuple)
                     else f"{f.name}={f.name}" for f in fields(kind))
    return f"{var} = {module}.{kind.__name__}({args})"


SETUP = code('''
import instantly_nb
from instantly_nb import charts, metrics, report, views
from instantly_nb import notebook_helpers as nbh

client = instantly_nb.connect(scheduled=scheduled, demo=demo)  # no key: demo, unless scheduled
scope = views.load_scope(client, start_date, end_date, campaign_ids, demo=demo)
report.context(workspace=scope.workspace)
nbh.header(scope, title)
''')

SETUP_TEXT = analyst('''
## Connect

`instantly_nb.connect()` reads the API key from the `INSTANTLY_API_KEY` environment variable
(never type it into a cell: notebooks are shared and saved). Without a key it starts the
built-in demo workspace, so everything below also runs offline; a scheduled run without a key
stops with an error instead, so demo figures never stand in for the workspace's own. The figures come from
`instantly_nb.views`, the same functions the HTML report and the explorer use.
''')

