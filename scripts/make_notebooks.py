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
sys.path.insert(0, str(REPO))  # the package of this checkout, installed or not
sys.path.insert(0, str(Path(__file__).resolve().parent))  # notebook_cells beside this file

from notebook_cells import SETUP, SETUP_TEXT, Cell, analyst, code, make, md, params  # noqa: E402

from instantly_nb.views import (  # noqa: E402
    ABParams,
    CampaignParams,
    DeliverabilityParams,
    SummaryParams,
)

SUMMARY = [
    md('''
# Summary

The period at a glance: the key figures against the previous period of the same length, the
A/B winners, the sending accounts that need action and what to do about it.
'''),
    params("Summary", SummaryParams),
    SETUP_TEXT,
    SETUP,
    md('''
## How to read it

Each figure is shown with its value in the previous period of the same length. A change is
called *more than chance* only when a statistical test says it is unlikely to be week-to-week
variation; otherwise it reads *within normal variation*. A/B winners count every send since the
test began, not only this period's. Accounts are listed once, with every reason they need a look.
'''),
    code('''
params = views.SummaryParams(noise_alpha=noise_alpha, max_actions=max_actions)
section = views.summary.view(views.summary.load(scope), params)
nbh.headline(section.headline)
'''),
    code('nbh.markdown(views.UTC_NOTE + " " + section.notes["ab_period"])'),
    analyst('''
## Where the figures come from

`views.summary.view` builds this headline from the same views as the other notebooks:
`views.campaigns` (this and the previous period), `views.ab` (verdicts over the tests' life)
and `views.deliverability` (alerts). `section.headline` is the dict the report renders;
`section.tables["ab"]` holds every A/B comparison behind the winners.
'''),
]

CAMPAIGN_OVERVIEW = [
    md('''
# Campaign overview

How are the campaigns doing? For a date window this shows which campaigns run, how many
leads they reached, how many replied and became opportunities, how the reply rate moves from day
to day and week to week, and which campaigns do best and worst.

**How to read the numbers.** Every rate comes with a 95% *interval*: the range the true rate
very likely lies in, given how many leads were contacted. Intervals are narrow for big campaigns
and wide for small ones, so two campaigns whose intervals overlap may not really differ. Rates
over several campaigns are *pooled*: all replies divided by all leads contacted, never an
average of percentages.
'''),
    params("Campaign overview", CampaignParams),
    SETUP_TEXT,
    SETUP,
    code(make("params", CampaignParams) + '''
section = views.campaigns.view(views.campaigns.load(scope), params)
'''),
    md('''
## Campaigns at a glance

Campaigns by status: active campaigns send, paused, completed and draft ones do not; a negative
status (for example *Accounts Unhealthy*) means Instantly stopped sending for a reason.
'''),
    code('nbh.show_table(section, "status", "Campaigns by status")'),
    md('Totals for the window, over every campaign in scope:'),
    code('nbh.note(section, "summary")'),
    md('''
## Campaign by campaign

One row per campaign, largest first. *Reply rate* is leads who replied (automatic replies left
out) / new leads contacted, *opportunity rate* opportunities / new leads contacted, *bounce rate*
bounces / leads contacted, each with its interval. *Replied* and *new leads contacted* are the
two counts behind the reply rate.
'''),
    analyst('The campaign id in the last column is what the `campaign_ids` parameter takes.'),
    code('''
nbh.show_table(section, "campaigns", "Campaigns",
               caption="Counts for the window; rates with 95% intervals.")
'''),
    md('''
## Funnel

From leads contacted to replies, opportunities and closed deals, pooled over the campaigns in
scope. Each bar is a share of the leads contacted; the whiskers are intervals. Opens and clicks
are shown but deserve little trust: open tracking may be off, and mail scanners open mail and
follow links automatically.
'''),
    code('nbh.chart(section, "funnel")'),
    md('''
## Pooled rates

Each rate over all campaigns in scope, with its interval. The definitions are listed at the end.
'''),
    code('''
nbh.show_table(section, "pooled", "Pooled rates")
report.definitions(nbh.definitions(("reply", "open", "click", "bounce", "unsubscribe",
                                    "opportunity")))
'''),
    md('''
## Trends

Daily analytics count each event on the day it happened: a reply on Tuesday may answer an email
sent the week before. Read the lines as "replies this period per email sent this period"; the
band is the interval, wide on quiet days.
'''),
    code('nbh.chart(section, "daily")'),
    md('''
Week by week (Monday to Sunday; the first and last week of the window may be partial, see
*days with data*). *Change* compares each week with the one before.
'''),
    code('nbh.chart(section, "weekly")'),
    code('nbh.show_table(section, "weekly", "Week by week")'),
    md('''
## Best and worst campaigns

Ranked by reply rate. The last column says whether a campaign's interval lies above or below the
pooled reply rate of the ranked campaigns; *not clearly different* means its place in the
ranking may be luck.
'''),
    code('nbh.note(section, "ranking")'),
    code('nbh.show_table(section, "ranking", "Best and worst campaigns by reply rate")'),
    analyst('''
## Where next

* **ab_testing**: which subject lines and bodies win, step by step.
* **deliverability**: whether the sending accounts land in the inbox.
* **leads_and_replies**: lead status, interest and how fast leads reply.
* `instantly_nb.explore(client)`: the same views with widgets, tables and CSV export.
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
* **not enough data**: too few sends to tell yet; see *sends still needed* below;
* **control**: variant A itself.
'''),
    params("A/B tests", ABParams),
    SETUP_TEXT,
    SETUP,
    code(make("params", ABParams) + '''
section = views.ab.view(views.ab.load(scope, params), params)
'''),
    md('## How the verdicts are reached'),
    code('nbh.ab_note(params)'),
    code('nbh.note(section, "period")'),
    code('nbh.note(section, "summary")'),
    md('''
## Variants by step

One panel per campaign and step. Dots are rates, bars their intervals, the dashed line is
variant A's rate; colour and shape give the verdict. Hover a dot for the subject line, the counts
and the probability that the variant is the best of its step.
'''),
    code('nbh.chart_pages(section, "variant_pages")'),
    md('''
## Every comparison

Variants compared with the A of their step, with the subject line and the first words of each
e-mail. *Lift* is the difference in rate from A (in points), *prob best* the chance that this
variant is the best of its step given the data.
'''),
    code('nbh.show_table(section, "verdicts", "Variants compared with A")'),
    md('''
## Sends still needed

For the comparisons without a verdict: how many sends per variant would give an 80% chance to
detect the lift seen so far, and how many more the smaller of the two arms needs. A huge number
means the variants are so close that the difference is not worth chasing.
'''),
    code('nbh.show_table(section, "sends_needed", "Sends still needed")'),
    code('report.definitions(nbh.definitions((params.metric,), denominator="sent"))'),
]

