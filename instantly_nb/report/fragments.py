"""HTML fragments built from checked payloads: tables, alerts, definitions, notices.

Every piece of text goes through :func:`esc`; JSON placed inside ``<script>`` goes through
:func:`json_for_script`. Nothing here copies markup from a notebook. The same functions build the
``text/html`` fallback that JupyterLab shows (``interactive=False``: no buttons, no data block).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .formatting import MISSING, format_ci, format_value, parse_format
from .payloads import csv_text

__all__ = [
    "alerts_html",
    "definitions_html",
    "esc",
    "header_keys",
    "json_for_script",
    "notice_html",
    "table_html",
]

_NUMERIC = ("int", "number", "percent", "delta", "pvalue")
#: Alerts listed before the rest fold into "Show N more".
ALERTS_SHOWN = 10
#: Account lines listed before the rest fold into "Show N more accounts".
ACCOUNTS_SHOWN = 5
_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
#: Alert details that name the account an alert is about (alerts group by it).
ACCOUNT_KEYS = ("email", "account")
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def esc(text: Any) -> str:
    """Escape text for HTML content and quoted attribute values."""
    return html.escape("" if text is None else str(text), quote=True)


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def json_for_script(obj: Any) -> str:
    """Serialise JSON so it is inert inside ``<script type="application/json">``.

    ``<``, ``>``, ``&`` and the JavaScript line separators U+2028/U+2029 are written as
    ``\\u`` escapes, so neither ``</script>`` nor ``<!--`` in the data can end the element;
    ``JSON.parse`` reads the escapes back. Non-finite floats become ``null``.
    """
    text = json.dumps(_finite(obj), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escaped in _SCRIPT_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def _text_of(row: Sequence[Any], col: Mapping[str, Any], index: Mapping[str, int]) -> str:
    value = row[index[col["name"]]]
    if col["ci"]:
        low, high = (row[index[b]] for b in col["ci"])
        return format_ci(value, low, high, col["format"])
    return format_value(value, col["format"])


def _cell(row: Sequence[Any], col: Mapping[str, Any], index: Mapping[str, int]) -> str:
    value = row[index[col["name"]]]
    kind, _ = parse_format(col["format"])
    text = _text_of(row, col, index)
    numeric = kind in _NUMERIC
    sort = ""
    if numeric and isinstance(value, (int, float)) and not isinstance(value, bool):
        sort = f' data-sort="{esc(repr(value))}"'
    cls = "num" if numeric else kind
    return f'<td class="{cls}" data-label="{esc(col["label"])}"{sort}>{esc(text)}</td>'


def _more_cell(
    row: Sequence[Any], columns: Sequence[Mapping[str, Any]], index: Mapping[str, int]
) -> str:
    pairs = "".join(
        f"<dt>{esc(c['label'])}</dt><dd>{esc(_text_of(row, c, index))}</dd>" for c in columns
    )
    return (
        '<td class="more-cell"><details class="more"><summary>More</summary>'
        f"<dl>{pairs}</dl></details></td>"
    )


def header_keys(col: Mapping[str, Any]) -> tuple[str, str]:
    """The names a column answers to when matched with a definition: label and spaced name."""
    return col["label"].strip().lower(), col["name"].replace("_", " ").strip().lower()


def _header(col: Mapping[str, Any], interactive: bool, footnotes: Mapping[str, int]) -> str:
    kind, _ = parse_format(col["format"])
    cls = ' class="num"' if kind in _NUMERIC else ""
    label = esc(col["label"])
    note = next((footnotes[k] for k in header_keys(col) if k in footnotes), None)
    ref = f'<sup><a href="#def-{note}" class="fn-ref">[{note}]</a></sup>' if note else ""
    if interactive:  # the page's script turns the label into a sort button
        return f'<th scope="col"{cls} aria-sort="none">{label}{ref}</th>'
    return f'<th scope="col"{cls}>{label}{ref}</th>'


def table_html(
    table: Mapping[str, Any],
    *,
    interactive: bool = True,
    table_id: str = "t1",
    footnotes: Mapping[str, int] | None = None,
) -> str:
    """HTML of one checked table payload (see :func:`payloads.read_table`).

    Parameters
    ----------
    table : Mapping
        A payload returned by :func:`payloads.read_table`.
    interactive : bool
        Add the sort buttons, the CSV button and the embedded CSV (see
        :func:`payloads.csv_text`).
    table_id : str
        Unique id within the page (letters, digits, ``-``).
    footnotes : Mapping, optional
        Lower-cased column label -> footnote number, to link headers to definitions.
    """
    notes = footnotes or {}
    columns = [c for c in table["columns"] if not c["hidden"] and not c.get("detail")]
    more = [c for c in table["columns"] if not c["hidden"] and c.get("detail")]
    index = {c["name"]: i for i, c in enumerate(table["columns"])}
    head = "".join(_header(c, interactive, notes) for c in columns)
    if more:
        head += '<th scope="col" class="more-cell">Details</th>'
    body = "".join(
        "<tr>"
        + "".join(_cell(row, c, index) for c in columns)
        + (_more_cell(row, more, index) if more else "")
        + "</tr>"
        for row in table["rows"]
    )
    ident = f' id="{esc(table_id)}"' if interactive else ""
    parts = [f'<figure class="ink-table"{ident}>']
    if table["title"]:
        parts.append(f"<figcaption>{esc(table['title'])}</figcaption>")
    if interactive:
        parts.append(
            f'<div class="toolbar"><button type="button" class="csv" data-table="{esc(table_id)}">'
            "Download CSV</button></div>"
        )
    parts.append(f'<div class="scroll"><table><thead><tr>{head}</tr></thead>')
    parts.append(f"<tbody>{body}</tbody></table></div>")
    shown, total = len(table["rows"]), table["total_rows"]
    if total > shown:
        parts.append(f'<p class="note">Showing the first {shown:,} of {total:,} rows.</p>')
    if table["caption"]:
        parts.append(f'<p class="caption">{esc(table["caption"])}</p>')
    if interactive:
        data = {"filename": table["filename"] + ".csv", "csv": csv_text(table)}
        parts.append(
            f'<script type="application/json" id="{esc(table_id)}-data">'
            f"{json_for_script(data)}</script>"
        )
    parts.append("</figure>")
    return "".join(parts)


def _detail(value: Any) -> str:
    if isinstance(value, float):
        return format_value(value, "number")
    return MISSING if value is None else str(value)


def _alert_item(alert: Mapping[str, Any], skip: Sequence[str] = ()) -> str:
    details = "".join(
        f"<dt>{esc(k)}</dt><dd>{esc(_detail(v))}</dd>"
        for k, v in alert["details"].items()
        if k not in skip
    )
    return (
        f'<li class="alert {esc(alert["severity"])}">'
        f'<span class="severity">{esc(alert["severity"])}</span> '
        f'<span class="message">{esc(alert["message"])}</span>'
        + (f'<dl class="details">{details}</dl>' if details else "")
        + "</li>"
    )


def _severity_counts(alerts: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(
        f"{n} {sev}"
        for sev in _SEVERITY_RANK
        if (n := sum(1 for a in alerts if a["severity"] == sev))
    )


def _account(alert: Mapping[str, Any]) -> str | None:
    value = next((alert["details"][k] for k in ACCOUNT_KEYS if alert["details"].get(k)), None)
    return None if value is None else str(value)


def _without_account(message: str, account: str) -> str:
    """A message without a leading ``account:`` (the group line already names the account)."""
    head = account + ":"
    return message[len(head):].strip() if message.startswith(head) else message


def _account_group(account: str, alerts: Sequence[Mapping[str, Any]]) -> str:
    worst = alerts[0]
    alerts = [{**a, "message": _without_account(a["message"], account)} for a in alerts]
    items = "".join(_alert_item(a, skip=ACCOUNT_KEYS) for a in alerts)
    return (
        f'<details class="account {esc(worst["severity"])}"><summary>'
        f'<span class="severity">{esc(worst["severity"])}</span> '
        f'<strong class="who">{esc(account)}</strong> '
        f'<span class="count">{len(alerts)} alert{"s" if len(alerts) != 1 else ""}</span>: '
        f'<span class="message">{esc(_without_account(worst["message"], account))}</span>'
        "</summary>"
        f"<ul>{items}</ul></details>"
    )


def alerts_html(
    groups: Sequence[Mapping[str, Any]],
    *,
    heading: str | None = "Alerts",
    shown: int = ALERTS_SHOWN,
) -> str:
    """HTML of alert payloads (see :func:`payloads.read_alerts`); empty text when none fired.

    Alerts are ordered critical, warning, info (stable within a severity). Alerts naming an
    account (detail ``email`` or ``account``) are grouped: one folded line per account, worst
    first, that opens on a click to its alerts; after ``ACCOUNTS_SHOWN`` lines the rest fold
    into "Show N more accounts". Of the others the first ``shown`` are listed
    and the rest sit in a native ``<details>`` element.
    """
    alerts = [alert for group in groups for alert in group["alerts"]]
    if not alerts:
        return ""
    alerts.sort(key=lambda a: _SEVERITY_RANK.get(a["severity"], len(_SEVERITY_RANK)))
    by_account: dict[str, list[Mapping[str, Any]]] = {}
    loose = []
    for alert in alerts:
        account = _account(alert)
        if account is None:
            loose.append(alert)
        else:
            by_account.setdefault(account, []).append(alert)
    body = ""
    if by_account:
        lines = [_account_group(k, v) for k, v in by_account.items()]
        body += (
            f'<p class="note">{len(lines)} account{"s" if len(lines) != 1 else ""}, worst '
            "first; open a line for its alerts.</p>" + "".join(lines[:ACCOUNTS_SHOWN])
        )
        if len(lines) > ACCOUNTS_SHOWN:
            body += (
                f'<details class="more-accounts"><summary>Show {len(lines) - ACCOUNTS_SHOWN} '
                f"more accounts</summary>{''.join(lines[ACCOUNTS_SHOWN:])}</details>"
            )
    items = [_alert_item(alert) for alert in loose]
    if items:
        body += f"<ul>{''.join(items[:shown])}</ul>"
    if len(items) > shown:
        body += (
            f"<details><summary>Show {len(items) - shown} more</summary>"
            f"<ul>{''.join(items[shown:])}</ul></details>"
        )
    counts = _severity_counts(alerts)
    title = f"<h2>{esc(heading)} ({len(alerts)}: {esc(counts)})</h2>" if heading else ""
    return f'<section class="alerts" id="alerts">{title}{body}</section>'


def definitions_html(pairs: Sequence[tuple[str, str]], *, heading: str = "Definitions") -> str:
    """HTML of numbered metric definitions (footnotes ``def-1``, ``def-2``...)."""
    if not pairs:
        return ""
    items = "".join(
        f'<li id="def-{i}"><strong>{esc(name)}</strong>: {esc(text)}</li>'
        for i, (name, text) in enumerate(pairs, start=1)
    )
    return (
        f'<section class="definitions" id="definitions"><h2>{esc(heading)}</h2>'
        f"<ol>{items}</ol></section>"
    )


def notice_html(title: str, message: str, *, kind: str = "error") -> str:
    """A boxed notice, e.g. a notebook that failed or an output that could not be shown."""
    return (
        f'<div class="notice {esc(kind)}" role="note"><strong>{esc(title)}</strong> '
        f"<span>{esc(message)}</span></div>"
    )
