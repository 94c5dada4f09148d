"""The page a reader sees, without a browser: headline, grouped alerts, CSV, e-mail, PDF errors."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from instantly_nb import report
from instantly_nb.report.email_page import email_page
from instantly_nb.report.fragments import table_html
from instantly_nb.report.headline import change_text, headline_payload, read_headline
from instantly_nb.report.mime import MIME_ALERTS, MIME_HEADLINE, MIME_TABLE
from instantly_nb.report.page import render_report
from instantly_nb.report.payloads import (
    PayloadError,
    csv_cell,
    csv_text,
    read_table,
    table_payload,
)
from instantly_nb.report.pdf import ChromiumNotFoundError, find_chromium, write_pdf

HOSTILE = '<img src=x onerror="window.__pwned = 1">'
WINDOW = report.Window(date(2026, 11, 17), date(2026, 11, 23), "previous-week")

HEADLINE: dict[str, Any] = {
    "period": {"start": "2026-11-17", "end": "2026-11-23"},
    "previous": {"start": "2026-11-10", "end": "2026-11-16"},
    "figures": [
        {"key": "sent", "label": "Emails sent", "value": 1200, "unit": "count",
         "previous": 1000, "change": 200, "noise": False, "definition": "Emails sent."},
        {"key": "reply_rate", "label": "Human reply rate", "value": 0.042, "unit": "rate",
         "previous": 0.038, "noise": True, "definition": "Human replies / leads contacted."},
    ],
    "winners": [{"campaign": "Q4", "step": 1, "variant": "B", "subject": "Quick idea",
                 "lift": 0.23}],
    "accounts": [{"email": "a@x.example", "reasons": ["Inbox rate fell to 71%.", HOSTILE]}],
    "actions": ["Pause a@x.example until its inbox rate recovers.", "Keep variant B."],
}


def _page(outputs: list[Any], **kwargs: Any) -> str:
    nb = new_notebook(cells=[new_markdown_cell("# Section"), new_code_cell("x", outputs=outputs)])
    return render_report(
        [("nb", nb, None)], title="Weekly", window=WINDOW,
        generated_at=datetime(2026, 11, 24, 7, 0, tzinfo=UTC), **kwargs,
    )


def _display(data: dict[str, Any]) -> Any:
    return new_output("display_data", data=data)


# -- headline -----------------------------------------------------------------------------------


def test_headline_reads_figures_changes_and_noise() -> None:
    data = read_headline(HEADLINE)
    sent, reply = data["figures"]
    assert change_text(sent) == "+200 (+20%)"
    assert reply["change"] == pytest.approx(0.004)  # computed when not given
    assert change_text(reply) == "+0.4 pp"
    assert reply["noise"] is True and sent["noise"] is False


@pytest.mark.parametrize(
    ("bad", "names"),
    [
        ({"figures": [{"key": "x", "value": "12", "unit": "count"}]}, "value"),
        ({"figures": [{"key": "x", "value": 1, "unit": "euros"}]}, "unit"),
        ({"figures": {}}, "figures"),
        ({"figures": [], "accounts": [{"email": "a", "reasons": 3}]}, "reasons"),
        ("not a dict", "object"),
    ],
)
def test_a_malformed_headline_is_refused_naming_the_key(bad: Any, names: str) -> None:
    with pytest.raises(PayloadError, match=names):
        headline_payload(bad)


def test_headline_is_shown_first_with_one_line_per_account() -> None:
    alerts = report.display.alerts_payload(
        [{"severity": "warning", "message": "a@x.example: health fell", "email": "a@x.example"}]
    )
    page = _page([
        _display({MIME_ALERTS: alerts, "text/plain": "a"}),
        _display({MIME_HEADLINE: headline_payload(HEADLINE), "text/plain": "h"}),
    ])
    body = page.split("</header>", 1)[1]
    assert body.index('id="summary"') < body.index('id="alerts"') < body.index('id="s1"')
    assert body.count('class="headline"') == 1  # shown once, at the top, not in place
    summary = body.split('id="summary"', 1)[1].split("</section>", 1)[0]
    assert "1,200" in summary and "+200 (+20%) vs 1,000" in summary
    assert "+0.4 pp vs 3.8%" in summary and "within noise" in summary
    assert "Q4, step 1: variant B “Quick idea” (+23% vs control)" in summary
    assert summary.count("<li") == 4  # two actions, one winner, one account
    assert "&lt;img src=x" in summary and "<img" not in summary
    assert "Inbox rate fell to 71%.; &lt;img" in summary  # phrases joined with semicolons


def test_headline_lists_a_few_accounts_and_winners_and_links_to_the_rest() -> None:
    data = {**HEADLINE,
            "accounts": [{"email": f"a{i}@x.example", "reasons": ["Spam 30%."]} for i in range(8)],
            "winners": [{**HEADLINE["winners"][0], "step": i} for i in range(1, 8)]}
    nb_ab = new_notebook(cells=[new_markdown_cell("# A/B tests")])
    nb = new_notebook(cells=[new_markdown_cell("# Overview"), new_code_cell("x", outputs=[
        _display({MIME_HEADLINE: headline_payload(data), "text/plain": "h"}),
        _display({MIME_ALERTS: report.display.alerts_payload(
            [{"severity": "warning", "message": "m", "email": "a0@x.example"}])})])])
    page = render_report([("o", nb, None), ("ab", nb_ab, None)], title="W", window=WINDOW)
    summary = page.split('id="summary"', 1)[1].split("</section>", 1)[0]
    assert summary.count('<li class="line"') == 10  # five accounts, five winners
    assert 'and 3 more: <a href="#alerts">see the alerts</a>' in summary
    assert 'and 2 more: <a href="#s2">see the A/B tests</a>' in summary
    assert "a0@x.example</strong>: Spam 30%.</li>" in summary


def test_alerts_group_by_account_worst_first_and_fold() -> None:
    rows = [
        {"severity": "warning", "message": f"a{i}@x.example: health fell", "email": f"a{i}@x.example"}
        for i in range(7)
    ]
    rows += [{"severity": "warning", "message": "spam", "email": "a0@x.example"},
             {"severity": "critical", "message": "banned", "email": "z@x.example"}]
    page = _page([_display({MIME_ALERTS: report.display.alerts_payload(rows)})])
    alerts = page.split('id="alerts"', 1)[1].split("</section>", 1)[0]
    assert "Alerts (9: 1 critical, 8 warning)" in alerts
    lines = re.findall(r'<strong class="who">([^<]+)</strong> <span class="count">(\d+) alert',
                       alerts)
    assert lines[0] == ("z@x.example", "1")
    assert ("a0@x.example", "2") in lines and len(lines) == 8  # one line per account
    shown, folded = alerts.split('<details class="more-accounts">', 1)
    assert shown.count('<details class="account') == 5
    assert "<summary>Show 3 more accounts</summary>" in folded
    assert "a0@x.example: health" not in alerts  # the line names the account once


# -- tables and CSV -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "  =1", "\u3000=1", "\uff1d1+1",
     "\uff0b1", "\uff0d1", "\uff20SUM(A1)", '=HYPERLINK("http://x")'],
)
def test_csv_neutralises_every_formula_lead(text: str) -> None:
    (field,) = next(csv.reader(io.StringIO(csv_cell(text))))
    assert field == "'" + text


def test_csv_quotes_every_field_and_keeps_numbers() -> None:
    frame = pl.DataFrame({"name": ["a,b", 'say "hi"', "-x", None], "n": [1, -2, 3, None],
                          "rate": [0.5, -0.25, None, 1e-06], "ok": [True, False, None, True]})
    table = read_table(table_payload(frame))
    text = csv_text(table)
    lines = text.split("\r\n")
    assert lines[0] == '"name","n","rate","ok"' and text.endswith("\r\n")
    assert all(re.fullmatch(r'("([^"]|"")*")(,"([^"]|"")*")*', line) for line in lines[:-1])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1:] == [["a,b", "1", "0.5", "true"], ['say "hi"', "-2", "-0.25", "false"],
                        ["'-x", "3", "", ""], ["", "", "1e-06", "true"]]


def test_wide_tables_fold_extra_columns_into_a_detail() -> None:
    frame = pl.DataFrame({f"c{i}": [i] for i in range(10)})
    table = read_table(table_payload(frame, detail=["c1"]))
    html = table_html(table)
    head = html.split("</thead>", 1)[0]
    assert re.findall(r'aria-sort="none">(c\d)</th>', head) == ["c0", "c2", "c3", "c4", "c5",
                                                               "c6", "c7"]
    assert "<th scope=\"col\" class=\"more-cell\">Details</th>" in head
    detail = html.split('<details class="more">', 1)[1]
    assert re.findall(r"<dt>(c\d)</dt>", detail) == ["c1", "c8", "c9"]
    assert '"c8"' in csv_text(table).split("\r\n")[0]  # folded columns stay in the CSV
    with pytest.raises(ValueError, match="detail"):
        table_payload(frame, detail=["nope"])


# -- e-mail variant and PDF ---------------------------------------------------------------------


def test_email_variant_has_no_script_and_inline_styles() -> None:
    table = table_payload(pl.DataFrame({"campaign": [HOSTILE], "sent": [10]}), title="T")
    page = _page([
        _display({MIME_HEADLINE: headline_payload(HEADLINE), "text/plain": "h"}),
        _display({MIME_TABLE: table, "text/plain": "t"}),
    ])
    mail = email_page(page)
    assert "<script" not in mail.lower() and "<style" not in mail and "<button" not in mail
    assert "<details" not in mail
    assert 'class="value" style="font-size:20px' in mail
    assert re.search(r'<th scope="col" class="num"[^>]* style="[^"]*text-align:right', mail)
    assert "1,200" in mail and "&lt;img src=x" in mail and "<img src=x" not in mail


def test_pdf_without_chromium_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ChromiumNotFoundError, match="apt-get install chromium"):
        find_chromium()
    page = tmp_path / "r.html"
    page.write_text("<p>x</p>")
    with pytest.raises(ChromiumNotFoundError):
        write_pdf(page, tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_cli_writes_the_email_variant_and_names_the_missing_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from instantly_nb.report.cli import main

    from .test_report_cli import FAKE_KEY, PROBE, fake_api

    monkeypatch.setenv("INSTANTLY_NB_CHROMIUM", str(tmp_path / "no-chromium-here"))
    with fake_api.FakeAPI({FAKE_KEY: "Acme"}) as api:
        monkeypatch.setenv("INSTANTLY_API_KEY", FAKE_KEY)
        monkeypatch.setenv("INSTANTLY_BASE_URL", api.url)
        code = main(["--notebook", PROBE, "--email", "--pdf", "--out", str(tmp_path),
                     "--start", "2026-11-17", "--end", "2026-11-23"])
    out, err = capfd.readouterr()
    assert code == 2  # the PDF could not be written: a configuration problem
    html, mail = (Path(line) for line in out.split())
    assert html.name == "instantly-report_2026-11-17_2026-11-23.html" and html.exists()
    assert mail.name == "instantly-report_2026-11-17_2026-11-23.email.html"
    assert "<script" not in mail.read_text() and "Acme" in mail.read_text()
    assert "apt-get install chromium" in err and FAKE_KEY not in out + err
    assert not list(tmp_path.glob("*.pdf*"))