DELIVERABILITY = [
    md('''
# Deliverability: sending accounts

Are the sending accounts healthy? Warmup mail tells where mail from each account lands: the
**inbox rate** is warmup mail landing in the inbox / warmup mail placed (inbox + spam). The
**health score** is Instantly's 7-day warmup figure; the *estimate* rebuilds it from the daily
data so it has a history. The **bounce rate** is bounced / sent campaign mail. Alerts come first,
each saying what is wrong with the account.
'''),
    params("Deliverability", DeliverabilityParams),
    SETUP_TEXT,
    SETUP,
    code(make("params", DeliverabilityParams) + '''
section = views.deliverability.view(views.deliverability.load(scope, params), params)
'''),
    md('''
## Alerts

Critical first, as of the last day of the window.
'''),
    code('report.alerts(section.tables["alerts"])'),
    code('nbh.chart(section, "alerts")'),
    md('''
## Accounts

The state of each account on the last day of the window, weakest first: Instantly's health score
(today's), the estimate from warmup placement, its change over the trailing days, the inbox
rate with its interval, the campaign bounce rate and the campaign mail sent in the window.
'''),
    code('nbh.show_table(section, "accounts", "Sending accounts")'),
    md('''
## Inbox placement over time

The accounts with the lowest inbox rate: top, the trailing inbox rate (line) and each day's
rate (dots); bottom, the health estimate (dashed) and Instantly's score (diamond).
'''),
    code('nbh.chart(section, "health")'),
    md('''
## Bounces

Campaign mail bounced / sent per account over the window, highest first. Above 2% deserves a
look; above 5% the account or the lead list needs attention.
'''),
    code('nbh.show_table(section, "bounces", "Bounce rate by account")'),
    md('''
## Inbox placement tests

Seed tests send a real email to test inboxes and record where it lands. Results within the
window; a test with nothing placed in the window shows empty rates.
'''),
    code('nbh.show_table(section, "placement", "Inbox placement tests")'),
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
    params("Leads and replies", extra='''
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
    params("Workspace tour", extra='''
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
    "summary": SUMMARY,
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
