"""Write the ready-made notebooks in notebooks/ from the readable source below.

Each notebook is a list of cells: ``md(...)`` for narrative, ``code(...)`` for a few lines that
call the package, and one ``params(...)`` cell tagged ``parameters`` for papermill. Notebooks are
written without outputs, with ``execution_count`` null and stable cell ids, so regenerating
them changes nothing unless this file changed.

    python scripts/make_notebooks.py           # write notebooks/*.ipynb
    python scripts/make_notebooks.py --check   # exit 1 when a notebook differs from this source
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "notebooks"

Cell = tuple[str, str, list[str]]


def md(text: str) -> Cell:
    return ("markdown", text.strip("\n"), [])


def code(text: str) -> Cell:
    return ("code", text.strip("\n"), [])


def params(title: str, extra: str = "") -> Cell:
    """The ``parameters`` cell: the shared window/selection/report settings, then ``extra``."""
    common = f'''
# Parameters: papermill and `instantly-nb report` replace these values; edit them to explore.
start_date = None    # first day "YYYY-MM-DD"; None = the 30 full days that end yesterday
end_date = None      # last day "YYYY-MM-DD" (included); None = yesterday
campaign_ids = []    # campaign ids to include; [] = every campaign
title = {title!r}
scheduled = False    # True when a scheduled report runs this notebook
demo = False         # True in `instantly-nb report --demo` runs (data is generated)
'''
    return ("code", (common.strip("\n") + "\n" + extra.strip("\n")).strip("\n"), ["parameters"])


SETUP = code('''
import instantly_nb
from instantly_nb import charts, metrics, report
from instantly_nb import notebook_helpers as nbh

client = instantly_nb.connect()  # the INSTANTLY_API_KEY workspace, else the demo workspace
scope = nbh.load_scope(client, start_date, end_date, campaign_ids, demo=demo)
report.context(workspace=scope.workspace)
nbh.header(scope, title)
''')

SETUP_TEXT = md('''
## Connect

`instantly_nb.connect()` reads the API key from the `INSTANTLY_API_KEY` environment variable
(never type it into a cell: notebooks are shared and saved). Without a key it starts the
built-in demo workspace, so everything below also runs offline.
''')

CAMPAIGN_OVERVIEW = [
    md('''
# Campaign overview

How are the campaigns doing? For a date window this notebook shows which campaigns run, how many
leads they reached, how many replied and became opportunities, how the reply rate moves from day
to day and week to week, and which campaigns do best and worst.

**How to read the numbers.** Every rate comes with a 95% *interval*: the range the true rate
very likely lies in, given how many leads were contacted. Intervals are narrow for big campaigns
and wide for small ones, so two campaigns whose intervals overlap may not really differ. Rates
over several campaigns are *pooled*: all replies divided by all leads contacted, never an
average of percentages.
'''),
    params("Campaign overview", '''
level = 0.95         # confidence level of every interval
min_contacted = 100  # campaigns with fewer leads contacted are not ranked
top_n = 3            # how many best and worst campaigns to show
'''),
    SETUP_TEXT,
    SETUP,
    md('''
## Campaigns at a glance

Campaigns by status: active campaigns send, paused, completed and draft ones do not; a negative
status (for example *Accounts Unhealthy*) means Instantly stopped sending for a reason.
'''),
    code('nbh.show(nbh.status_counts(scope.campaigns), "Campaigns by status")'),
    md('Totals for the window, over every campaign in scope:'),
    code('''
analytics = nbh.campaign_analytics(scope)
nbh.campaign_summary(analytics, level=level)
'''),
    md('''
## Campaign by campaign

One row per campaign, largest first. *Reply rate* is leads who replied / leads contacted,
*opportunity rate* opportunities / leads contacted, *bounce rate* bounces / leads contacted,
each with its interval. The campaign id in the last column is what `campaign_ids` takes.
'''),
    code('''
table = nbh.campaign_table(analytics, level=level)
nbh.show(table, "Campaigns", caption="Counts for the window; rates with 95% intervals.")
'''),
    md('''
## Funnel

From leads contacted to replies, opportunities and closed deals, pooled over the campaigns in
scope. Each bar is a share of the leads contacted; the whiskers are intervals. Opens and clicks
are shown but deserve little trust: open tracking may be off, and mail scanners open mail and
follow links automatically.
'''),
    code('''
funnel = metrics.funnel(analytics, level=level)
charts.funnel(funnel)
'''),
    md('''
## Pooled rates

Each rate over all campaigns in scope, with the columns it divides, so the definition is never
in doubt. The definitions are listed at the end of the report.
'''),
    code('''
rates = nbh.pooled_rates(analytics, level=level)
nbh.show(rates, "Pooled rates")
report.definitions(nbh.definitions(("reply", "open", "click", "bounce", "unsubscribe",
                                    "opportunity")))
'''),
    md('''
## Trends

Daily analytics count each event on the day it happened: a reply on Tuesday may answer an email
sent the week before. Read the lines as "replies this period per email sent this period"; the
band is the interval, wide on quiet days.
'''),
    code('''
daily = nbh.campaign_daily(scope)
charts.trend(metrics.trends(daily, freq="1d", level=level))
'''),
    md('''
Week by week (ISO weeks, Monday to Sunday; the first and last week of the window may be
partial, see *days with data*). *Change* compares each week with the one before, with the
p-value of that difference.
'''),
    code('''
weekly = metrics.trends(daily, freq="1w", rates=("reply", "click"), level=level)
charts.trend(weekly, "reply")
'''),
    code('nbh.show(nbh.trend_table(weekly), "Week by week")'),
    md('''
## Best and worst campaigns

Ranked by reply rate among the campaigns with at least `min_contacted` leads contacted. The last
column says whether a campaign's interval lies above or below the pooled reply rate of the
ranked campaigns; *not clearly different* means its place in the ranking may be luck.
'''),
    code('''
ranking = nbh.best_and_worst(table, min_contacted=min_contacted, n=top_n)
nbh.show(ranking, "Best and worst campaigns by reply rate")
'''),
    md('''
## Where next

* **ab_testing**: which subject lines and bodies win, step by step.
* **deliverability**: whether the sending accounts land in the inbox.
* **leads_and_replies**: lead status, interest and how fast leads reply.
* `instantly_nb.explore(client)`: pick campaigns, dates and a metric interactively.
'''),
]

AB_TESTING = [
    md('''
# A/B tests: steps × variants

Each step of a sequence can have several variants (A, B, C, ...) that Instantly rotates between
leads. Variant **A is the control**: every other variant of the same step is compared with it.
The comparison uses **replies** by default, because opens are unreliable.

Verdicts:

* **winner** / **loser**: the variant's rate differs from A's by more than chance explains;
* **no significant difference**: enough data, no clear difference;
* **not enough data**: too few sends to tell; see *sends still needed* below;
* **control**: variant A itself.
'''),
    params("A/B tests", '''
metric = "reply"     # reply, open, click, opportunity, meeting or closed
alpha = 0.05         # significance level, after adjusting for several variants
power = 0.8          # chance to detect the lift when sizing the sends still needed
min_lift = None      # smallest lift worth detecting, e.g. 0.01 = one point; None = as seen
min_sends = 100      # below this many sends per arm a result is "not enough data"
'''),
    SETUP_TEXT,
    SETUP,
    md('## How the verdicts are reached'),
    code('nbh.ab_note(scheduled, metric=metric, alpha=alpha)'),
    code('''
steps = nbh.step_analytics(scope)
ab = metrics.step_variants(steps, metric=metric, alpha=alpha, power=power, min_lift=min_lift,
                           min_sends=min_sends, sequential=scheduled, by="campaign")
nbh.ab_summary(ab)
'''),
    md('''
## Variants by step

One row of panels per campaign, one panel per step. Dots are rates, bars their intervals, the
dashed line is variant A's rate; colour and shape give the verdict. Hover a dot for the counts,
the p-values and the probability that the variant is the best of its step.
'''),
    code('charts.step_variants(nbh.tested(ab))'),
    md('''
## Every comparison

Variants compared with the A of their step. *Lift* is the difference in rate from A (in points),
*p adjusted* the p-value after adjusting for the number of variants, *prob best* the chance that
this variant is the best of its step given the data.
'''),
    code('nbh.show(nbh.verdict_table(ab), "Variants compared with A")'),
    md('''
## Sends still needed

For the comparisons without a verdict: how many sends per variant would give an 80% chance to
detect the lift seen so far (or `min_lift`), and how many more the smaller of the two arms needs.
A huge number means the variants are so close that the difference is not worth chasing.
'''),
    code('nbh.show(nbh.sends_needed(ab), "Sends still needed")'),
    code('report.definitions(nbh.definitions((metric,), denominator="sent"))'),
]

DELIVERABILITY = [
    md('''
# Deliverability: sending accounts

Are the sending accounts healthy? Warmup mail tells where mail from each account lands: the
**inbox rate** is warmup mail landing in the inbox / warmup mail placed (inbox + spam). The
**health score** is Instantly's 7-day warmup figure; the *estimate* rebuilds it from the daily
data so it has a history. The **bounce rate** is bounced / sent campaign mail. Alerts come first,
each with the rule and threshold behind it (all thresholds are parameters).
'''),
    params("Deliverability", '''
window_days = 7          # trailing days pooled for inbox, health and bounce figures
health_min = 80.0        # alert below this health score (points)
health_drop = 5.0        # alert when health fell this many points over the trailing window
spam_rate_max = 0.10     # alert when more warmup mail than this lands in spam
bounce_warn = 0.02       # warning at this campaign bounce rate
bounce_critical = 0.05   # critical at this campaign bounce rate
volume_share = 0.90      # note accounts sending this share of their daily limit
'''),
    SETUP_TEXT,
    SETUP,
    code('''
data = nbh.sender_data(scope, window_days=window_days)
health = metrics.deliverability(data.warmup_daily, data.warmup_summary, data.accounts,
                                data.account_daily, window_days=window_days)
rules = metrics.AlertRules(health_min=health_min, health_drop=health_drop,
                           spam_rate_max=spam_rate_max, bounce_warn=bounce_warn,
                           bounce_critical=bounce_critical, volume_share=volume_share)
alerts = metrics.alerts(health, data.accounts, rules=rules, as_of=scope.window.end)
'''),
    md('''
## Alerts

Critical first. Each alert names the account, the rule, the value and the threshold, as of the
last day of the window.
'''),
    code('report.alerts(alerts)'),
    code('charts.alerts(alerts)'),
    md('''
## Accounts

The state of each account on the last day of the window, weakest first: Instantly's health score
(today's), the estimate from warmup placement, its change over the trailing window, the inbox
rate with its interval, the campaign bounce rate and the campaign mail sent in the window.
'''),
    code('nbh.show(nbh.account_table(health, data.accounts, scope.window), "Sending accounts")'),
    md('''
## Inbox placement over time

The accounts with the lowest inbox rate: top, the trailing-window inbox rate (line) and each
day's rate (dots); bottom, the health estimate (dashed) and Instantly's score (diamond).
'''),
    code('charts.deliverability(nbh.in_window(health, scope.window))'),
    md('''
## Bounces

Campaign mail bounced / sent per account over the window, highest first. Above 2% deserves a
look; above 5% the account or the lead list needs attention.
'''),
    code('nbh.show(nbh.bounce_table(data.account_daily, scope.window), "Bounce rate by account")'),
    md('''
## Inbox placement tests

Seed tests send a real email to test inboxes and record where it lands. Results within the
window; a test with nothing placed in the window shows empty rates.
'''),
    code('nbh.show(nbh.placement_results(scope, data.accounts), "Inbox placement tests")'),
    code('''
report.definitions([
    ("Inbox rate", "Warmup mail that landed in the inbox / warmup mail placed (inbox + spam)."),
    ("Health score", "Instantly's warmup health: share of warmup mail landing in the inbox "
     "over the last 7 days, in points."),
    *nbh.definitions(("bounce",), denominator="sent"),
])
'''),
]

LEADS_AND_REPLIES = [
    md('''
# Leads and replies

Where do the leads stand, how interested are the ones who answered, and how long do leads take
to reply after each step? This notebook shows counts only, never lead addresses.
'''),
    params("Leads and replies", '''
email_pages = 15     # pages of the e-mail listing sampled for reply timing (100 e-mails each;
                     # the API serves 20 pages a minute); None = every e-mail of the window
'''),
    SETUP_TEXT,
    SETUP,
    md('''
## Lead status

The state of every lead in the campaigns in scope today: still in the sequence (*Active*),
finished (*Completed*), *Bounced* or *Unsubscribed*.
'''),
    code('''
leads = nbh.scope_leads(scope)
nbh.show(nbh.breakdown(leads, "status_label"), "Leads by status")
'''),
    code('nbh.show(nbh.breakdown_by_campaign(leads, "status_label"), "Lead status by campaign")'),
    md('''
## Interest

The interest status set on leads that answered (by hand or by Instantly's AI), and how many
leads reached each status during the window.
'''),
    code('nbh.show(nbh.interest_breakdown(leads, scope.window), "Leads by interest status")'),
    md('''
## Reply timing

How long after each step's email the first reply arrived. The e-mail listing is limited to 20
pages a minute, so this reads a sample of the window's most recent e-mails (`email_pages`).
Automatic replies (out of office) are left out.
'''),
    code('''
emails = nbh.sample_emails(scope, max_pages=email_pages)
nbh.sample_note(emails)
'''),
    code('''
timing = metrics.reply_timing(emails.frame, by="step")
charts.reply_timing(timing)
'''),
    code('nbh.show(nbh.timing_table(timing), "Hours from send to first reply, by step")'),
    md('''
## Lead lists

Every lead list with its email verification results: *verified* addresses are safe to send to;
*invalid* ones bounce; *risky* and *catch-all* ones may.
'''),
    code('nbh.show(nbh.lead_list_table(client), "Lead lists and their verification")'),
]

WORKSPACE_TOUR = [
    md('''
# Workspace tour

Every kind of data the API exposes, each as a DataFrame, for exploring. The tour reads each
endpoint that needs no input from you (listings only up to `max_pages` pages, to stay quick);
endpoints that take a date window get the notebook's window. Endpoints that need an id are
listed at the end with what they need.
'''),
    params("Workspace tour", '''
max_pages = 1        # pages read per listing (100 rows each); None = read everything
'''),
    SETUP_TEXT,
    SETUP,
    md('''
## Every endpoint that needs no input

*rows* and *columns* of each frame, the requests it took, and *more* when the listing has more
pages than were read.
'''),
    code('''
tour = nbh.tour(client, window=scope.window, max_pages=max_pages)
nbh.show(tour.summary, "Endpoints read")
'''),
    md('## A look at each frame'),
    code('nbh.show_heads(tour, rows=3)'),
    md('''
## Endpoints that need input

Call these with the parameter they need, for example
`client.fetch("campaigns.get", id=...)` or `client.campaigns.get(id=...)`.
'''),
    code('nbh.show(nbh.input_needed(), "Endpoints that need input")'),
    md('''
## Your turn

Every frame of the tour is in `tour.frames`, keyed by endpoint name. For example, the first
campaign of the listing in full (`client.campaigns.get(id=...)`):
'''),
    code('''
campaigns = tour.frames["campaigns.list"]
one = nbh.fetch_for_first(client, "campaigns.get", campaigns)
report.table(one, title="campaigns.get")
'''),
]

NOTEBOOKS: dict[str, list[Cell]] = {
    "campaign_overview": CAMPAIGN_OVERVIEW,
    "ab_testing": AB_TESTING,
    "deliverability": DELIVERABILITY,
    "leads_and_replies": LEADS_AND_REPLIES,
    "workspace_tour": WORKSPACE_TOUR,
}


def build(name: str, cells: list[Cell]) -> nbformat.NotebookNode:
    """One notebook: no outputs, execution_count null, ids ``<name>-<n>``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, (kind, source, tags) in enumerate(cells):
        cell = (nbformat.v4.new_markdown_cell(source) if kind == "markdown"
                else nbformat.v4.new_code_cell(source))
        cell.id = f"{name.replace('_', '-')}-{i:02d}"
        if tags:
            cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(name: str) -> str:
    """The file text of notebook ``name``."""
    return nbformat.writes(build(name, NOTEBOOKS[name]), version=4) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of the notebooks")
    args = parser.parse_args(argv)
    stale = []
    for name in NOTEBOOKS:
        path = args.out / f"{name}.ipynb"
        text = render(name)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("out of date (run python scripts/make_notebooks.py):",
              ", ".join(str(p) for p in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
